package dev.sluice.core.pod;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * One pod of a revision: its identity, lifecycle state, in-flight count and capacity — the
 * per-pod breaker.
 *
 * <h2>Implementation notes</h2>
 * The state and the in-flight count live in one 64-bit word: the state's ordinal in the high
 * 32 bits, the in-flight count in the low 32. {@link #tryReserve()} is a CAS on that word that
 * succeeds only if the state is routable <em>and</em> a slot is free, both read in the same
 * atomic snapshot. So once the writer has moved a pod to {@code DRAINING} (a CAS on the same
 * word), no reservation can succeed on it any more: there is no window in which a request
 * reaches a pod the writer has already taken out of rotation. Removal ({@code REMOVED}) is
 * likewise a CAS that, unless forced, requires the in-flight count to be zero, so a slot is
 * never freed under a request that reserved it.
 *
 * <p>Identity is the object itself. A request holding this tracker releases to it even if
 * the table has since freed the tracker's slot and given the slot to another pod: nothing
 * on the release path reads the slot to find the tracker. The slot index is used only to
 * keep the table's availability bit current, and a stale bit is only ever a harmless hint
 * (see {@link PodTable}).
 *
 * <p>{@link #tryHold()} (another replica's request, counted during a handoff) is the same CAS
 * without the routable condition but with "not leaving": it races a removal on the same word,
 * so either the hold lands first and a non-forced removal fails, or the removal does and the
 * hold is refused.
 *
 * <p>Who writes what: request threads change only the in-flight count (reserve, release);
 * the revision's single writer changes the state, the capacity and the timestamps. The
 * capacity is read without being part of the CAS: lowering it never pre-empts requests
 * already running, and raising it admits new ones from the next reservation on.
 */
public final class PodTracker {

    private static final VarHandle WORD;

    static {
        try {
            WORD = MethodHandles.lookup().findVarHandle(PodTracker.class, "word", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final long IN_FLIGHT_MASK = 0xFFFF_FFFFL;

    private final String podId;
    private final String address;
    private final SlotEvents table;

    /** State ordinal (high 32 bits) and in-flight count (low 32 bits). Accessed through {@link #WORD}. */
    @SuppressWarnings("unused")
    private volatile long word;

    /** Concurrency limit (containerConcurrency); 0 = unlimited. Written by the writer. */
    private volatile int capacity;
    /** Slot in the owning table, or -1 once removed. Written by the writer. */
    private volatile int slot;
    /** Clock reading of the last state change, in nanoseconds. Written by the writer. */
    private volatile long lastStateChangeNanos;

    PodTracker(String podId, String address, PodState state, int capacity, SlotEvents table, int slot,
            long nowNanos) {
        this.podId = Objects.requireNonNull(podId, "podId");
        this.address = Objects.requireNonNull(address, "address");
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0 (0 = unlimited), was " + capacity);
        }
        if (state == PodState.REMOVED) {
            throw new IllegalArgumentException("a new tracker cannot start REMOVED");
        }
        this.table = table;
        this.capacity = capacity;
        this.slot = slot;
        this.lastStateChangeNanos = nowNanos;
        WORD.setRelease(this, pack(state, 0));
    }

    /**
     * A tracker that belongs to no table, for tests and benchmarks of the per-pod breaker alone.
     */
    public static PodTracker detached(String podId, String address, PodState state, int capacity) {
        return new PodTracker(podId, address, state, capacity, null, -1, 0L);
    }

    private static long pack(PodState state, int inFlight) {
        return ((long) state.ordinal() << 32) | (inFlight & IN_FLIGHT_MASK);
    }

    private static int stateOrdinal(long w) {
        return (int) (w >>> 32);
    }

    private static int inFlightOf(long w) {
        return (int) w;
    }

    private static boolean routable(long w) {
        return (PodState.ROUTABLE_MASK >>> stateOrdinal(w) & 1) != 0;
    }

    /** The pod's identity (Kubernetes UID, pod name, or the id it reported). */
    public String podId() {
        return podId;
    }

    /** {@code host:port} where the pod serves. */
    public String address() {
        return address;
    }

    public PodState state() {
        return PodState.ofOrdinal(stateOrdinal((long) WORD.getVolatile(this)));
    }

    public int inFlight() {
        return inFlightOf((long) WORD.getVolatile(this));
    }

    /** Concurrency limit; 0 = unlimited. */
    public int capacity() {
        return capacity;
    }

    public long lastStateChangeNanos() {
        return lastStateChangeNanos;
    }

    /** Slot in the owning table, or -1 once removed (or never in a table). */
    public int slot() {
        return slot;
    }

    /** Routable and, if limited, with a free slot: what the availability bit stands for. */
    public boolean isAvailable() {
        long w = (long) WORD.getVolatile(this);
        int cap = capacity;
        return routable(w) && (cap == 0 || inFlightOf(w) < cap);
    }

    /**
     * Reserves one slot: succeeds only if the pod is routable and below capacity, atomically.
     * Request threads call this (through a policy); the caller must later call
     * {@link #release()} exactly once.
     */
    public boolean tryReserve() {
        for (;;) {
            long w = (long) WORD.getVolatile(this);
            int cap = capacity;
            int inFlight = inFlightOf(w);
            if (!routable(w) || (cap != 0 && inFlight >= cap) || inFlight == Integer.MAX_VALUE) {
                return false;
            }
            if (WORD.weakCompareAndSet(this, w, w + 1)) {
                if (cap != 0 && inFlight + 1 >= cap && table != null) {
                    table.onFilled(slot);
                }
                return true;
            }
        }
    }

    /**
     * Holds one slot for a request that is not this process's to route (another replica's,
     * which may run on the pod before this process has seen it ready): like
     * {@link #tryReserve()}, but also on a pod that is not routable yet ({@code PENDING},
     * {@code NOT_READY}), so that it is already counted when it turns routable. Never on a pod
     * that is leaving ({@code DRAINING}, {@code REMOVED}): nothing new goes there. The caller
     * must later call {@link #release()} exactly once.
     */
    public boolean tryHold() {
        for (;;) {
            long w = (long) WORD.getVolatile(this);
            int state = stateOrdinal(w);
            if (state == PodState.DRAINING.ordinal() || state == PodState.REMOVED.ordinal()) {
                return false;
            }
            if (routable(w)) {
                return tryReserve(); // keeps the table's availability bit as a reservation does
            }
            int cap = capacity;
            int inFlight = inFlightOf(w);
            if ((cap != 0 && inFlight >= cap) || inFlight == Integer.MAX_VALUE) {
                return false;
            }
            if (WORD.weakCompareAndSet(this, w, w + 1)) {
                return true; // out of rotation: no availability bit to clear; moveTo refreshes it
            }
        }
    }

    /**
     * Releases one slot reserved by {@link #tryReserve()}. Always goes to this tracker, whatever
     * has since happened to its slot in the table.
     *
     * @throws IllegalStateException if nothing is reserved (a double release is a bug)
     */
    public void release() {
        long w;
        for (;;) {
            w = (long) WORD.getVolatile(this);
            if (inFlightOf(w) <= 0) {
                throw new IllegalStateException("release without a reservation on pod " + podId
                        + " at " + address);
            }
            if (WORD.weakCompareAndSet(this, w, w - 1)) {
                break;
            }
        }
        if (table == null) {
            return;
        }
        int before = inFlightOf(w);
        if (routable(w)) {
            int cap = capacity;
            if (cap != 0 && before >= cap) {
                table.onFreed(slot);
            }
        } else if (before == 1 && stateOrdinal(w) == PodState.DRAINING.ordinal()) {
            table.onDrained(this);
        }
    }

    /**
     * Moves to {@code target}. Writer only. Moving to {@code REMOVED} requires no request in
     * flight unless {@code force} is set (a drain deadline that passed).
     *
     * @return whether the state is now {@code target}; false if a removal found requests in flight
     * @throws IllegalStateException if {@link PodState} does not allow the move
     */
    boolean moveTo(PodState target, boolean force, long nowNanos) {
        for (;;) {
            long w = (long) WORD.getVolatile(this);
            PodState current = PodState.ofOrdinal(stateOrdinal(w));
            if (current == target) {
                return true;
            }
            if (!current.canMoveTo(target)) {
                throw new IllegalStateException("pod " + podId + " at " + address + " cannot move from "
                        + current + " to " + target);
            }
            if (target == PodState.REMOVED && !force && inFlightOf(w) != 0) {
                return false;
            }
            long next = ((long) target.ordinal() << 32) | (w & IN_FLIGHT_MASK);
            if (WORD.compareAndSet(this, w, next)) {
                lastStateChangeNanos = nowNanos;
                return true;
            }
        }
    }

    void setCapacity(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0 (0 = unlimited), was " + capacity);
        }
        this.capacity = capacity;
    }

    void setSlot(int slot) {
        this.slot = slot;
    }

    void touch(long nowNanos) {
        this.lastStateChangeNanos = nowNanos;
    }

    @Override
    public String toString() {
        long w = (long) WORD.getVolatile(this);
        return "PodTracker{" + podId + "@" + address + ' ' + PodState.ofOrdinal(stateOrdinal(w)) + ' '
                + inFlightOf(w) + '/' + (capacity == 0 ? "∞" : Integer.toString(capacity)) + '}';
    }
}
