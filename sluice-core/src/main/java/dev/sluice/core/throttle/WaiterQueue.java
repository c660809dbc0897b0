package dev.sluice.core.throttle;

import dev.sluice.core.throttle.RevisionBreaker.Waiter;

/**
 * One tenant's requests waiting in one class of a revision ({@link PriorityWaiterQueue}'s
 * lane), in order: an intrusive doubly linked list through the waiters' own
 * {@code prev}/{@code next} fields. It grows by one link per waiter and shrinks
 * back as they leave, so an idle revision holds two null references, whatever its queue
 * depth; nothing is sized up front and nothing is allocated per operation.
 *
 * <h2>Contract</h2>
 * Not thread-safe: every method runs under the owning {@link RevisionBreaker}'s lock, which
 * also keeps the waiter count in the breaker's state word (this class does not count, and does
 * not bound: the breaker refuses a waiter past the queue depth or its tenant's cap before it
 * gets here). Order is
 * FIFO ({@link #addLast}) except for a waiter put back first in line ({@link #addFirst}), who
 * held a token and found no pod. {@link #remove} takes any linked waiter out in O(1) (an
 * expiry, a cancellation). A waiter is in at most one queue at a time; {@code linked} says
 * whether it is in one now.
 */
final class WaiterQueue {

    private Waiter head;
    private Waiter tail;

    /** The first waiter, or null. */
    Waiter head() {
        return head;
    }

    boolean isEmpty() {
        return head == null;
    }

    /** Links {@code w} at the tail. */
    void addLast(Waiter w) {
        w.prev = tail;
        w.next = null;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
        w.linked = true;
    }

    /** Links {@code w} at the head. */
    void addFirst(Waiter w) {
        w.prev = null;
        w.next = head;
        if (head == null) {
            tail = w;
        } else {
            head.prev = w;
        }
        head = w;
        w.linked = true;
    }

    /** Unlinks {@code w}, which must be linked in this queue. */
    void remove(Waiter w) {
        if (w.prev == null) {
            head = w.next;
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        w.linked = false;
    }
}
