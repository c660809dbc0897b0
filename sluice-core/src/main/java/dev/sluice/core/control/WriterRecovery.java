package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import java.time.Duration;

/**
 * One revision's failure and backoff state: after an operation throws, the revision's inbox
 * is held for an exponential backoff, then the writer reconciles and resumes.
 *
 * <h2>Implementation notes</h2>
 * Written only by the revision's worker thread (through {@link RevisionMailbox}, one batch at
 * a time), which also reads it before each batch. Read as well by the thread calling
 * {@link StateManager#tick()} ({@link #recoveryOverdue}), so every field is volatile. That
 * reader sees each field whole but not the set of them atomically, and needs no more:
 * {@link #failed(Operation, Throwable, long)} writes {@code failed} last, so a reader that sees
 * it set also sees the {@code firstFailureNanos} of that failure or of a newer one (the writer
 * may have recovered and failed again in between), which at worst delays the rejection by a
 * tick; rejecting waiters is safe at any time. All times are clock nanoseconds, compared by
 * difference.
 */
final class WriterRecovery {

    static final Duration INITIAL_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger(WriterRecovery.class.getName());
    private static final long INITIAL_BACKOFF_NANOS = INITIAL_BACKOFF.toNanos();
    private static final long MAX_BACKOFF_NANOS = MAX_BACKOFF.toNanos();

    private final RevisionId id;
    private final long recoveryTimeoutNanos;
    private final ControlMetrics metrics;

    private volatile int consecutiveFailures;
    private volatile long firstFailureNanos;
    private volatile long retryAtNanos;
    private volatile boolean failed;

    WriterRecovery(RevisionId id, Duration recoveryTimeout, ControlMetrics metrics) {
        this.id = id;
        this.recoveryTimeoutNanos = recoveryTimeout.toNanos();
        this.metrics = metrics;
    }

    /** Whether the revision failed and has not yet reconciled. */
    boolean needsRecovery() {
        return failed;
    }

    /** Whether the revision's inbox is held at {@code now}. */
    boolean isBackingOff(long now) {
        return failed && now - retryAtNanos < 0;
    }

    /** Whether the writer has been failing for longer than the recovery timeout. */
    boolean recoveryOverdue(long now) {
        return failed && now - firstFailureNanos >= recoveryTimeoutNanos;
    }

    int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** Applying {@code operation} threw: count it, log it, and hold the inbox (doubling, capped). */
    void failed(Operation operation, Throwable cause, long now) {
        int n = consecutiveFailures + 1;
        consecutiveFailures = n;
        if (!failed) {
            firstFailureNanos = now;
        }
        long backoff = INITIAL_BACKOFF_NANOS << Math.min(n - 1, 30);
        if (backoff <= 0 || backoff > MAX_BACKOFF_NANOS) {
            backoff = MAX_BACKOFF_NANOS;
        }
        retryAtNanos = now + backoff;
        failed = true;
        metrics.writerFailure(id, operation.label());
        LOG.log(System.Logger.Level.ERROR, id + ": writer failed applying " + operation + " (failure #" + n
                + "); backing off " + backoff / 1_000_000 + " ms, then reconciling", cause);
    }

    /** The writer reconciled: the inbox flows again. */
    void recovered() {
        failed = false;
        consecutiveFailures = 0;
    }
}
