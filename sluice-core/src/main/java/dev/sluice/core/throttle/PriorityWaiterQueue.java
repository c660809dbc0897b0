package dev.sluice.core.throttle;

import dev.sluice.core.throttle.RevisionBreaker.Waiter;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The requests waiting in one revision, and which of them goes next: strict priority between
 * classes, deficit round robin between tenants within a class, FIFO within a tenant.
 *
 * <h2>Contract</h2>
 * Not thread-safe: every method runs under the owning {@link RevisionBreaker}'s lock, which
 * also keeps the total waiter count in the breaker's state word and bounds it by the queue
 * depth. {@link #head()} is the waiter to serve next and changes nothing; {@link #take} removes
 * it as served (it spends the tenant's turn), {@link #remove} removes any waiter as gone (a
 * cancel, an expiry, a preemption) without spending a turn. A waiter is in at most one queue
 * at a time; {@code linked} says whether it is in one now.
 *
 * <h2>Implementation notes</h2>
 * <b>Shape.</b> A waiter sits in its tenant's lane for its class: a {@link WaiterQueue} (FIFO,
 * intrusive, O(1) at both ends and in the middle). Each class keeps a ring of its non-empty
 * lanes (intrusive through the lanes, O(1) to join and leave) with a cursor on the lane whose
 * turn it is, and a second intrusive list of all its waiters in arrival order (through the
 * waiters' {@code classPrev}/{@code classNext}), so the newest waiter of a class — the one
 * preemption evicts — is found in O(1). A bit per class in {@link #nonEmpty} finds the highest
 * class with waiters with one {@link Long#numberOfTrailingZeros} and the lowest with one
 * {@link Long#numberOfLeadingZeros}: every operation is O(1) (a tenant's {@link HashMap}
 * lookup aside, made once when a waiter joins).
 *
 * <p><b>Deficit round robin with unit cost.</b> Every request costs one, so a lane's deficit
 * is simply the requests left in its turn ({@code credit}): the lane under the cursor gets
 * {@code weight} when the cursor reaches it, each take spends one, and at zero the cursor moves
 * on. A lane that empties leaves the ring and forgets its credit (as in DRR, an idle flow banks
 * nothing); a lane that fills joins just behind the cursor, at the end of the current round.
 * With weights 3 and 1 and both lanes busy the takes go A A A B A A A B: exactly 3:1, and
 * equal weights alternate whatever the tenants' arrival rates.
 *
 * <p><b>Memory.</b> A tenant (its count, weight and lanes) exists while it has waiters and is
 * dropped from the map when its last waiter leaves, so a client cannot grow the map by sending
 * tenant names: it holds at most one entry per waiter, and the queue depth bounds the waiters.
 * The shared tenant (requests without one) is kept. An idle revision holds a class array of one
 * slot, grown up to 64 to the last class that has had waiters (all 64 up front were 272 bytes,
 * a tenth of an idle revision), the map and the shared tenant; nothing is sized to the queue
 * depth.
 *
 * <p><b>One class, one tenant</b> (a revision without a {@code queueing} section): one lane in
 * one ring, so {@link #head()} is the lane's head, {@link #addFirst} puts a waiter first in
 * line, and the order is the plain FIFO the revision had before classes existed.
 */
final class PriorityWaiterQueue {

    /** Class {@code c}'s queue once it has had waiters; as long as the last such class needs. */
    private ClassQueue[] classes = new ClassQueue[1];
    /** Bit {@code c} set while class {@code c} has waiters. */
    private long nonEmpty;
    private final Map<String, Tenant> tenants = new HashMap<>();
    private final Tenant shared;
    private QueuePolicy policy;

    PriorityWaiterQueue(QueuePolicy policy) {
        this.policy = policy;
        this.shared = new Tenant(null, policy.weightOf(null));
    }

    /** A new policy: weights apply to tenants from their next turn (the shared one at once). */
    void setPolicy(QueuePolicy p) {
        policy = p;
        shared.weight = p.weightOf(null);
        for (Tenant t : tenants.values()) {
            t.weight = p.weightOf(t.name);
        }
    }

    QueuePolicy policy() {
        return policy;
    }

    boolean isEmpty() {
        return nonEmpty == 0;
    }

    /** The waiter to serve next, or null: the current lane's head in the highest class with waiters. */
    Waiter head() {
        if (nonEmpty == 0) {
            return null;
        }
        return classes[Long.numberOfTrailingZeros(nonEmpty)].cursor.fifo.head();
    }

    /** Waiters of {@code tenant} (null: the shared tenant), across classes. */
    int queuedOf(String tenant) {
        Tenant t = tenant == null ? shared : tenants.get(tenant);
        return t == null ? 0 : t.queued;
    }

    /** One bit per class that has waiters (bit 0: the highest class). */
    long nonEmptyClasses() {
        return nonEmpty;
    }

    /** The oldest waiter of class {@code c}, or null; the rest follow through {@code classNext}. */
    Waiter oldestIn(int c) {
        ClassQueue q = c < classes.length ? classes[c] : null;
        return q == null ? null : q.oldest;
    }

    /** Waiters in class {@code c}. */
    int queuedIn(int c) {
        ClassQueue q = c < classes.length ? classes[c] : null;
        return q == null ? 0 : q.count;
    }

    /**
     * The newest waiter of the lowest class below {@code c} that has waiters (the one a request
     * of class {@code c} may evict), or null.
     */
    Waiter newestBelow(int c) {
        if (nonEmpty == 0) {
            return null;
        }
        int lowest = 63 - Long.numberOfLeadingZeros(nonEmpty);
        return lowest > c ? classes[lowest].newest : null;
    }

    /** Links {@code w} last in its tenant's lane and its class. */
    void addLast(Waiter w) {
        Lane lane = laneFor(w);
        lane.fifo.addLast(w);
        joined(lane, w);
    }

    /** Links {@code w} first in its tenant's lane (it held a token and found no pod). */
    void addFirst(Waiter w) {
        Lane lane = laneFor(w);
        lane.fifo.addFirst(w);
        joined(lane, w);
    }

    /** Removes {@link #head()} as served: its tenant's turn is spent by one. */
    void take(Waiter w) {
        Lane lane = w.lane;
        ClassQueue q = classes[lane.cls];
        boolean turn = q.cursor == lane && lane.fifo.head() == w;
        left(lane, w);
        if (turn && lane.inRing && --lane.credit <= 0) {
            q.advance();
        }
    }

    /** Removes {@code w}, which must be linked here, without spending a turn. */
    void remove(Waiter w) {
        left(w.lane, w);
    }

    // ------------------------------------------------------------------ internals

    private Lane laneFor(Waiter w) {
        Tenant t;
        if (w.tenant == null) {
            t = shared;
        } else {
            t = tenants.get(w.tenant);
            if (t == null) {
                t = new Tenant(w.tenant, policy.weightOf(w.tenant));
                tenants.put(w.tenant, t);
            }
        }
        Lane lane = t.lane(w.cls);
        w.lane = lane;
        return lane;
    }

    private void joined(Lane lane, Waiter w) {
        int c = lane.cls;
        if (c >= classes.length) {
            classes = Arrays.copyOf(classes, Math.min(QueuePolicy.MAX_CLASSES, Math.max(c + 1, classes.length * 2)));
        }
        ClassQueue q = classes[c];
        if (q == null) {
            q = new ClassQueue();
            classes[c] = q;
        }
        q.append(w);
        if (!lane.inRing) {
            q.join(lane);
        }
        lane.tenant.queued++;
        nonEmpty |= 1L << c;
    }

    private void left(Lane lane, Waiter w) {
        lane.fifo.remove(w);
        ClassQueue q = classes[lane.cls];
        q.unlink(w);
        w.lane = null;
        if (lane.fifo.isEmpty()) {
            q.leave(lane);
        }
        if (q.count == 0) {
            nonEmpty &= ~(1L << lane.cls);
        }
        Tenant t = lane.tenant;
        if (--t.queued == 0 && t != shared) {
            tenants.remove(t.name);
        }
    }

    /** One class: the ring of its non-empty lanes and its waiters in arrival order. */
    private static final class ClassQueue {
        /** The lane whose turn it is; null when the ring is empty. */
        Lane cursor;
        Waiter oldest;
        Waiter newest;
        int count;

        void append(Waiter w) {
            w.classPrev = newest;
            w.classNext = null;
            if (newest == null) {
                oldest = w;
            } else {
                newest.classNext = w;
            }
            newest = w;
            count++;
        }

        void unlink(Waiter w) {
            if (w.classPrev == null) {
                oldest = w.classNext;
            } else {
                w.classPrev.classNext = w.classNext;
            }
            if (w.classNext == null) {
                newest = w.classPrev;
            } else {
                w.classNext.classPrev = w.classPrev;
            }
            w.classPrev = null;
            w.classNext = null;
            count--;
        }

        /** A lane that got its first waiter joins at the end of the current round. */
        void join(Lane lane) {
            lane.inRing = true;
            if (cursor == null) {
                lane.ringNext = lane;
                lane.ringPrev = lane;
                cursor = lane;
                lane.credit = lane.tenant.weight;
                return;
            }
            lane.ringNext = cursor;
            lane.ringPrev = cursor.ringPrev;
            cursor.ringPrev.ringNext = lane;
            cursor.ringPrev = lane;
        }

        /** A lane that lost its last waiter leaves the ring and forgets its credit. */
        void leave(Lane lane) {
            lane.inRing = false;
            lane.credit = 0;
            if (lane.ringNext == lane) {
                cursor = null;
            } else {
                lane.ringPrev.ringNext = lane.ringNext;
                lane.ringNext.ringPrev = lane.ringPrev;
                if (cursor == lane) {
                    cursor = lane.ringNext;
                    cursor.credit = cursor.tenant.weight;
                }
            }
            lane.ringNext = null;
            lane.ringPrev = null;
        }

        /** The cursor's lane spent its turn: the next lane's turn begins. */
        void advance() {
            cursor = cursor.ringNext;
            cursor.credit = cursor.tenant.weight;
        }
    }

    /** A tenant's waiters in one class: a FIFO, and its place in the class's ring. */
    static final class Lane {
        final Tenant tenant;
        final int cls;
        final WaiterQueue fifo = new WaiterQueue();
        Lane ringPrev;
        Lane ringNext;
        boolean inRing;
        /** Requests left in this lane's turn (the deficit, at unit cost). */
        int credit;

        Lane(Tenant tenant, int cls) {
            this.tenant = tenant;
            this.cls = cls;
        }
    }

    /** A tenant with waiters (or the shared one): its count across classes, weight and lanes. */
    static final class Tenant {
        final String name;
        int weight;
        int queued;
        private Lane[] lanes = new Lane[1];

        Tenant(String name, int weight) {
            this.name = name;
            this.weight = weight;
        }

        Lane lane(int cls) {
            if (cls >= lanes.length) {
                Lane[] grown = new Lane[Math.max(cls + 1, Math.min(QueuePolicy.MAX_CLASSES, lanes.length * 2))];
                System.arraycopy(lanes, 0, grown, 0, lanes.length);
                lanes = grown;
            }
            Lane l = lanes[cls];
            if (l == null) {
                l = new Lane(this, cls);
                lanes[cls] = l;
            }
            return l;
        }
    }
}
