package dev.sluice.core.control;

import dev.sluice.core.RevisionId;

/**
 * How one revision's recalculations are logged: each one at DEBUG, and at INFO a summary of
 * those that changed pods, at most once per {@link #SUMMARY_INTERVAL_NANOS} on the injected
 * clock. Discovery can recalculate many times a second (a rollout, a benchmark), so an INFO
 * line per recalculation would drown everything else; the summary says how many there were
 * and what they did in all.
 *
 * <h2>Implementation notes</h2>
 * Used by the revision's writer thread alone: plain fields, no lock. Times are passed in
 * (clock nanoseconds, compared by difference). Changes held back by the rate limit are written
 * by the next recalculation or sweep after the interval, so none is lost for longer than
 * about one interval plus one tick.
 */
final class RecalculationLog {

    /** At most one INFO summary per revision this often. */
    static final long SUMMARY_INTERVAL_NANOS = 10_000_000_000L;
    private static final System.Logger LOG = System.getLogger(RecalculationLog.class.getName());

    private final RevisionId id;
    private boolean summarized;
    private long lastSummaryNanos;
    // Since the last summary line.
    private int recalculations;
    private int changing;
    private long added;
    private long validating;
    private long draining;
    private long removed;
    private long changed;

    RecalculationLog(RevisionId id) {
        this.id = id;
    }

    /** One recalculation from a snapshot of {@code endpoints} did {@code s}. */
    void recalculated(int endpoints, RecalculationSummary s, long now) {
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: recalculated from {1} endpoints: {2}", id, endpoints, s);
        }
        recalculations++;
        if (s.added() != 0 || s.validating() != 0 || s.draining() != 0 || s.removed() != 0 || s.changed() != 0) {
            changing++;
            added += s.added();
            validating += s.validating();
            draining += s.draining();
            removed += s.removed();
            changed += s.changed();
        }
        summarizeIfDue(now);
    }

    /** Whether a summary is still to be written (a later sweep must run {@link #summarizeIfDue}). */
    boolean hasUnsummarized() {
        return changing != 0;
    }

    /** Writes the INFO summary if pods changed since the last one and the interval has passed. */
    void summarizeIfDue(long now) {
        if (changing == 0 || summarized && now - lastSummaryNanos < SUMMARY_INTERVAL_NANOS) {
            return;
        }
        LOG.log(System.Logger.Level.INFO, id + ": " + changing + " of " + recalculations
                + " recalculations since the last summary changed pods: " + added + " added, " + validating
                + " validating, " + draining + " draining, " + removed + " removed, " + changed
                + " changed (at most one summary every " + SUMMARY_INTERVAL_NANOS / 1_000_000_000L
                + " s; each recalculation at DEBUG)");
        summarized = true;
        lastSummaryNanos = now;
        recalculations = 0;
        changing = 0;
        added = 0;
        validating = 0;
        draining = 0;
        removed = 0;
        changed = 0;
    }
}
