/**
 * The control path: it makes each revision's {@link dev.sluice.core.pod.PodTable} follow
 * reality as pods come, get ready, fail, drain and go.
 *
 * <p>Start with {@link dev.sluice.core.control.StateManager}, the public facade: every change
 * to a revision's pods is an operation queued in that revision's inbox and applied by its
 * single writer. Events come from the pods themselves
 * ({@link dev.sluice.core.control.EventSource#POD}, authoritative for that pod), from discovery
 * (snapshots of {@link dev.sluice.core.control.Endpoint}s) and from the clock
 * ({@link dev.sluice.core.control.StateManager#tick()}). A pod unknown to Sluice that claims
 * READY is probed by a {@link dev.sluice.core.control.ReadinessCheck} before any tracker exists.
 *
 * <p>Then read, in the direction the calls go (no class calls a method of one above it;
 * what must report back upward does so through a callback it was given):
 * <ul>
 *   <li>{@code RevisionMailbox}: one revision's inbox, its {@code scheduled} flag and the batch
 *       loop; the single-writer argument lives here. Holds the writer back while
 *       {@code WriterRecovery} (the failure count and backoff) says so.</li>
 *   <li>{@code WriterPool}: the writer threads and their ready queues; knows nothing of
 *       revisions.</li>
 *   <li>{@code RevisionWriter}: the rules, one method per {@code Operation} (pod events,
 *       recalculation, sweep, passive health, readiness results, close, reconcile); knows
 *       nothing of threads. What it starts elsewhere reports back through the {@code Inbox} it
 *       is given.</li>
 *   <li>Under the writer, used by it alone: {@code PodAuthority} (what one observation does:
 *       the pod's own word over discovery, validation before a tracker exists, IP reuse),
 *       {@code TableEditor} (adds, moves and removes trackers, reports transitions), {@code ReadinessLedger} (pending checks, retries, last results,
 *       the operators' {@link dev.sluice.core.control.PodCheck} snapshot),
 *       {@code ReadinessProbes} (starts checks, posts results back) and
 *       {@code RecalculationLog} (each recalculation at DEBUG, a rate-limited INFO summary).</li>
 * </ul>
 *
 * <p>Public values and hooks: {@link dev.sluice.core.control.PodEvent},
 * {@link dev.sluice.core.control.RevisionSettings},
 * {@link dev.sluice.core.control.RecalculationSummary},
 * {@link dev.sluice.core.control.ControlMetrics} and
 * {@link dev.sluice.core.control.PodAuthenticator} (which the server's control API uses to
 * decide whether a pod report may be applied at all).
 */
package dev.sluice.core.control;
