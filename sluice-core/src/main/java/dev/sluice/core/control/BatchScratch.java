package dev.sluice.core.control;

import java.util.HashMap;
import java.util.Map;

/**
 * A batch's working space: the operations taken out of the inbox, those done with their
 * results, and coalescing's step one, which marks each report a later one in the batch may
 * supersede ({@link #markSuperseded}).
 *
 * <h2>Implementation notes</h2>
 * One per thread that runs batches ({@link #forThisThread()}: a worker, or a reporting caller),
 * not per revision, which would cost ~9 KB an idle revision. A thread runs one batch at a time
 * and a batch never runs another, so the arrays are never shared; nothing is kept across
 * batches but the arrays' capacity (the mailbox clears what it filled).
 */
final class BatchScratch {

    private static final ThreadLocal<BatchScratch> SCRATCH = ThreadLocal.withInitial(BatchScratch::new);

    final MailboxTask[] taken = new MailboxTask[RevisionMailbox.BATCH];
    /** Tasks done in this batch (applied or skipped), with their results: they hear back at its end. */
    final MailboxTask[] done = new MailboxTask[RevisionMailbox.BATCH];
    final Object[] results = new Object[RevisionMailbox.BATCH];
    /** Whether {@code taken[i]} may be superseded by {@code taken[laterOf[i]]}. */
    final boolean[] superseded = new boolean[RevisionMailbox.BATCH];
    final int[] laterOf = new int[RevisionMailbox.BATCH];
    /** By address and by pod id, the next report in the batch (tasks, not boxed indexes). */
    private final Map<String, MailboxReport> lastReportAt = new HashMap<>();
    private final Map<String, MailboxReport> lastIdAt = new HashMap<>();

    private BatchScratch() {
    }

    /** The calling thread's. */
    static BatchScratch forThisThread() {
        return SCRATCH.get();
    }

    /**
     * Coalescing, step one, over {@code taken[0..n)}: marks each pod report followed later in
     * the batch by a report of the same pod (same address and id, both from the pod itself)
     * with no other operation between them but reports of other addresses and other pod ids (a
     * report naming the same id at another address can retire or move that identity), and each
     * discovery snapshot followed at once by another. Step two is the writer's, at apply time:
     * {@link RevisionWriter#isSupersededBy} skips the earlier one only where applying both
     * gives the same table as applying the later one alone.
     */
    void markSuperseded(int n) {
        if (n == 1) { // a caller's batch, mostly: nothing to mark, and no map to fill and clear again
            superseded[0] = false;
            if (taken[0] instanceof MailboxReport r) {
                r.at = 0;
                r.tableAllowsSkip = false;
            }
            return;
        }
        lastReportAt.clear();
        lastIdAt.clear();
        for (int i = n - 1; i >= 0; i--) {
            superseded[i] = false;
            if (taken[i].operation == Operation.RECALCULATE && i + 1 < n
                    && taken[i + 1].operation == Operation.RECALCULATE) {
                superseded[i] = true;
                laterOf[i] = i + 1;
            }
            if (!(taken[i] instanceof MailboxReport r)) {
                lastReportAt.clear(); // anything else is a barrier: a query, a removal, a check's result
                lastIdAt.clear();
                continue;
            }
            r.at = i;
            r.tableAllowsSkip = false;
            MailboxReport later = lastReportAt.put(r.address, r);
            MailboxReport laterOfId = lastIdAt.put(r.podId, r);
            if (later != null && later == laterOfId && r.source == EventSource.POD
                    && later.source == EventSource.POD && later.podId.equals(r.podId)) {
                superseded[i] = true;
                laterOf[i] = later.at;
            }
        }
    }
}
