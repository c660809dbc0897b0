package dev.sluice.core.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PodTrackerTest {

    @Test
    void reservesUpToCapacityAndReleasesBack() {
        PodTracker t = PodTracker.detached("p", "10.0.0.1:8080", PodState.READY, 2);
        assertThat(t.tryReserve()).isTrue();
        assertThat(t.tryReserve()).isTrue();
        assertThat(t.tryReserve()).as("third request on a cc=2 pod").isFalse();
        assertThat(t.inFlight()).isEqualTo(2);
        assertThat(t.isAvailable()).isFalse();
        t.release();
        assertThat(t.inFlight()).isEqualTo(1);
        assertThat(t.isAvailable()).isTrue();
        assertThat(t.tryReserve()).isTrue();
    }

    @Test
    void unlimitedCapacityNeverFills() {
        PodTracker t = PodTracker.detached("p", "a:1", PodState.READY, 0);
        for (int i = 0; i < 10_000; i++) {
            assertThat(t.tryReserve()).isTrue();
        }
        assertThat(t.inFlight()).isEqualTo(10_000);
        assertThat(t.isAvailable()).isTrue();
    }

    @Test
    void nonRoutableStatesRefuseReservations() {
        for (PodState s : new PodState[] {PodState.PENDING, PodState.NOT_READY, PodState.DRAINING}) {
            PodTracker t = PodTracker.detached("p", "a:1", s, 4);
            assertThat(t.tryReserve()).as(s.name()).isFalse();
            assertThat(t.inFlight()).isZero();
        }
        assertThat(PodTracker.detached("p", "a:1", PodState.RECOVERING, 4).tryReserve()).isTrue();
    }

    @Test
    void aHoldTakesASlotOnAPodNotRoutableYetButNeverOnOneLeaving() {
        for (PodState s : new PodState[] {PodState.PENDING, PodState.NOT_READY, PodState.READY}) {
            PodTracker t = PodTracker.detached("p", "a:1", s, 1);
            assertThat(t.tryHold()).as(s.name()).isTrue();
            assertThat(t.tryHold()).as(s.name() + ", at capacity").isFalse();
            assertThat(t.inFlight()).isEqualTo(1);
            t.release();
            assertThat(t.inFlight()).isZero();
        }
        PodTracker draining = PodTracker.detached("p", "a:1", PodState.DRAINING, 4);
        assertThat(draining.tryHold()).isFalse();
        assertThat(draining.inFlight()).isZero();
    }

    @Test
    void aPodHeldWhileNotRoutableIsFullWhenItTurnsRoutable() {
        PodTable table = new PodTable(4);
        PodTracker t = table.add("p", "a:1", PodState.PENDING, 1, 0L);
        assertThat(t.tryHold()).isTrue();
        table.moveTo(t, PodState.READY, 1L);
        assertThat(t.isAvailable()).isFalse();
        assertThat(table.availableCount()).isZero();
        assertThat(t.tryReserve()).as("a request finds it full").isFalse();
        t.release();
        assertThat(table.availableCount()).isEqualTo(1);
        assertThat(t.tryReserve()).isTrue();
    }

    @Test
    void aReleaseWithoutReservationIsRefusedAndChangesNothing() {
        PodTracker t = PodTracker.detached("p", "a:1", PodState.READY, 1);
        assertThatThrownBy(t::release).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("release without a reservation");
        assertThat(t.inFlight()).isZero();
        assertThat(t.state()).isEqualTo(PodState.READY);
    }

    @Test
    void drainingStopsNewReservationsButRunningOnesFinish() {
        PodTracker t = PodTracker.detached("p", "a:1", PodState.READY, 2);
        assertThat(t.tryReserve()).isTrue();
        assertThat(t.moveTo(PodState.DRAINING, false, 5)).isTrue();
        assertThat(t.lastStateChangeNanos()).isEqualTo(5);
        assertThat(t.tryReserve()).isFalse();
        assertThat(t.moveTo(PodState.REMOVED, false, 6)).as("removal with a request in flight").isFalse();
        assertThat(t.state()).isEqualTo(PodState.DRAINING);
        t.release();
        assertThat(t.moveTo(PodState.REMOVED, false, 7)).isTrue();
        assertThat(t.state()).isEqualTo(PodState.REMOVED);
    }

    @Test
    void forcedRemovalLeavesRunningRequestsToReleaseOnTheSameTracker() {
        PodTracker t = PodTracker.detached("p", "a:1", PodState.READY, 1);
        assertThat(t.tryReserve()).isTrue();
        t.moveTo(PodState.DRAINING, false, 1);
        assertThat(t.moveTo(PodState.REMOVED, true, 2)).isTrue();
        t.release();
        assertThat(t.inFlight()).isZero();
    }

    @Test
    void disallowedTransitionsThrowAndChangeNothing() {
        PodTracker t = PodTracker.detached("p", "a:1", PodState.READY, 1);
        assertThatThrownBy(() -> t.moveTo(PodState.REMOVED, false, 1))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("READY to REMOVED");
        assertThatThrownBy(() -> t.moveTo(PodState.PENDING, false, 1)).isInstanceOf(IllegalStateException.class);
        assertThat(t.state()).isEqualTo(PodState.READY);
    }

    @Test
    void rejectsNegativeCapacity() {
        assertThatThrownBy(() -> PodTracker.detached("p", "a:1", PodState.READY, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity");
    }
}
