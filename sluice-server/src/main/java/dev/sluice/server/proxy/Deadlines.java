package dev.sluice.server.proxy;

import dev.sluice.core.NanoClock;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The request deadlines of one event loop, fired by one scheduled sweep instead of a timer per
 * request.
 *
 * <h2>Implementation notes</h2>
 * Only the loop's thread touches an instance, like {@link UpstreamPool}. Every request on a
 * busy proxy scheduled and cancelled a Netty timer (a task object, a captured lambda and two
 * heap operations on the loop's timer queue); nearly all of them were cancelled unfired.
 * Here deadlines sit in FIFO lanes, one per timeout length: with a monotonic clock and one
 * length per lane, appending keeps a lane sorted, so adding and cancelling are a few link
 * writes and allocate one {@link Deadline}, or none when {@link #rearm} moves one that exists. One sweep is scheduled for the earliest head;
 * it fires what is due, in order, and re-arms for the next earliest head. Cancelling a head
 * leaves the sweep armed: it then finds nothing due and re-arms, at most one spare wake-up per
 * timeout length. Lanes left empty by a sweep are dropped, so configurations that come and go
 * leave none behind.
 */
final class Deadlines {

    /** What a deadline calls when it passes; {@code kind} says which of its deadlines it was. */
    @FunctionalInterface
    interface Expiring {
        void expired(int kind);
    }

    /** One pending deadline; {@link #cancel()} it when what it guards ends first. */
    static final class Deadline {
        private long at;
        private final Expiring target;
        private final int kind;
        private Lane lane;
        private Deadline prev;
        private Deadline next;

        private Deadline(long at, Expiring target, int kind) {
            this.at = at;
            this.target = target;
            this.kind = kind;
        }

        /** Removes it unfired; harmless if it fired or was cancelled already. */
        void cancel() {
            if (lane != null) {
                lane.unlink(this);
            }
        }

        boolean pending() {
            return lane != null;
        }
    }

    private static final class Lane {
        final long length;
        Deadline head;
        Deadline tail;

        Lane(long length) {
            this.length = length;
        }

        void append(Deadline d) {
            d.lane = this;
            d.prev = tail;
            if (tail == null) {
                head = d;
            } else {
                tail.next = d;
            }
            tail = d;
        }

        void unlink(Deadline d) {
            if (d.prev == null) {
                head = d.next;
            } else {
                d.prev.next = d.next;
            }
            if (d.next == null) {
                tail = d.prev;
            } else {
                d.next.prev = d.prev;
            }
            d.lane = null;
            d.prev = null;
            d.next = null;
        }
    }

    private final EventExecutor loop;
    private final NanoClock clock;
    private final List<Lane> lanes = new ArrayList<>(4);
    private final Runnable sweepTask = this::sweep;
    /** The armed sweep, or null; it runs at {@link #sweepAt}. */
    private ScheduledFuture<?> sweep;
    private long sweepAt;

    Deadlines(EventExecutor loop, NanoClock clock) {
        this.loop = loop;
        this.clock = clock;
    }

    /** Calls {@code target.expired(kind)} on this loop {@code lengthNanos} from now, unless cancelled. */
    Deadline add(long lengthNanos, Expiring target, int kind) {
        long at = clock.nanoTime() + lengthNanos;
        Deadline d = new Deadline(at, target, kind);
        lane(lengthNanos).append(d);
        if (sweep == null || at - sweepAt < 0) {
            arm(at);
        }
        return d;
    }

    /**
     * Moves {@code d} (pending, fired or cancelled) to {@code lengthNanos} from now, keeping its
     * target and kind: an owner that lives across many uses (a client connection's one timer)
     * re-uses one deadline instead of allocating one per use.
     */
    void rearm(Deadline d, long lengthNanos) {
        d.cancel();
        long at = clock.nanoTime() + lengthNanos;
        d.at = at;
        lane(lengthNanos).append(d);
        if (sweep == null || at - sweepAt < 0) {
            arm(at);
        }
    }

    /** When the sweep will next run (clock reading), or empty if none is armed. For tests. */
    OptionalLong nextSweep() {
        return sweep != null ? OptionalLong.of(sweepAt) : OptionalLong.empty();
    }

    /** Fires every deadline that has passed, oldest first per lane, and re-arms. */
    void sweep() {
        sweep = null;
        long now = clock.nanoTime();
        // By index: a callback may add deadlines (and so lanes) or cancel others.
        for (int i = 0; i < lanes.size(); i++) {
            Lane lane = lanes.get(i);
            for (Deadline d = lane.head; d != null && d.at - now <= 0; d = lane.head) {
                lane.unlink(d);
                d.target.expired(d.kind);
            }
        }
        long next = 0;
        boolean any = false;
        for (int i = lanes.size() - 1; i >= 0; i--) {
            Lane lane = lanes.get(i);
            if (lane.head == null) {
                lanes.remove(i);
            } else if (!any || lane.head.at - next < 0) {
                next = lane.head.at;
                any = true;
            }
        }
        if (any && (sweep == null || next - sweepAt < 0)) {
            arm(next);
        }
    }

    private Lane lane(long length) {
        for (int i = 0, n = lanes.size(); i < n; i++) {
            Lane l = lanes.get(i);
            if (l.length == length) {
                return l;
            }
        }
        Lane l = new Lane(length);
        lanes.add(l);
        return l;
    }

    private void arm(long at) {
        if (sweep != null) {
            sweep.cancel(false);
        }
        sweepAt = at;
        sweep = loop.schedule(sweepTask, Math.max(0, at - clock.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
