/**
 * Pods as Sluice sees them: their lifecycle ({@link dev.sluice.core.pod.PodState}), one
 * tracker per pod with its in-flight count ({@link dev.sluice.core.pod.PodTracker}), and the
 * sparse array that holds a revision's trackers ({@link dev.sluice.core.pod.PodTable}).
 *
 * <p>Start with {@code PodTable}'s implementation notes: one writer thread per revision
 * changes the table, any number of request threads read it without a lock, and an
 * availability index (one bit per slot) lets the policies skip full pods with word scans.
 */
package dev.sluice.core.pod;
