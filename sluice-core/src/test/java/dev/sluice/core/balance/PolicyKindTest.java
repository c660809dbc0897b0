package dev.sluice.core.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PolicyKindTest {

    @Test
    void defaultsFollowContainerConcurrency() {
        assertThat(PolicyKind.defaultFor(0)).isEqualTo(PolicyKind.POWER_OF_TWO_CHOICES);
        assertThat(PolicyKind.defaultFor(1)).isEqualTo(PolicyKind.FIRST_AVAILABLE);
        assertThat(PolicyKind.defaultFor(3)).isEqualTo(PolicyKind.FIRST_AVAILABLE);
        assertThat(PolicyKind.defaultFor(4)).isEqualTo(PolicyKind.ROUND_ROBIN);
        assertThat(PolicyKind.defaultFor(1000)).isEqualTo(PolicyKind.ROUND_ROBIN);
        assertThatThrownBy(() -> PolicyKind.defaultFor(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parsesConfiguredNames() {
        assertThat(PolicyKind.parse("round-robin")).isEqualTo(PolicyKind.ROUND_ROBIN);
        assertThat(PolicyKind.parse("LEAST_CONNECTIONS")).isEqualTo(PolicyKind.LEAST_CONNECTIONS);
        assertThat(PolicyKind.parse("p2c")).isEqualTo(PolicyKind.POWER_OF_TWO_CHOICES);
        for (PolicyKind k : PolicyKind.values()) {
            assertThat(PolicyKind.parse(k.wireName())).isEqualTo(k);
            assertThat(k.create().kind()).isEqualTo(k);
        }
        assertThatThrownBy(() -> PolicyKind.parse("fastest"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'fastest'").hasMessageContaining("round-robin");
    }
}
