package dev.sluice.core.throttle;

import java.util.Map;
import java.util.Objects;

/**
 * How a revision's queue shares itself out between tenants: each tenant's weight in the
 * deficit round robin within a class, the most waiters one tenant may hold, and whether a
 * higher class may push out a lower one when the queue is full. Immutable; a reload swaps in a
 * new one ({@link RevisionThrottler#setQueuePolicy}).
 *
 * <p>Classes themselves are plain indices on each request ({@code 0} the highest, up to
 * {@link #MAX_CLASSES}); what they are called, and how a request is put in one, is the
 * server's business.
 *
 * @param tenantCap     the most requests one tenant may have waiting in the revision, across
 *                      classes; {@link Integer#MAX_VALUE} for no cap
 * @param preemption    whether a request arriving at a full queue evicts the newest waiter of
 *                      the lowest class below its own (answered {@link Rejection#PREEMPTED})
 * @param weights       tenant name → weight, for the tenants that do not have the default
 * @param defaultWeight the weight of every other tenant (and of the shared, unnamed one)
 */
public record QueuePolicy(int tenantCap, boolean preemption, Map<String, Integer> weights, int defaultWeight) {

    /** Class indices run from 0 (served first) to {@code MAX_CLASSES - 1}: one bit each in a long. */
    public static final int MAX_CLASSES = 64;
    /** The largest weight: a tenant's turn is at most this many requests in a row. */
    public static final int MAX_WEIGHT = 1000;

    /** One FIFO, as a revision without a {@code queueing} section has: no cap, no preemption, equal weights. */
    public static final QueuePolicy FIFO = new QueuePolicy(Integer.MAX_VALUE, false, Map.of(), 1);

    public QueuePolicy {
        if (tenantCap < 1) {
            throw new IllegalArgumentException("tenantCap must be >= 1, was " + tenantCap);
        }
        weights = Map.copyOf(Objects.requireNonNull(weights, "weights"));
        checkWeight(defaultWeight, "defaultWeight");
        weights.forEach((tenant, w) -> checkWeight(w, "weight of tenant '" + tenant + "'"));
    }

    private static void checkWeight(int w, String what) {
        if (w < 1 || w > MAX_WEIGHT) {
            throw new IllegalArgumentException(what + " must be in 1.." + MAX_WEIGHT + ", was " + w);
        }
    }

    /** The weight of {@code tenant} (null: the shared tenant). */
    public int weightOf(String tenant) {
        if (tenant == null) {
            return defaultWeight;
        }
        Integer w = weights.get(tenant);
        return w == null ? defaultWeight : w;
    }
}
