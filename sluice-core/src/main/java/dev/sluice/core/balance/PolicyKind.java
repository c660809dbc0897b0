package dev.sluice.core.balance;

import java.util.Locale;
import java.util.function.Supplier;

/** The five load-balancing policies, and the default for a revision's containerConcurrency. */
public enum PolicyKind {
    /** Uniform among pods with a free slot. */
    RANDOM("random", RandomPolicy::new),
    /** Two distinct random pods with free slots; the one with fewer requests in flight wins. */
    POWER_OF_TWO_CHOICES("power-of-two-choices", PowerOfTwoChoicesPolicy::new),
    /** The lowest slot with a free slot: packs load onto the first pods. */
    FIRST_AVAILABLE("first-available", FirstAvailablePolicy::new),
    /** The next pod with a free slot after the last one chosen. */
    ROUND_ROBIN("round-robin", RoundRobinPolicy::new),
    /** Fewest requests in flight among pods with a free slot. */
    LEAST_CONNECTIONS("least-connections", LeastConnectionsPolicy::new);

    private final String wireName;
    private final Supplier<LoadBalancingPolicy> factory;

    PolicyKind(String wireName, Supplier<LoadBalancingPolicy> factory) {
        this.wireName = wireName;
        this.factory = factory;
    }

    /** A new instance (policies with a cursor keep it per instance, so one per revision). */
    public LoadBalancingPolicy create() {
        return factory.get();
    }

    /** The name used in configuration, e.g. {@code round-robin}. */
    public String wireName() {
        return wireName;
    }

    /**
     * The default policy for a containerConcurrency: 0 (unlimited) → power of two choices;
     * 1–3 → first available; more → round robin. As upstream Knative chooses.
     */
    public static PolicyKind defaultFor(int containerConcurrency) {
        if (containerConcurrency < 0) {
            throw new IllegalArgumentException("containerConcurrency must be >= 0, was " + containerConcurrency);
        }
        if (containerConcurrency == 0) {
            return POWER_OF_TWO_CHOICES;
        }
        return containerConcurrency <= 3 ? FIRST_AVAILABLE : ROUND_ROBIN;
    }

    /**
     * Parses a configured name ({@code round-robin}, {@code ROUND_ROBIN}, {@code p2c}…).
     *
     * @throws IllegalArgumentException naming the value and the accepted names
     */
    public static PolicyKind parse(String text) {
        if (text != null) {
            String normal = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            if (normal.equals("p2c")) {
                return POWER_OF_TWO_CHOICES;
            }
            for (PolicyKind k : values()) {
                if (k.wireName.equals(normal)) {
                    return k;
                }
            }
        }
        throw new IllegalArgumentException("unknown load-balancing policy '" + text + "': expected one of "
                + "random, power-of-two-choices (p2c), first-available, round-robin, least-connections");
    }
}
