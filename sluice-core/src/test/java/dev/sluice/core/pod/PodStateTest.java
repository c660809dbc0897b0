package dev.sluice.core.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PodStateTest {

    @Test
    void onlyReadyAndRecoveringAreRoutable() {
        for (PodState s : PodState.values()) {
            assertThat(s.isRoutable()).as(s.name())
                    .isEqualTo(s == PodState.READY || s == PodState.RECOVERING);
        }
    }

    @Test
    void routablePodsAreDrainedBeforeRemoval() {
        assertThat(PodState.READY.canMoveTo(PodState.REMOVED)).isFalse();
        assertThat(PodState.RECOVERING.canMoveTo(PodState.REMOVED)).isFalse();
        assertThat(PodState.DRAINING.canMoveTo(PodState.REMOVED)).isTrue();
        assertThat(PodState.NOT_READY.canMoveTo(PodState.REMOVED)).isTrue();
    }

    @Test
    void removedIsTerminalAndSameStateIsAlwaysAllowed() {
        for (PodState s : PodState.values()) {
            assertThat(s.canMoveTo(s)).isTrue();
            assertThat(PodState.REMOVED.canMoveTo(s)).isEqualTo(s == PodState.REMOVED);
        }
    }

    @Test
    void parsesWireNamesAndRejectsUnknownOnes() {
        assertThat(PodState.parse("not-ready")).isEqualTo(PodState.NOT_READY);
        assertThat(PodState.parse(" READY ")).isEqualTo(PodState.READY);
        assertThat(PodState.parse("Not_Ready")).isEqualTo(PodState.NOT_READY);
        assertThat(PodState.NOT_READY.wireName()).isEqualTo("not-ready");
        assertThatThrownBy(() -> PodState.parse("sleepy"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'sleepy'").hasMessageContaining("not-ready");
        assertThatThrownBy(() -> PodState.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
