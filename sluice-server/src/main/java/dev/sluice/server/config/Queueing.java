package dev.sluice.server.config;

import dev.sluice.core.throttle.QueuePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A revision's {@code queueing} section: the priority classes its waiting requests are sorted
 * into, how a request's class and tenant are found, and how the queue is shared between
 * tenants. Without a section a revision has {@link #NONE}: one class, one shared tenant, one
 * FIFO, and requests are not looked at.
 *
 * @param classes        in order of priority, the first served first (at least one)
 * @param defaultClass   the index of the class of a request that names none, or an unknown one
 * @param priorityHeader the request header that names a class; null: clients cannot choose
 * @param tenantHeader   the request header that names the tenant; null: only rules set tenants
 * @param rules          tried in order before the headers; the first that matches and sets a
 *                       class decides the class, likewise for the tenant
 * @param tenantWeights  tenant → weight in the round robin within a class (default 1)
 * @param tenantCap      the most requests one tenant may have waiting, or null for none
 * @param preemption     whether a request arriving at a full queue evicts the newest waiter of
 *                       a lower class (answered 503 {@code preempted})
 */
public record Queueing(List<QueueClass> classes, int defaultClass, String priorityHeader, String tenantHeader,
        List<QueueRule> rules, Map<String, Integer> tenantWeights, TenantCap tenantCap, boolean preemption) {

    public static final String DEFAULT_PRIORITY_HEADER = "Sluice-Priority";
    public static final String DEFAULT_TENANT_HEADER = "Sluice-Tenant";

    /** A revision without a {@code queueing} section. */
    public static final Queueing NONE = new Queueing(List.of(new QueueClass("default", null)), 0, null, null,
            List.of(), Map.of(), null, false);

    public Queueing {
        classes = List.copyOf(classes);
        rules = List.copyOf(rules);
        tenantWeights = Map.copyOf(tenantWeights);
    }

    /**
     * A priority class.
     *
     * @param queueTimeout how long its requests may wait, or null for the revision's
     *                     {@code timeouts.queue}
     */
    public record QueueClass(String name, Duration queueTimeout) {
    }

    /**
     * Puts matching requests in a class, a tenant or both. Every condition given must hold:
     * {@code host} equal (ignoring case), the path starting with {@code pathPrefix}, header
     * {@code header} present (and equal to {@code value} when one is given).
     *
     * @param cls    the class's index, or -1 if the rule sets only the tenant
     * @param tenant the tenant, or null if the rule sets only the class
     */
    public record QueueRule(String host, String pathPrefix, String header, String value, int cls, String tenant) {
    }

    /** A per-tenant cap: {@code requests} waiting, or {@code percent} of the queue depth. */
    public record TenantCap(int requests, int percent) {

        /** The cap in requests for a queue of {@code queueDepth}: a share rounds up, and is at least 1. */
        public int of(int queueDepth) {
            if (percent == 0) {
                return requests;
            }
            return (int) Math.max(1, ((long) queueDepth * percent + 99) / 100);
        }

        @Override
        public String toString() {
            return percent == 0 ? Integer.toString(requests) : percent + "%";
        }
    }

    /** Whether requests need no look at all: one class, no rules, no tenant header. */
    public boolean plain() {
        return classes.size() == 1 && rules.isEmpty() && tenantHeader == null;
    }

    /** The index of the class called {@code name} (ignoring ASCII case), or -1. */
    public int classIndex(String name) {
        for (int i = 0; i < classes.size(); i++) {
            if (classes.get(i).name().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    /** How long a request of class {@code cls} may wait: the class's own timeout, or {@code revisionDefault}. */
    public Duration queueTimeout(int cls, Duration revisionDefault) {
        Duration d = classes.get(cls).queueTimeout();
        return d == null ? revisionDefault : d;
    }

    /** The core's share-out for a queue of {@code queueDepth}. */
    public QueuePolicy policy(int queueDepth) {
        return new QueuePolicy(tenantCap == null ? Integer.MAX_VALUE : tenantCap.of(queueDepth), preemption,
                tenantWeights, 1);
    }

    /** The class names, in order (for the status page and the metrics). */
    public List<String> classNames() {
        return classes.stream().map(QueueClass::name).toList();
    }
}
