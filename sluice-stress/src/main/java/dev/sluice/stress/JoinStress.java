package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.core.concurrent.JoinableNode;
import dev.sluice.core.concurrent.MpscFutureQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.ZI_Result;

/**
 * Races on a pending report that later reports join ({@link JoinableNode}): a join against the
 * writer's take, and two producers joining one node. (Two producers against the take needs three
 * threads at once, which jcstress will not run on this two-core machine.)
 */
public final class JoinStress {

    private JoinStress() {
    }

    /** A report: its own event, and what joined it. */
    static final class Report extends JoinableNode<Object, Integer> {
        final int event;

        Report(int event) {
            this.event = event;
        }
    }

    /** Takes {@code r} and returns the events that joined it, as a bit mask. */
    static int takeMask(Report r) {
        int n = r.take();
        int mask = 0;
        for (int i = 0; i < n; i++) {
            mask |= 1 << r.joined(i);
        }
        return mask;
    }

    /**
     * A producer's event joins the pending report while the writer polls it and takes its run;
     * if the join is refused, the producer posts the event as a report of its own, as the
     * mailbox does. The event then reaches the writer exactly once: in the taken run or in the
     * new report. The result: whether the join succeeded, and how many times the event reached
     * the writer (the writer's poll and take, then the arbiter polling the rest).
     */
    @JCStressTest
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "Joined before the take: in the run.")
    @Outcome(id = "false, 1", expect = ACCEPTABLE_INTERESTING, desc = "Taken first: posted as a report of its own.")
    @Outcome(expect = FORBIDDEN, desc = "Lost, or applied twice.")
    @State
    public static class JoinVsTake {
        final MpscFutureQueue<Report> inbox = new MpscFutureQueue<>();
        final Report pending = new Report(0);
        int reached;
        boolean joined;

        public JoinVsTake() {
            inbox.offer(pending);
        }

        @Actor
        public void producer() {
            joined = pending.tryJoin(1, 0);
            if (!joined) {
                inbox.offer(new Report(1));
            }
        }

        @Actor
        public void writer() {
            Report r = inbox.poll();
            reached += Integer.bitCount(takeMask(r) & 2);
        }

        @Arbiter
        public void rest(ZI_Result result) {
            for (Report r = inbox.poll(); r != null; r = inbox.poll()) {
                reached += r.event == 1 ? 1 : 0;
                reached += Integer.bitCount(takeMask(r) & 2);
            }
            result.r1 = joined;
            result.r2 = reached;
        }
    }

    /**
     * Two producers join the same pending report at once (no take yet), each under the lock the
     * mailbox's producers share (joins of one node are serialised; only the take races them):
     * both are in its run, each once, in the order they took the lock.
     */
    @JCStressTest
    @Outcome(id = "12, 2", expect = ACCEPTABLE, desc = "1 joined first, then 2.")
    @Outcome(id = "21, 2", expect = ACCEPTABLE, desc = "2 joined first, then 1.")
    @Outcome(expect = FORBIDDEN, desc = "Lost or seen twice.")
    @State
    public static class TwoProducersJoin {
        final Report pending = new Report(0);
        final Object producersLock = new Object();

        @Actor
        public void producer1() {
            synchronized (producersLock) {
                pending.tryJoin(1, 0);
            }
        }

        @Actor
        public void producer2() {
            synchronized (producersLock) {
                pending.tryJoin(2, 0);
            }
        }

        @Arbiter
        public void writer(II_Result r) {
            int n = pending.take();
            int order = 0;
            for (int i = 0; i < n; i++) {
                order = order * 10 + pending.joined(i);
            }
            r.r1 = order;
            r.r2 = n;
        }
    }
}
