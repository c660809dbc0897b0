package dev.sluice.core.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeastConnectionsPolicyTest extends LoadBalancingPolicyContract {

    @Override
    PolicyKind kind() {
        return PolicyKind.LEAST_CONNECTIONS;
    }

    @Test
    void picksTheLeastLoadedPodWithAFreeSlot() {
        PodTable table = tableOf(3, 5);
        List<PodTracker> pods = table.trackers();
        int[] loads = {3, 1, 2};
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < loads[i]; j++) {
                pods.get(i).tryReserve();
            }
        }
        assertThat(policy.select(table)).isSameAs(pods.get(1));
        assertThat(policy.select(table)).isIn(pods.get(1), pods.get(2));
    }
}
