package dev.sluice.core.balance;


class RandomPolicyTest extends LoadBalancingPolicyContract {

    @Override
    PolicyKind kind() {
        return PolicyKind.RANDOM;
    }
}
