package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.core.concurrent.MpscFutureQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IZ_Result;
import org.openjdk.jcstress.infra.results.I_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/** Races on a revision's inbox ({@link MpscFutureQueue}): the producers' hand-off to its one writer. */
public final class InboxStress {

    private InboxStress() {
    }

    static final class Op extends MpscFutureQueue.Node<Object> {
        final int id;
        int payload;

        Op(int id) {
            this.id = id;
        }
    }

    /**
     * Two producers post, one of them twice: nothing is lost or seen twice and each producer's
     * order is kept. The result is the order the writer then takes them in: 123 means a1, a2, b.
     */
    @JCStressTest
    @Outcome(id = "123", expect = ACCEPTABLE, desc = "a1, a2, then b.")
    @Outcome(id = "132", expect = ACCEPTABLE, desc = "a1, b, a2.")
    @Outcome(id = "312", expect = ACCEPTABLE, desc = "b, a1, a2.")
    @Outcome(expect = FORBIDDEN, desc = "Lost, duplicated or reordered within a producer.")
    @State
    public static class TwoProducers {
        final MpscFutureQueue<Op> queue = new MpscFutureQueue<>();

        @Actor
        public void producerA() {
            queue.offer(new Op(1));
            queue.offer(new Op(2));
        }

        @Actor
        public void producerB() {
            queue.offer(new Op(3));
        }

        @Arbiter
        public void writer(I_Result r) {
            int order = 0;
            for (Op op = queue.poll(); op != null; op = queue.poll()) {
                order = order * 10 + op.id;
            }
            r.r1 = queue.isEmpty() ? order : -1;
        }
    }

    /**
     * A producer posts twice while the writer polls: the writer sees each node with what its
     * producer wrote before posting it, in order, and what it did not take is left for later.
     * The result: nodes taken by the writer, then whether all were seen once, in order, whole.
     */
    @JCStressTest
    @Outcome(id = "0, true", expect = ACCEPTABLE, desc = "The writer polled before either was linked.")
    @Outcome(id = "1, true", expect = ACCEPTABLE, desc = "The writer took the first; the second was left.")
    @Outcome(id = "2, true", expect = ACCEPTABLE, desc = "The writer took both.")
    @Outcome(id = ".*, false", expect = FORBIDDEN, desc = "Lost, duplicated, reordered or seen without its fields.")
    @State
    public static class ProducerVsWriter {
        final MpscFutureQueue<Op> queue = new MpscFutureQueue<>();
        int taken;
        int order;
        boolean whole = true;

        @Actor
        public void producer() {
            Op a1 = new Op(1);
            a1.payload = 11;
            queue.offer(a1);
            Op a2 = new Op(2);
            a2.payload = 12;
            queue.offer(a2);
        }

        @Actor
        public void writer() {
            for (int i = 0; i < 2; i++) {
                Op op = queue.poll();
                if (op != null) {
                    taken++;
                    take(op);
                }
            }
        }

        @Arbiter
        public void rest(IZ_Result r) {
            for (Op op = queue.poll(); op != null; op = queue.poll()) {
                take(op);
            }
            r.r1 = taken;
            r.r2 = whole && order == 12 && queue.isEmpty();
        }

        private void take(Op op) {
            order = order * 10 + op.id;
            whole &= op.payload == 10 + op.id;
        }
    }

    /**
     * The mailbox's hand-off: a producer offers and schedules the mailbox unless it finds it
     * scheduled (read, then CAS); the writer, at the end of a running batch, clears the flag and
     * re-checks the inbox. Exactly one of them schedules the next batch: never none (the
     * operation would be stranded), never both (two batches at once).
     */
    @JCStressTest
    @Outcome(id = "true, false", expect = ACCEPTABLE, desc = "The producer saw the flag cleared and scheduled.")
    @Outcome(id = "false, true", expect = ACCEPTABLE, desc = "The writer's re-check found the operation.")
    @Outcome(id = "false, false", expect = FORBIDDEN, desc = "Stranded: nobody scheduled the operation.")
    @Outcome(id = "true, true", expect = FORBIDDEN, desc = "Two batches scheduled at once.")
    @State
    public static class OfferVsEndOfBatch {
        final MpscFutureQueue<Op> queue = new MpscFutureQueue<>();
        final AtomicBoolean scheduled = new AtomicBoolean(true); // a batch is running

        @Actor
        public void producer(ZZ_Result r) {
            queue.offer(new Op(1));
            r.r1 = !scheduled.get() && scheduled.compareAndSet(false, true);
        }

        @Actor
        public void writer(ZZ_Result r) {
            scheduled.set(false);
            r.r2 = !queue.isEmpty() && scheduled.compareAndSet(false, true);
        }
    }

    /**
     * A poll racing an offer returns the node or nothing, never a half-linked one; whatever it
     * did not take is still there for the next poll.
     */
    @JCStressTest
    @Outcome(id = "1", expect = ACCEPTABLE, desc = "The writer took the node.")
    @Outcome(id = "2", expect = ACCEPTABLE_INTERESTING, desc = "Not offered or not linked yet: the poll found nothing; the next one took it.")
    @Outcome(expect = FORBIDDEN, desc = "Lost or seen twice.")
    @State
    public static class PollVsOffer {
        final MpscFutureQueue<Op> queue = new MpscFutureQueue<>();
        final Op op = new Op(1);
        Op first;

        @Actor
        public void producer() {
            queue.offer(op);
        }

        @Actor
        public void writer() {
            first = queue.poll();
        }

        @Arbiter
        public void after(I_Result r) {
            Op second = queue.poll();
            boolean once = (first == op) != (second == op) && queue.poll() == null;
            r.r1 = !once ? 0 : first == op ? 1 : 2;
        }
    }
}
