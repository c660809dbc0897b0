package dev.sluice.core.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PodTableTest {

    private static PodTracker add(PodTable t, int i) {
        return t.add("pod-" + i, "10.0.0." + i + ":8080", PodState.READY, 1, 0);
    }

    private static void drainAndRemove(PodTable table, PodTracker p) {
        table.moveTo(p, PodState.DRAINING, 0);
        assertThat(table.remove(p, false, 0)).isTrue();
    }

    @Test
    void preAllocationIsTwiceMaxScaleSaturatingWithADefault() {
        assertThat(PodTable.initialSlots(10)).isEqualTo(20);
        assertThat(PodTable.initialSlots(0)).isEqualTo(2 * PodTable.DEFAULT_MAX_SCALE);
        assertThat(PodTable.initialSlots(-5)).isEqualTo(2 * PodTable.DEFAULT_MAX_SCALE);
        assertThat(PodTable.initialSlots(Integer.MAX_VALUE)).isEqualTo(PodTable.HARD_MAX_SLOTS);
        assertThat(PodTable.initialSlots(PodTable.HARD_MAX_SLOTS / 2)).isEqualTo(PodTable.HARD_MAX_SLOTS);
        assertThat(PodTable.initialSlots(PodTable.HARD_MAX_SLOTS / 2 - 1)).isEqualTo(PodTable.HARD_MAX_SLOTS - 2);
        assertThat(new PodTable(3).allocatedSlots()).isEqualTo(6);
    }

    @Test
    void removalLeavesAHoleThatTheNextPodReuses() {
        PodTable table = new PodTable(8);
        List<PodTracker> pods = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pods.add(add(table, i));
        }
        drainAndRemove(table, pods.get(1));
        assertThat(table.length()).isEqualTo(4);
        assertThat(table.trackerAt(1)).isNull();
        assertThat(table.trackerAt(2)).isSameAs(pods.get(2)).as("no element moves");
        assertThat(table.fragmentationRatio()).isEqualTo(0.25);
        PodTracker fresh = add(table, 9);
        assertThat(fresh.slot()).isEqualTo(1);
        assertThat(table.length()).isEqualTo(4);
        assertThat(table.fragmentationRatio()).isZero();
    }

    @Test
    void trailingHolesAreTrimmedOnlyPastTheThreshold() {
        PodTable table = new PodTable(8);
        List<PodTracker> pods = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pods.add(add(table, i));
        }
        drainAndRemove(table, pods.get(3));
        // 1 of 4 empty: 0.25 ≤ 0.5, the trailing hole stays for reuse.
        assertThat(table.length()).isEqualTo(4);
        drainAndRemove(table, pods.get(2));
        // 2 of 4: exactly 0.5, not above it.
        assertThat(table.length()).isEqualTo(4);
        drainAndRemove(table, pods.get(0));
        // 3 of 4 > 0.5: trailing holes go; the interior hole at 0 stays.
        assertThat(table.length()).isEqualTo(2);
        assertThat(table.trackerAt(1)).isSameAs(pods.get(1));
        assertThat(table.fragmentationRatio()).isEqualTo(0.5);
        // The free list no longer offers trimmed slots: the next pods go to 0, then 2.
        assertThat(add(table, 7).slot()).isEqualTo(0);
        assertThat(add(table, 8).slot()).isEqualTo(2);
        assertThat(table.length()).isEqualTo(3);
    }

    @Test
    void interiorHolesAreNeverCompactedEvenAboveTheThreshold() {
        PodTable table = new PodTable(8);
        List<PodTracker> pods = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pods.add(add(table, i));
        }
        for (int i = 0; i < 3; i++) {
            drainAndRemove(table, pods.get(i));
        }
        assertThat(table.fragmentationRatio()).isEqualTo(0.75);
        assertThat(table.isFragmented()).isTrue();
        assertThat(table.length()).as("no trailing hole to trim; nothing moves").isEqualTo(4);
        assertThat(table.trackerAt(3)).isSameAs(pods.get(3));
        add(table, 9);
        add(table, 10);
        assertThat(table.isFragmented()).as("refilled from the free list").isFalse();
    }

    @Test
    void indexMapFindsTrackersByAddress() {
        PodTable table = new PodTable(4);
        PodTracker p = add(table, 1);
        assertThat(table.find("10.0.0.1:8080")).isSameAs(p);
        assertThatThrownBy(() -> add(table, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("10.0.0.1:8080");
        drainAndRemove(table, p);
        assertThat(table.find("10.0.0.1:8080")).isNull();
        assertThat(p.slot()).isEqualTo(-1);
    }

    @Test
    void growingPastThePreAllocationCopiesAndCounts() {
        PodTable table = new PodTable(1);
        assertThat(table.allocatedSlots()).isEqualTo(2);
        List<PodTracker> pods = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            pods.add(add(table, i));
        }
        assertThat(table.growths()).isEqualTo(2);
        assertThat(table.allocatedSlots()).isGreaterThanOrEqualTo(100);
        for (int i = 0; i < 100; i++) {
            assertThat(table.trackerAt(i)).isSameAs(pods.get(i));
            assertThat(table.availableHint(i)).isTrue();
        }
    }

    @Test
    void availabilityBitFollowsFillAndFree() {
        PodTable table = new PodTable(4);
        PodTracker p = table.add("p", "a:1", PodState.READY, 2, 0);
        assertThat(table.nextAvailable(0)).isEqualTo(0);
        assertThat(table.tryReserveAt(0)).isSameAs(p);
        assertThat(table.availableHint(0)).isTrue();
        assertThat(table.tryReserveAt(0)).isSameAs(p);
        assertThat(table.availableHint(0)).as("full").isFalse();
        assertThat(table.nextAvailable(0)).isEqualTo(-1);
        p.release();
        assertThat(table.availableHint(0)).isTrue();
        table.moveTo(p, PodState.NOT_READY, 1);
        assertThat(table.availableHint(0)).as("not routable").isFalse();
        table.moveTo(p, PodState.RECOVERING, 2);
        assertThat(table.availableHint(0)).isTrue();
    }

    @Test
    void pendingPodsAreNotAvailable() {
        PodTable table = new PodTable(4);
        PodTracker p = table.add("p", "a:1", PodState.PENDING, 1, 0);
        assertThat(table.availableCount()).isZero();
        assertThat(table.tryReserveAt(0)).isNull();
        table.moveTo(p, PodState.READY, 1);
        assertThat(table.availableCount()).isEqualTo(1);
    }

    @Test
    void bitScansFindEveryCandidateAcrossWords() {
        PodTable table = new PodTable(200);
        for (int i = 0; i < 150; i++) {
            PodTracker t = table.add("p" + i, "h:" + i, i % 7 == 0 ? PodState.READY : PodState.PENDING, 1, 0);
            assertThat(t.slot()).isEqualTo(i);
        }
        List<Integer> seen = new ArrayList<>();
        for (int s = table.nextAvailable(0); s >= 0; s = table.nextAvailable(s + 1)) {
            seen.add(s);
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 150; i += 7) {
            expected.add(i);
        }
        assertThat(seen).isEqualTo(expected);
        assertThat(table.availableCount()).isEqualTo(expected.size());
        for (int r = 0; r < expected.size(); r++) {
            assertThat(table.nthAvailable(r)).isEqualTo(expected.get(r));
        }
        assertThat(table.nthAvailable(expected.size())).isEqualTo(-1);
    }

    @Test
    void aRequestReleasesToItsOwnTrackerAfterTheSlotWasReused() {
        PodTable table = new PodTable(4);
        PodTracker old = table.add("old", "a:1", PodState.READY, 1, 0);
        assertThat(old.tryReserve()).isTrue();
        table.moveTo(old, PodState.DRAINING, 1);
        assertThat(table.remove(old, true, 2)).as("forced at a drain deadline").isTrue();
        PodTracker fresh = table.add("new", "a:1", PodState.READY, 1, 3);
        assertThat(old.slot()).isEqualTo(-1);
        assertThat(fresh.slot()).as("the freed slot is reused").isZero();
        assertThat(fresh.tryReserve()).isTrue();
        old.release();
        assertThat(old.inFlight()).isZero();
        assertThat(fresh.inFlight()).as("the new pod's count is untouched").isEqualTo(1);
        assertThat(table.availableHint(0)).as("the new pod is still full").isFalse();
    }

    @Test
    void lastReleaseOfADrainingPodNotifiesTheListener() {
        PodTable table = new PodTable(4);
        List<PodTracker> drained = new ArrayList<>();
        table.onDrained(drained::add);
        PodTracker p = table.add("p", "a:1", PodState.READY, 2, 0);
        assertThat(p.tryReserve()).isTrue();
        assertThat(p.tryReserve()).isTrue();
        table.moveTo(p, PodState.DRAINING, 1);
        p.release();
        assertThat(drained).isEmpty();
        p.release();
        assertThat(drained).containsExactly(p);
    }

    @Test
    void aRoutablePodCannotBeRemovedWithoutDraining() {
        PodTable table = new PodTable(4);
        PodTracker p = add(table, 1);
        assertThatThrownBy(() -> table.remove(p, false, 0)).isInstanceOf(IllegalStateException.class);
        assertThat(table.trackerAt(0)).isSameAs(p);
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void capacityChangesUpdateTheIndex() {
        PodTable table = new PodTable(4);
        PodTracker p = table.add("p", "a:1", PodState.READY, 1, 0);
        assertThat(p.tryReserve()).isTrue();
        assertThat(table.availableHint(0)).isFalse();
        table.setCapacity(2);
        assertThat(table.availableHint(0)).isTrue();
        assertThat(table.routableCount()).isEqualTo(1);
    }
}
