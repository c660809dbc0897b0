package dev.sluice.core.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.pod.PodTable;
import org.junit.jupiter.api.Test;

class FirstAvailablePolicyTest extends LoadBalancingPolicyContract {

    @Override
    PolicyKind kind() {
        return PolicyKind.FIRST_AVAILABLE;
    }

    @Override
    boolean spreadsEvenly() {
        return false;
    }

    @Test
    void picksTheLowestFreeSlot() {
        PodTable table = tableOf(5, 1);
        for (int i = 0; i < 5; i++) {
            assertThat(policy.select(table).slot()).isEqualTo(i);
        }
    }
}
