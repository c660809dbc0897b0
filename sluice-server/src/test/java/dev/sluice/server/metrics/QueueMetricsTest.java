package dev.sluice.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import org.junit.jupiter.api.Test;

/** Tenant labels stay bounded in number and length whatever the clients send. */
class QueueMetricsTest {

    private final QueueMetrics metrics = new QueueMetrics("default/model",
            Gauge.builder().name("q").labelNames("revision", "class", "tenant").build(),
            Histogram.builder().name("w").labelNames("revision", "class", "tenant").build(),
            Counter.builder().name("r").labelNames("revision", "class", "tenant", "reason").build());

    @Test
    void theFirstTenantsGetTheirOwnLabelAndTheRestAreOther() {
        for (int i = 0; i < QueueMetrics.MAX_TENANT_LABELS; i++) {
            assertThat(metrics.tenantLabel("t" + i)).isEqualTo("t" + i);
        }
        assertThat(metrics.tenantLabel("late")).isEqualTo(QueueMetrics.OTHER);
        assertThat(metrics.tenantLabel("t7")).as("a tenant seen before keeps its label").isEqualTo("t7");
        assertThat(metrics.tenantLabel(null)).isEqualTo(QueueMetrics.SHARED);
    }

    @Test
    void aTenantLongerThanTheCapIsOtherAndTakesNoPlace() {
        String limit = "a".repeat(QueueMetrics.MAX_TENANT_LABEL_LENGTH);
        assertThat(metrics.tenantLabel(limit + "b")).isEqualTo(QueueMetrics.OTHER);
        assertThat(metrics.tenantLabel("x".repeat(8192))).isEqualTo(QueueMetrics.OTHER);
        assertThat(metrics.tenantLabel(limit)).as("exactly the cap is kept").isEqualTo(limit);
        for (int i = 1; i < QueueMetrics.MAX_TENANT_LABELS; i++) {
            assertThat(metrics.tenantLabel("t" + i)).as("the long ones took no place").isEqualTo("t" + i);
        }
    }

    @Test
    void aTenantNamedLikeAFoldedLabelIsOther() {
        assertThat(metrics.tenantLabel(QueueMetrics.SHARED)).isEqualTo(QueueMetrics.OTHER);
        assertThat(metrics.tenantLabel(QueueMetrics.OTHER)).isEqualTo(QueueMetrics.OTHER);
    }
}
