/**
 * The control path: it makes each revision's {@link dev.sluice.core.pod.PodTable} follow
 * reality as pods come, get ready, fail, drain and go.
 *
 * <p>Start with {@link dev.sluice.core.control.StateManager}: every change to a revision's
 * pods is an event in that revision's inbox, applied by its single writer
 * ({@code RevisionWriter}, one named method per operation). Events come from the pods
 * themselves ({@link dev.sluice.core.control.EventSource#POD}, authoritative for that pod),
 * from discovery (snapshots of {@link dev.sluice.core.control.Endpoint}s) and from the clock
 * ({@link dev.sluice.core.control.StateManager#tick()}). A pod unknown to Sluice that claims
 * READY is probed by a {@link dev.sluice.core.control.ReadinessCheck} before any tracker exists.
 */
package dev.sluice.core.control;
