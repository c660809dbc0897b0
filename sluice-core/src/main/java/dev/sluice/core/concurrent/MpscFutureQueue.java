package dev.sluice.core.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An unbounded queue of many producers and one consumer whose nodes are futures: each element
 * is a {@link Node}, the future its producer hands to its caller, and also its own link. So an
 * {@link #offer} allocates nothing (the caller made the node) and is one atomic exchange, and
 * a {@link #poll} is a few plain reads and writes, no atomic operation.
 *
 * <h2>Implementation notes</h2>
 * Vyukov's intrusive MPSC queue. {@link #tail} is the last node offered; {@link #head} is a
 * stub, the node last polled (at first a node of the queue's own), whose {@code next} is the
 * next to poll. Threads: any number of producers call {@link #offer}; one consumer at a time
 * calls {@link #poll}, {@link #peek} and {@link #isEmpty} (the revision's mailbox
 * guarantees it: its batches never overlap, and the one batch's end happens-before the next
 * one's start through the mailbox's scheduled flag). A node is offered at most once.
 *
 * <p>Offer: {@code prev = tail.getAndSet(node)} orders producers (their exchanges are totally
 * ordered: the queue's order is that order), then the release store {@code prev.next = node}
 * publishes the node and everything its producer wrote before. Between the two, the queue is
 * not empty (tail moved) but the node is not reachable from the head yet: {@link #poll}
 * returns null as if empty (it does not spin on a producer that may be descheduled there; the
 * node is not lost, only not yet in), and {@link #isEmpty}, which reads the tail, says "not
 * empty" throughout, which is what the mailbox's re-check after a batch needs to never strand
 * a node (it schedules another batch, behind the worker's other revisions). So nothing offered
 * is skipped or returned out of order. Poll: an acquire read of {@code head.next} sees the node with its fields;
 * the consumer then makes it the stub and clears the old stub's link, so a caller that keeps
 * an old future does not keep every later node alive. A polled node is never offered again,
 * so the cleared link is never written by a producer after.
 */
public final class MpscFutureQueue<N extends MpscFutureQueue.Node<?>> {

    /** A queue's node: a future that is also its own link. */
    public abstract static class Node<T> extends CompletableFuture<T> {
        @SuppressWarnings("unused") // through NEXT
        private volatile Node<?> next;
    }

    private static final class Stub extends Node<Void> {
    }

    private static final VarHandle NEXT;

    static {
        try {
            NEXT = MethodHandles.lookup().findVarHandle(Node.class, "next", Node.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final AtomicReference<Node<?>> tail;
    /** The consumer's alone. */
    private Node<?> head;

    public MpscFutureQueue() {
        Node<?> stub = new Stub();
        head = stub;
        tail = new AtomicReference<>(stub);
    }

    /** Adds {@code node} at the tail; any thread. A node is offered once. */
    public void offer(N node) {
        Node<?> prev = tail.getAndSet(node);
        NEXT.setRelease(prev, node);
    }

    /**
     * The node at the head, removed, or null if there is none linked yet (see {@link #isEmpty}
     * for whether one is on its way); the consumer only.
     */
    @SuppressWarnings("unchecked")
    public N poll() {
        Node<?> h = head;
        Node<?> next = (Node<?>) NEXT.getAcquire(h);
        if (next == null) {
            return null;
        }
        head = next;
        NEXT.setOpaque(h, null); // an old future kept by its caller keeps no later node alive
        return (N) next;
    }

    /** The node {@link #poll} would return, left in place, or null; the consumer only. */
    @SuppressWarnings("unchecked")
    public N peek() {
        return (N) NEXT.getAcquire(head);
    }

    /** Whether nothing is queued (a node offered but not yet linked counts as queued); the consumer only. */
    public boolean isEmpty() {
        return tail.get() == head;
    }
}
