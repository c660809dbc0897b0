package dev.sluice.core.pod;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The sparse array of one revision's pod trackers, with an availability index beside it.
 *
 * <h2>Implementation notes</h2>
 * <b>Shape.</b> Slots are reserved at 2 × max-scale ({@link #initialSlots(int)}: saturating,
 * capped at {@link #HARD_MAX_SLOTS}, {@link #DEFAULT_MAX_SCALE} when max-scale is unknown) so
 * that a revision can hold every pod of a full rollout (n draining + n starting). Only the
 * first {@link #EAGER_SLOTS} are allocated at once; the rest are allocated as pods arrive,
 * by doubling up to the reservation (a copy, as below, but neither logged nor counted), so a
 * revision scaled to zero with a large max-scale costs a few hundred bytes, and a view never
 * shrinks, so a rollout that has once reached its size copies nothing. Removing a pod leaves a hole in place; no element ever moves, so a reader scanning
 * the array never sees a tracker twice or skips one because of a shift. Holes inside
 * {@link #length()} go on a free list (an int stack) and are reused in O(1) before the table
 * extends {@code length}. After a removal, if the fragmentation ratio (empty slots inside
 * {@code length} ÷ {@code length}) exceeds {@link #TRAILING_FRAGMENTATION_THRESHOLD}, the
 * trailing holes are trimmed so that {@code length} is again one past the highest occupied
 * slot; interior holes are never compacted (that would move trackers under readers' feet and
 * cost O(n)); they are filled by the next pods to arrive. Growing past the pre-allocation
 * copies both arrays into a view twice as large; it is logged and counted
 * ({@link #growths()}).
 *
 * <p><b>Availability index.</b> One bit per slot means "the tracker here is routable and has a
 * free concurrency slot". Policies find candidates by scanning 64-bit words, so with 1000
 * pods of which all but one are full a pick costs 16 word reads rather than 1000 tracker
 * reads. The bit is a hint; {@link PodTracker#tryReserve()} (a CAS) is the truth. The rules
 * that keep the hint from stranding a request:
 * <ul>
 *   <li>Setting is unconditional (a release that frees a full pod, the writer making a pod
 *       available). A set bit that is wrong (a false positive) costs one failed CAS.</li>
 *   <li>Clearing is always followed by a re-check of the slot's <em>current</em> occupant: if
 *       it is available, the bit is set again. Every bit operation is a sequentially consistent
 *       read-modify-write, and every change to a tracker's availability happens before the
 *       bit operation that follows it, so after the last clear some re-check observes the
 *       tracker's final state. A pod that is available therefore never stays with a clear
 *       bit once the operations in flight have finished: a waiter woken by a release finds
 *       the slot that release freed.</li>
 *   <li>Growth publishes the new view first and then recomputes every bit from the trackers;
 *       a release that still wrote to the old view freed its tracker before the new view was
 *       published, so the recompute sees it.</li>
 * </ul>
 *
 * <p><b>Who writes, who reads.</b> Exactly one writer thread per revision (the control path's
 * worker) calls the methods marked "Writer only"; the table does not check this. Any number
 * of request threads call the reading methods and the trackers' reserve/release without a
 * lock. Memory ordering: the writer stores a tracker into its slot with release semantics
 * before it raises {@code length} (a volatile write) and before it sets the slot's bit (a
 * volatile read-modify-write); a reader reads {@code length} or a bit before it reads the
 * slot with acquire semantics, so a reader that can reach a slot sees the fully constructed
 * tracker in it. A reader may see a slot emptied or refilled while it scans; the tracker's
 * own CAS decides whether it may be used. {@code length} is read before the view, and a
 * grown view is published before {@code length} can exceed the old one, so a reader never
 * indexes past the array it holds.
 *
 * <p><b>Counts for capacity.</b> The writer keeps, as it adds, moves and removes trackers, the
 * number of routable trackers ({@link #routableCount()}) and one bit per slot whose tracker is
 * out of rotation ({@link #inFlightOutOfRotation()} sums their requests in flight), so the
 * revision's capacity is recomputed after each change in O(1) plus a word scan, not a pass over
 * every tracker: 10,000 readiness results into a 10,000-pod table were 10^8 tracker reads. Only
 * the writer changes a tracker's state (requests change its in-flight count, which is read when
 * summed), so the counts are exact; the routable count is volatile for readers on other threads.
 */
public final class PodTable extends SlotEvents {

    /**
     * When the share of empty slots inside {@link #length()} exceeds this, trailing holes are
     * trimmed after a removal. 0.5, as in the seed design: below it, trailing holes are left
     * for the next pods to reuse (no work on removal); above it the scans that readers make
     * would cover mostly empty slots, so they are cut. Interior holes are never compacted.
     */
    public static final double TRAILING_FRAGMENTATION_THRESHOLD = 0.5;

    /** The most slots a table may hold, pre-allocated or grown: 2^20 (about 8 MiB of references). */
    public static final int HARD_MAX_SLOTS = 1 << 20;

    /** The max-scale assumed when a revision does not say (≤ 0): 64 pods, so 128 slots. */
    public static final int DEFAULT_MAX_SCALE = 64;

    /** Slots allocated when the table is made (fewer if the reservation is smaller). */
    public static final int EAGER_SLOTS = 16;

    private static final System.Logger LOG = System.getLogger(PodTable.class.getName());

    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(PodTracker[].class);
    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);
    /** The out-of-rotation bits of a table that never held a pod (shared: an idle revision allocates none). */
    private static final long[] NO_BITS = new long[0];

    /** Slots and their availability bits, replaced together when the table grows. */
    private static final class View {
        final PodTracker[] slots;
        final long[] bits;

        View(int size) {
            this.slots = new PodTracker[size];
            this.bits = new long[(size + 63) >>> 6];
        }
    }

    private volatile View view;
    /** Slots reserved for the revision ({@link #initialSlots(int)}); growth beyond is counted. */
    private final int reserved;
    /** One past the highest slot in use (or freed and not yet trimmed). */
    private volatile int length;
    /** Occupied slots. Written by the writer only. */
    private volatile int occupied;
    private volatile long growths;

    /** Trackers in a routable state; written by the writer only (see "Counts for capacity"). */
    private volatile int routable;
    /** Trackers by state ({@link PodState#ordinal()}): writer only, kept by {@code counted}. */
    private final int[] byState = new int[PodState.values().length];
    /** One bit per slot whose tracker is not routable: writer only; none allocated until a pod arrives. */
    private long[] outOfRotation = NO_BITS;

    /** Holes inside {@code length}, exactly: writer only. */
    private int[] freeSlots = new int[16];
    private int freeCount;

    private final ConcurrentHashMap<String, PodTracker> byAddress = new ConcurrentHashMap<>();
    private volatile Consumer<PodTracker> drainedListener = t -> { };

    /** A table for a revision of the given max-scale (≤ 0: unknown), its slots reserved. */
    public PodTable(int maxScale) {
        this.reserved = initialSlots(maxScale);
        this.view = new View(Math.min(reserved, EAGER_SLOTS));
    }

    /**
     * Slots to reserve for a revision: 2 × max-scale, saturating at {@link #HARD_MAX_SLOTS};
     * {@code 2 × DEFAULT_MAX_SCALE} when max-scale is unknown (≤ 0).
     */
    public static int initialSlots(int maxScale) {
        if (maxScale <= 0) {
            return 2 * DEFAULT_MAX_SCALE;
        }
        return maxScale >= HARD_MAX_SLOTS / 2 ? HARD_MAX_SLOTS : 2 * maxScale;
    }

    // ------------------------------------------------------------------ readers (any thread)

    /** One past the highest slot in use; scans cover {@code [0, length)}. */
    public int length() {
        return length;
    }

    /** Slots allocated now (up to the reservation as pods arrive, or more after growth). */
    public int allocatedSlots() {
        return view.slots.length;
    }

    /** Trackers in the table. */
    public int size() {
        return occupied;
    }

    /** Times the table grew past its allocation. */
    public long growths() {
        return growths;
    }

    /** Empty slots inside {@link #length()} ÷ {@code length}; 0 for an empty table. */
    public double fragmentationRatio() {
        int len = length;
        return len == 0 ? 0.0 : (double) (len - occupied) / len;
    }

    /** Whether fragmentation is above {@link #TRAILING_FRAGMENTATION_THRESHOLD}. */
    public boolean isFragmented() {
        return fragmentationRatio() > TRAILING_FRAGMENTATION_THRESHOLD;
    }

    /** The tracker in {@code slot}, or null for a hole or a slot out of range. */
    public PodTracker trackerAt(int slot) {
        PodTracker[] slots = view.slots;
        return slot >= 0 && slot < slots.length ? (PodTracker) SLOTS.getAcquire(slots, slot) : null;
    }

    /** The tracker serving at {@code address} ({@code host:port}), or null. */
    public PodTracker find(String address) {
        return byAddress.get(address);
    }

    /** A copy of the trackers now in the table, in slot order. Allocates: not for the hot path. */
    public List<PodTracker> trackers() {
        int len = length;
        PodTracker[] slots = view.slots;
        List<PodTracker> out = new ArrayList<>(occupied);
        for (int i = 0; i < len && i < slots.length; i++) {
            PodTracker t = (PodTracker) SLOTS.getAcquire(slots, i);
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    /** Whether the availability bit of {@code slot} is set (a hint). */
    public boolean availableHint(int slot) {
        long[] bits = view.bits;
        int w = slot >>> 6;
        return slot >= 0 && w < bits.length && ((long) BITS.getVolatile(bits, w) & (1L << slot)) != 0;
    }

    /**
     * The lowest slot in {@code [from, length)} whose availability bit is set, or -1.
     */
    public int nextAvailable(int from) {
        int len = length;
        long[] bits = view.bits;
        if (from < 0) {
            from = 0;
        }
        if (from >= len) {
            return -1;
        }
        int wi = from >>> 6;
        int lastWord = (len - 1) >>> 6;
        long word = (long) BITS.getVolatile(bits, wi) & (-1L << from);
        for (;;) {
            if (word != 0) {
                int s = (wi << 6) + Long.numberOfTrailingZeros(word);
                return s < len ? s : -1;
            }
            if (++wi > lastWord) {
                return -1;
            }
            word = (long) BITS.getVolatile(bits, wi);
        }
    }

    /** Number of slots inside {@code length} whose availability bit is set. */
    public int availableCount() {
        int len = length;
        if (len == 0) {
            return 0;
        }
        long[] bits = view.bits;
        int lastWord = (len - 1) >>> 6;
        int n = 0;
        for (int wi = 0; wi < lastWord; wi++) {
            n += Long.bitCount((long) BITS.getVolatile(bits, wi));
        }
        return n + Long.bitCount((long) BITS.getVolatile(bits, lastWord) & lastWordMask(len));
    }

    /**
     * The slot of the {@code rank}-th set availability bit (0-based), or -1 if fewer are set
     * (the bits may change while this runs).
     */
    public int nthAvailable(int rank) {
        int len = length;
        if (len == 0 || rank < 0) {
            return -1;
        }
        long[] bits = view.bits;
        int lastWord = (len - 1) >>> 6;
        for (int wi = 0; wi <= lastWord; wi++) {
            long word = (long) BITS.getVolatile(bits, wi);
            if (wi == lastWord) {
                word &= lastWordMask(len);
            }
            int c = Long.bitCount(word);
            if (rank < c) {
                for (int i = 0; i < rank; i++) {
                    word &= word - 1;
                }
                return (wi << 6) + Long.numberOfTrailingZeros(word);
            }
            rank -= c;
        }
        return -1;
    }

    private static long lastWordMask(int len) {
        int r = len & 63;
        return r == 0 ? -1L : (1L << r) - 1;
    }

    /**
     * Tries to reserve a slot on the tracker now in {@code slot}. On failure the slot's
     * availability bit is corrected (cleared, then re-checked).
     *
     * @return the reserved tracker, or null
     */
    public PodTracker tryReserveAt(int slot) {
        PodTracker t = trackerAt(slot);
        if (t != null && t.tryReserve()) {
            return t;
        }
        clearAndRecheck(slot);
        return null;
    }

    // ------------------------------------------------------------------ tracker callbacks

    /** A reservation filled the tracker in {@code slot}. */
    @Override
    void onFilled(int slot) {
        clearAndRecheck(slot);
    }

    /** A release freed a slot on a full, routable tracker. */
    @Override
    void onFreed(int slot) {
        if (slot >= 0) {
            long[] bits = view.bits;
            int w = slot >>> 6;
            if (w < bits.length) {
                BITS.getAndBitwiseOr(bits, w, 1L << slot);
            }
        }
    }

    /** The last request on a draining tracker ended. */
    @Override
    void onDrained(PodTracker tracker) {
        drainedListener.accept(tracker);
    }

    private void clearAndRecheck(int slot) {
        if (slot < 0) {
            return;
        }
        View v = view;
        int w = slot >>> 6;
        if (w >= v.bits.length) {
            return;
        }
        long bit = 1L << slot;
        BITS.getAndBitwiseAnd(v.bits, w, ~bit);
        PodTracker now = slot < v.slots.length ? (PodTracker) SLOTS.getAcquire(v.slots, slot) : null;
        if (now != null && now.isAvailable()) {
            BITS.getAndBitwiseOr(v.bits, w, bit);
        }
    }

    private void refreshBit(int slot) {
        PodTracker t = trackerAt(slot);
        if (t != null && t.isAvailable()) {
            onFreed(slot);
        } else {
            clearAndRecheck(slot);
        }
    }

    // ------------------------------------------------------------------ writer only

    /**
     * Called (on the releasing request's thread) when the last in-flight request of a
     * {@code DRAINING} tracker ends, so the writer can free its slot without polling.
     */
    public void onDrained(Consumer<PodTracker> listener) {
        this.drainedListener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Adds a tracker for a pod. Writer only. Reuses a hole if there is one, else extends
     * {@code length}, else grows the table.
     *
     * <p>A draining tracker at the same address (IP reuse: the old pod finishes its requests
     * while a new pod has its address) stays in its slot, and the address now finds the new one.
     *
     * @throws IllegalArgumentException if a tracker that is not draining already serves at {@code address}
     * @throws IllegalStateException if the table already holds {@link #HARD_MAX_SLOTS} pods
     */
    public PodTracker add(String podId, String address, PodState state, int capacity, long nowNanos) {
        Objects.requireNonNull(address, "address");
        PodTracker existing = byAddress.get(address);
        if (existing != null && existing.state() != PodState.DRAINING) {
            throw new IllegalArgumentException("a pod is already tracked at " + address + ": " + existing);
        }
        int slot;
        if (freeCount > 0) {
            slot = freeSlots[--freeCount];
        } else {
            slot = length;
            if (slot == view.slots.length) {
                grow();
            }
        }
        PodTracker t = new PodTracker(podId, address, state, capacity, this, slot, nowNanos);
        SLOTS.setRelease(view.slots, slot, t);
        if (slot >= length) {
            length = slot + 1;
        }
        occupied = occupied + 1;
        byAddress.put(address, t);
        counted(slot, null, state);
        refreshBit(slot);
        return t;
    }

    /**
     * Moves a tracker to another state and updates its availability bit. Writer only. For
     * {@code REMOVED} use {@link #remove(PodTracker, boolean, long)}.
     *
     * @throws IllegalStateException if {@link PodState} does not allow the move
     */
    public void moveTo(PodTracker tracker, PodState target, long nowNanos) {
        if (target == PodState.REMOVED) {
            throw new IllegalArgumentException("use remove() to remove a pod");
        }
        PodState from = tracker.state();
        tracker.moveTo(target, false, nowNanos);
        counted(tracker.slot(), from, tracker.state());
        refreshBit(tracker.slot());
    }

    /**
     * Removes a tracker, leaving a hole. Writer only. Without {@code force}, removal requires
     * the tracker to be out of rotation and idle; with it (a drain deadline that passed) the
     * requests still in flight finish on the detached tracker.
     *
     * @return whether the tracker was removed; false if it still has requests in flight
     * @throws IllegalStateException if the tracker is routable (drain it first)
     */
    public boolean remove(PodTracker tracker, boolean force, long nowNanos) {
        int slot = tracker.slot();
        if (slot < 0 || trackerAt(slot) != tracker) {
            return false;
        }
        PodState from = tracker.state();
        if (!tracker.moveTo(PodState.REMOVED, force, nowNanos)) {
            return false;
        }
        counted(slot, from, null);
        PodTracker[] slots = view.slots;
        SLOTS.setRelease(slots, slot, null);
        clearAndRecheck(slot);
        tracker.setSlot(-1);
        byAddress.remove(tracker.address(), tracker);
        occupied = occupied - 1;
        pushFree(slot);
        if (fragmentationRatio() > TRAILING_FRAGMENTATION_THRESHOLD) {
            trimTrailing();
        }
        return true;
    }

    /** Records that an event confirmed the tracker's state, for the stale sweep. Writer only. */
    public void touch(PodTracker tracker, long nowNanos) {
        tracker.touch(nowNanos);
    }

    /** Sets every tracker's capacity (containerConcurrency changed). Writer only. */
    public void setCapacity(int capacity) {
        int len = length;
        for (int i = 0; i < len; i++) {
            PodTracker t = trackerAt(i);
            if (t != null) {
                t.setCapacity(capacity);
                refreshBit(i);
            }
        }
    }

    /** How many trackers are in each state, indexed by {@link PodState#ordinal()}: a copy, O(1). Writer only. */
    public int[] podsByState() {
        return byState.clone();
    }

    /** Trackers in a routable state, as of the writer's last change. O(1). */
    public int routableCount() {
        return routable;
    }

    /**
     * Requests in flight on the trackers in the table that are out of rotation (not routable).
     * Writer only: a scan of one bit per slot, reading only those trackers.
     */
    public long inFlightOutOfRotation() {
        long[] bits = outOfRotation;
        long sum = 0;
        for (int w = 0; w < bits.length; w++) {
            for (long word = bits[w]; word != 0; word &= word - 1) {
                PodTracker t = trackerAt((w << 6) + Long.numberOfTrailingZeros(word));
                if (t != null) {
                    sum += t.inFlight();
                }
            }
        }
        return sum;
    }

    /** Keeps the capacity counts as the tracker in {@code slot} goes from {@code from} to {@code to} (null: absent). */
    private void counted(int slot, PodState from, PodState to) {
        if (slot < 0) {
            return; // a tracker already detached from the table counts for nothing
        }
        if (from != null) {
            byState[from.ordinal()]--;
        }
        if (to != null) {
            byState[to.ordinal()]++;
        }
        boolean wasRoutable = from != null && from.isRoutable();
        boolean isRoutable = to != null && to.isRoutable();
        if (wasRoutable != isRoutable) {
            routable = routable + (isRoutable ? 1 : -1);
        }
        int w = slot >>> 6;
        if (w >= outOfRotation.length) {
            outOfRotation = Arrays.copyOf(outOfRotation, Math.max(w + 1, 2 * outOfRotation.length));
        }
        if (to != null && !isRoutable) {
            outOfRotation[w] |= 1L << slot;
        } else {
            outOfRotation[w] &= ~(1L << slot);
        }
    }

    private void pushFree(int slot) {
        if (freeCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, freeCount * 2);
        }
        freeSlots[freeCount++] = slot;
    }

    private void trimTrailing() {
        PodTracker[] slots = view.slots;
        int len = length;
        int before = len;
        while (len > 0 && SLOTS.getAcquire(slots, len - 1) == null) {
            len--;
        }
        if (len == before) {
            return;
        }
        length = len;
        int kept = 0;
        for (int i = 0; i < freeCount; i++) {
            if (freeSlots[i] < len) {
                freeSlots[kept++] = freeSlots[i];
            }
        }
        freeCount = kept;
    }

    private void grow() {
        View old = view;
        int oldSize = old.slots.length;
        if (oldSize >= HARD_MAX_SLOTS) {
            throw new IllegalStateException("pod table is full: " + HARD_MAX_SLOTS + " slots is the hard maximum");
        }
        boolean withinReservation = oldSize < reserved;
        int newSize = withinReservation ? (int) Math.min(reserved, 2L * oldSize)
                : (int) Math.min(HARD_MAX_SLOTS, Math.max(64L, 2L * oldSize));
        View grown = new View(newSize);
        for (int i = 0; i < oldSize; i++) {
            SLOTS.setRelease(grown.slots, i, SLOTS.getAcquire(old.slots, i));
        }
        view = grown;
        for (int i = 0; i < oldSize; i++) {
            refreshBit(i);
        }
        if (withinReservation) {
            return;
        }
        growths = growths + 1;
        LOG.log(System.Logger.Level.INFO,
                "pod table grew from {0} to {1} slots (beyond its pre-allocation; growth #{2})",
                oldSize, newSize, growths);
    }

    @Override
    public String toString() {
        return "PodTable{size=" + occupied + ", length=" + length + ", slots=" + view.slots.length
                + ", fragmentation=" + String.format("%.2f", fragmentationRatio()) + '}';
    }
}
