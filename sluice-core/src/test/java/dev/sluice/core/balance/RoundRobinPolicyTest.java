package dev.sluice.core.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import org.junit.jupiter.api.Test;

class RoundRobinPolicyTest extends LoadBalancingPolicyContract {

    @Override
    PolicyKind kind() {
        return PolicyKind.ROUND_ROBIN;
    }

    @Test
    void visitsPodsInTurn() {
        PodTable table = tableOf(4, 2);
        for (int i = 0; i < 8; i++) {
            PodTracker t = policy.select(table);
            assertThat(t.slot()).isEqualTo(i % 4);
            t.release();
        }
    }
}
