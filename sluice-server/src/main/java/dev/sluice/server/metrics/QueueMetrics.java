package dev.sluice.server.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import java.util.HashSet;
import java.util.Set;

/**
 * One revision's queue metrics by priority class and tenant: requests waiting now, how long
 * each request that got a pod waited (0 if it did not), and the requests the queue refused or
 * dropped, by reason. Recorded only for a revision with a {@code queueing} section.
 *
 * <p><b>Bounded labels.</b> Tenants come from requests, so their number is the clients' to
 * choose: the first {@link #MAX_TENANT_LABELS} distinct tenants of a revision get a label of
 * their own, every later one is counted as {@code other}, and requests without a tenant as
 * {@code shared}. A tenant longer than {@link #MAX_TENANT_LABEL_LENGTH} characters is counted
 * as {@code other} too (a header value may be kilobytes, and each label is kept and scraped for
 * the process's life); cutting it short instead could give two tenants one label. Classes are
 * the operator's (at most 64).
 *
 * <h2>Implementation notes</h2>
 * Any event-loop thread records; the label set is guarded by its own monitor (a short
 * lookup, taken only on the queued path). The families' own maps make the data points, so two
 * threads asking for the same labels get the same point.
 */
public final class QueueMetrics {

    /** Distinct tenant labels per revision; the rest are folded into {@code other}. */
    public static final int MAX_TENANT_LABELS = 50;
    /** The longest tenant that gets a label of its own. */
    public static final int MAX_TENANT_LABEL_LENGTH = 64;
    public static final String SHARED = "shared";
    public static final String OTHER = "other";

    private final String revision;
    private final Gauge queued;
    private final Histogram waits;
    private final Counter rejections;
    private final Set<String> tenants = new HashSet<>();

    QueueMetrics(String revision, Gauge queued, Histogram waits, Counter rejections) {
        this.revision = revision;
        this.queued = queued;
        this.waits = waits;
        this.rejections = rejections;
    }

    /** The label for {@code tenant} (null: the shared tenant). */
    public String tenantLabel(String tenant) {
        if (tenant == null) {
            return SHARED;
        }
        if (tenant.length() > MAX_TENANT_LABEL_LENGTH) {
            return OTHER;
        }
        synchronized (tenants) {
            if (tenants.contains(tenant)) {
                return tenant;
            }
            if (tenants.size() < MAX_TENANT_LABELS && !SHARED.equals(tenant) && !OTHER.equals(tenant)) {
                tenants.add(tenant);
                return tenant;
            }
        }
        return OTHER;
    }

    /** A request of {@code cls} and tenant label {@code tenant} started ({@code +1}) or stopped ({@code -1}) waiting. */
    public void queued(String cls, String tenant, int delta) {
        queued.labelValues(revision, cls, tenant).inc(delta);
    }

    /** A request waited {@code nanos} before it got a pod. */
    public void waited(String cls, String tenant, long nanos) {
        waits.labelValues(revision, cls, tenant).observe(nanos / 1e9);
    }

    /** The queue refused a request, or dropped a waiting one, for {@code outcome}. */
    public void rejected(String cls, String tenant, Outcome outcome) {
        rejections.labelValues(revision, cls, tenant, outcome.wireName()).inc();
    }
}
