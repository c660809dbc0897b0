package dev.sluice.core.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * A node of an {@link MpscFutureQueue} that later elements may join while it waits: each
 * joined element rides in this node (no node of its own, no place in the queue) until the
 * consumer {@link #take takes} the node, after which every join fails and the element has to
 * go into a node of its own. Joins must not run concurrently with each other (the caller
 * serialises them, e.g. under a lock); any join may race with the take.
 *
 * <h2>Implementation notes</h2>
 * The joined elements and a time stamp each are kept in two arrays, in join order, so the
 * consumer reads the stamps of a long run as a few sequential lines, not a cell per element
 * written on the joiner's core. {@link #size} is the number joined, or {@link #TAKEN}.
 * A join reads the size {@code n} (acquire; {@code TAKEN}: refused), writes its element at
 * index {@code n} (into new, copied arrays if full, published by volatile writes of the
 * fields), and CASes the size from {@code n} to {@code n + 1}. The take is one
 * {@code getAndSet} of the size to {@code TAKEN}. The CAS and the exchange are totally ordered
 * on {@link #size}: a join whose CAS comes first is counted in what the take returns, one
 * that comes after fails its CAS (or reads {@code TAKEN}) and returns false. So an element is
 * either taken with the node or refused to its caller, never lost and never both.
 * Visibility: the take reads the size written by the last successful CAS, so every write of
 * the joins counted (their elements, below that size, and the arrays they published)
 * happens-before it; the arrays it then reads (volatile) are those or a copy a refused joiner
 * made after reading the same size, which holds the same elements below it; a refused joiner
 * writes only at the index it failed to claim, which the consumer does not read. Two joins at
 * once would write the same index: hence the caller's serialisation. No allocation per join:
 * the arrays grow by doubling; {@link #take} allocates nothing.
 *
 * @param <T> the future's result
 * @param <E> what joins
 */
public abstract class JoinableNode<T, E> extends MpscFutureQueue.Node<T> {

    private static final int TAKEN = -1;
    private static final int FIRST_CAPACITY = 4;
    private static final VarHandle SIZE;

    static {
        try {
            SIZE = MethodHandles.lookup().findVarHandle(JoinableNode.class, "size", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through SIZE
    private volatile int size;
    private volatile Object[] values;
    private volatile long[] stamps;
    /** The consumer's, after {@link #take}: what it took. */
    private Object[] takenValues;
    private long[] takenStamps;

    /**
     * Adds {@code value}, with {@code stamp}, to this node unless it was taken; never
     * concurrently with another join of this node. True: the consumer will find it in what
     * {@link #take} counts. False: the node was taken first, and {@code value} is not in it.
     */
    public final boolean tryJoin(E value, long stamp) {
        int n = (int) SIZE.getAcquire(this);
        if (n == TAKEN) {
            return false;
        }
        Object[] v = values;
        long[] s = stamps;
        if (v == null || s == null || n == v.length) {
            int capacity = Math.max(FIRST_CAPACITY, 2 * n);
            // Null only if the consumer took and cleared them since the read: the CAS fails then.
            v = v == null ? new Object[capacity] : Arrays.copyOf(v, capacity);
            s = s == null ? new long[capacity] : Arrays.copyOf(s, capacity);
            values = v;
            stamps = s;
        }
        v[n] = value;
        s[n] = stamp;
        return SIZE.compareAndSet(this, n, n + 1);
    }

    /**
     * Closes the node to joins and returns how many joined it; the consumer, once. Then
     * {@link #joined} and {@link #stamp} read them, in join order.
     */
    public final int take() {
        int n = (int) SIZE.getAndSet(this, TAKEN);
        if (n > 0) {
            takenValues = values;
            takenStamps = stamps;
            values = null; // a pending node kept by its producers keeps no run alive
            stamps = null;
        }
        return Math.max(n, 0);
    }

    /** The {@code i}th element joined (0 the first); the consumer, after {@link #take}. */
    @SuppressWarnings("unchecked")
    public final E joined(int i) {
        return (E) takenValues[i];
    }

    /** The stamp of the {@code i}th element joined; the consumer, after {@link #take}. */
    public final long stamp(int i) {
        return takenStamps[i];
    }

    /** Forgets what was taken; the consumer, once done with it. */
    public final void release() {
        takenValues = null;
        takenStamps = null;
    }

    /** Whether {@link #take} has closed this node (a hint; the join itself decides). */
    public final boolean isTaken() {
        return (int) SIZE.getAcquire(this) == TAKEN;
    }
}
