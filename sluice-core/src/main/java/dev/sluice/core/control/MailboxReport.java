package dev.sluice.core.control;

import dev.sluice.core.pod.PodState;

/**
 * A pod's report in a {@link RevisionMailbox}'s inbox, which a later report of the same pod in
 * the batch may supersede, and the run of the same pod's later reports that joined it while it
 * waited (see the mailbox's "Coalescing" and "Joining").
 *
 * <h2>Implementation notes</h2>
 * Its fields are grouped by who may touch them: the event's copies are final; the producers'
 * (the chain, the barrier counts, joinability) only under the mailbox's producers' lock; the
 * writer's (the batch marks, the run as taken) only on its worker, after the take that
 * {@link dev.sluice.core.concurrent.JoinableNode} publishes; {@link #verdict} is the one field
 * both read, hence volatile.
 */
final class MailboxReport extends MailboxTask {
    static final byte UNDECIDED = 0;
    static final byte ALLOWS = 1;
    static final byte FORBIDS = 2;

    final PodEvent event;
    /** The event's, copied by the producer (the writer reads the batch's reports, not their events; names canonical). */
    final String address;
    final String podId;
    final PodState state;
    final EventSource source;

    // Producers', under the producers' lock only.
    /** Barriers started when it was posted, or -1 if one was under way (never joinable then). */
    long barriers = -1;
    /** The same for barriers that may change the table (no verdict carries across one). */
    long changes = -1;
    /** The report that named this address and id last before it, until its verdict is known. */
    MailboxReport predecessor;
    /**
     * An older report of the chain whose verdict ALLOWS decides this one's too (every report
     * between moved the pod at most between READY and NOT_READY), or null: it is applied
     * first, so a writer that lags does not hold joining back until the predecessor's turn.
     */
    MailboxReport anchor;
    /** Whether later reports may join it: UNDECIDED until its predecessor's verdict, then ALLOWS or FORBIDS. */
    byte joinable = FORBIDS;
    /** The state of the last report in its run. */
    PodState lastState;

    /**
     * The writer's, once it has applied (or skipped) this report and its run: ALLOWS if the
     * table's side of {@link RevisionWriter#isSupersededBy} held for this pod right after.
     */
    volatile byte verdict;

    // The writer's.
    /** Its index in the batch being marked. */
    int at;
    /**
     * Reset when its batch is marked: the report of the same pod just before it
     * in the batch was skipped for it, so the table's side of {@link RevisionWriter#isSupersededBy}
     * held then, and nothing applied since touched this pod (see "Coalescing").
     */
    boolean tableAllowsSkip;
    /** How many events joined it, known once the batch took it. */
    int joinedCount;
    /** Every report of the run (this one's own event included) moves the pod at most between READY and NOT_READY. */
    boolean allMayBeSuperseded;
    /** The same, all but the run's last. */
    boolean allButLastMayBeSuperseded;

    MailboxReport(PodEvent event, String address, String podId, long enqueuedNanos) {
        super(Operation.MUTATE_POD, enqueuedNanos);
        this.event = event;
        this.address = address;
        this.podId = podId;
        this.state = event.state();
        this.source = event.source();
        this.lastState = state;
    }

    /**
     * The writer, when its batch takes it: closes it to joins and reads its run. It reads the
     * run's last event only: a report joins only a run whose last state may be superseded
     * (checked under the producers' lock before each join), so all but the last may be, and
     * the writer need not touch each joined event (the producer's lines) to know it.
     */
    void takeRun() {
        joinedCount = take();
        allButLastMayBeSuperseded = joinedCount == 0 || RevisionWriter.mayBeSuperseded(state);
        allMayBeSuperseded = allButLastMayBeSuperseded && RevisionWriter.mayBeSuperseded(last().state());
    }

    /** The newest event of its run. */
    PodEvent last() {
        return joinedCount == 0 ? event : joined(joinedCount - 1);
    }

    @Override
    Object apply(RevisionWriter writer) {
        writer.mutatePod(event);
        return null;
    }
}
