package dev.sluice.core.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A node of an {@link MpscFutureQueue} that later elements may join while it waits: each
 * joined element rides in this node (no node of its own, no place in the queue) until the
 * consumer {@link #take takes} the node, after which every join fails and the element has to
 * go into a node of its own.
 *
 * <h2>Implementation notes</h2>
 * The joined elements are a Treiber stack: {@link #joined} is the newest {@link Joined} cell,
 * each cell links to the one joined before it. A join reads the top, gives up if it is the
 * {@link #TAKEN} marker, links its cell to it and CASes it in; a failed CAS (another joiner
 * came first, or the consumer took the node) is retried from the read. {@link #take} is one
 * {@code getAndSet} of the top to {@code TAKEN}. So the CAS of a join and the take's exchange
 * are totally ordered on {@link #joined}: a join whose CAS comes first is in the stack the
 * take returns; one that comes after sees {@code TAKEN} and returns false. An element is
 * therefore either taken with the node or refused to its caller, never lost and never both.
 * The cell's fields are written before its CAS (a release), and the take's exchange (an
 * acquire) sees them. Any number of threads may join at once; one thread takes, once.
 * A join allocates its cell (after checking that the node is open); a take allocates nothing.
 *
 * @param <T> the future's result
 * @param <E> what joins
 */
public abstract class JoinableNode<T, E> extends MpscFutureQueue.Node<T> {

    /** One joined element, with a time its joiner stamped on it; newest first through {@link #older}. */
    public static final class Joined<E> {
        private final E value;
        private final long stamp;
        private Joined<E> older;

        Joined(E value, long stamp) {
            this.value = value;
            this.stamp = stamp;
        }

        public E value() {
            return value;
        }

        public long stamp() {
            return stamp;
        }

        /** The element joined before this one, or null for the first joined. */
        public Joined<E> older() {
            return older;
        }
    }

    private static final Joined<?> TAKEN = new Joined<>(null, 0);
    private static final VarHandle JOINED;

    static {
        try {
            JOINED = MethodHandles.lookup().findVarHandle(JoinableNode.class, "joined", Joined.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through JOINED
    private volatile Joined<E> joined;

    /**
     * Adds {@code value} to this node unless it was taken; any thread. True: the consumer will
     * find it in what {@link #take} returns. False: the node was taken first, and nothing of
     * {@code value} is in it.
     */
    public final boolean tryJoin(E value, long stamp) {
        Joined<?> top = (Joined<?>) JOINED.getAcquire(this);
        if (top == TAKEN) {
            return false;
        }
        Joined<E> cell = new Joined<>(value, stamp);
        while (true) {
            @SuppressWarnings("unchecked")
            Joined<E> expected = (Joined<E>) top;
            cell.older = expected;
            Joined<?> witness = (Joined<?>) JOINED.compareAndExchange(this, expected, cell);
            if (witness == expected) {
                return true;
            }
            if (witness == TAKEN) {
                return false;
            }
            top = witness;
        }
    }

    /**
     * Closes the node to joins and returns what joined it, newest first (null if nothing did);
     * the consumer, once.
     */
    @SuppressWarnings("unchecked")
    public final Joined<E> take() {
        Joined<?> top = (Joined<?>) JOINED.getAndSet(this, TAKEN);
        return top == TAKEN ? null : (Joined<E>) top;
    }

    /** Whether {@link #take} has closed this node (a hint for joiners; the join itself decides). */
    public final boolean isTaken() {
        return JOINED.getAcquire(this) == TAKEN;
    }
}
