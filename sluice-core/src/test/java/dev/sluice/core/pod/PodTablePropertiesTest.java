package dev.sluice.core.pod;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random sequences of add / remove / state change / reserve / release, checked after every
 * step against a simple model of the table (and the counts the writer keeps for capacity
 * against a pass over it).
 */
class PodTablePropertiesTest {

    /** The model: which slot each live pod holds, its reservations, and the table's length. */
    private static final class Model {
        final Map<Integer, PodTracker> bySlot = new HashMap<>();
        final Map<PodTracker, Integer> reserved = new HashMap<>();
        final Set<Integer> holes = new HashSet<>();
        int length;
        int nextAddress;
    }

    @Property(tries = 300)
    void tableMatchesModel(@ForAll @Size(max = 400) List<@IntRange(min = 0, max = 5999) Integer> steps,
            @ForAll @IntRange(min = 1, max = 40) int maxScale,
            @ForAll @IntRange(min = 0, max = 3) int cc) {
        PodTable table = new PodTable(maxScale);
        Model m = new Model();
        long now = 0;
        for (int code : steps) {
            int op = code % 6;
            int arg = code / 6;
            List<PodTracker> live = new ArrayList<>(m.bySlot.values());
            PodTracker target = live.isEmpty() ? null : live.get(arg % live.size());
            now++;
            switch (op) {
                case 0 -> { // add
                    PodState initial = arg % 3 == 0 ? PodState.PENDING : PodState.READY;
                    PodTracker t = table.add("pod-" + m.nextAddress, "10.1.0.1:" + m.nextAddress++, initial, cc, now);
                    int slot = t.slot();
                    if (m.holes.isEmpty()) {
                        assertThat(slot).as("extends length when there is no hole").isEqualTo(m.length);
                        m.length++;
                    } else {
                        assertThat(m.holes).as("reuses a hole").contains(slot);
                        m.holes.remove(slot);
                    }
                    assertThat(m.bySlot.put(slot, t)).as("slot owned twice").isNull();
                }
                case 1 -> { // remove (drain first when routable); forced when requests are in flight
                    if (target == null) {
                        break;
                    }
                    if (target.state().isRoutable()) {
                        table.moveTo(target, PodState.DRAINING, now);
                    }
                    boolean force = arg % 2 == 0;
                    int slot = target.slot();
                    boolean removed = table.remove(target, force, now);
                    assertThat(removed).isEqualTo(force || m.reserved.getOrDefault(target, 0) == 0);
                    if (removed) {
                        m.bySlot.remove(slot);
                        m.holes.add(slot);
                        if ((double) (m.length - m.bySlot.size()) / m.length > PodTable.TRAILING_FRAGMENTATION_THRESHOLD) {
                            int highest = m.bySlot.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
                            m.length = highest + 1;
                            m.holes.removeIf(h -> h >= m.length);
                        }
                    }
                }
                case 2 -> { // state change to any state allowed from the current one
                    if (target == null) {
                        break;
                    }
                    PodState[] choices = {PodState.READY, PodState.RECOVERING, PodState.NOT_READY, PodState.DRAINING};
                    PodState next = choices[arg % choices.length];
                    if (target.state().canMoveTo(next)) {
                        table.moveTo(target, next, now);
                        assertThat(target.state()).isEqualTo(next);
                    }
                }
                case 3, 4 -> { // reserve through the table
                    if (target == null) {
                        break;
                    }
                    boolean expected = target.isAvailable();
                    PodTracker got = table.tryReserveAt(target.slot());
                    assertThat(got != null).isEqualTo(expected);
                    if (got != null) {
                        m.reserved.merge(got, 1, Integer::sum);
                    }
                }
                default -> { // release one reservation, possibly on a tracker already removed
                    if (m.reserved.isEmpty()) {
                        break;
                    }
                    List<PodTracker> holders = new ArrayList<>(m.reserved.keySet());
                    PodTracker t = holders.get(arg % holders.size());
                    t.release();
                    if (m.reserved.merge(t, -1, Integer::sum) == 0) {
                        m.reserved.remove(t);
                    }
                }
            }
            checkInvariants(table, m);
        }
    }

    private static void checkInvariants(PodTable table, Model m) {
        assertThat(table.length()).isEqualTo(m.length);
        assertThat(table.size()).isEqualTo(m.bySlot.size());
        double expectedRatio = m.length == 0 ? 0.0 : (double) (m.length - m.bySlot.size()) / m.length;
        assertThat(table.fragmentationRatio()).isEqualTo(expectedRatio);
        Set<String> addresses = new HashSet<>();
        int routable = 0;
        long outOfRotation = 0;
        int[] byState = new int[PodState.values().length];
        for (int i = 0; i < table.length(); i++) {
            PodTracker t = table.trackerAt(i);
            assertThat(t).isSameAs(m.bySlot.get(i));
            if (t != null) {
                byState[t.state().ordinal()]++;
                if (t.state().isRoutable()) {
                    routable++;
                } else {
                    outOfRotation += t.inFlight();
                }
                assertThat(t.slot()).isEqualTo(i);
                assertThat(addresses.add(t.address())).isTrue();
                assertThat(table.find(t.address())).isSameAs(t);
                int cap = t.capacity();
                assertThat(t.inFlight()).isEqualTo(m.reserved.getOrDefault(t, 0));
                if (cap > 0) {
                    assertThat(t.inFlight()).isLessThanOrEqualTo(cap);
                }
                assertThat(table.availableHint(i)).as("bit of slot %d (%s)", i, t).isEqualTo(t.isAvailable());
            } else {
                assertThat(table.availableHint(i)).isFalse();
            }
        }
        assertThat(table.routableCount()).as("routable count kept by the writer").isEqualTo(routable);
        assertThat(table.podsByState()).as("pods by state kept by the writer").containsExactly(byState);
        assertThat(table.inFlightOutOfRotation()).as("in flight out of rotation").isEqualTo(outOfRotation);
        for (int i = table.length(); i < table.allocatedSlots(); i++) {
            assertThat(table.trackerAt(i)).isNull();
            assertThat(table.availableHint(i)).isFalse();
        }
    }
}
