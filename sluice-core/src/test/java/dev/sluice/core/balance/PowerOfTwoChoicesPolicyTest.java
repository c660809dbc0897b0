package dev.sluice.core.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import org.junit.jupiter.api.Test;

class PowerOfTwoChoicesPolicyTest extends LoadBalancingPolicyContract {

    @Override
    PolicyKind kind() {
        return PolicyKind.POWER_OF_TWO_CHOICES;
    }

    @Test
    void ofTwoPodsAlwaysPicksTheLessLoaded() {
        PodTable table = tableOf(2, 0);
        PodTracker busy = table.trackerAt(0);
        for (int j = 0; j < 4; j++) {
            busy.tryReserve();
        }
        for (int i = 0; i < 1_000; i++) {
            PodTracker t = policy.select(table);
            assertThat(t).isSameAs(table.trackerAt(1));
            t.release();
        }
    }
}
