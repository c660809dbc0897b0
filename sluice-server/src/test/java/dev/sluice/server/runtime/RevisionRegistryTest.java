package dev.sluice.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.ManualClock;
import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ReadinessCheck;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.core.throttle.ZeroPodListener;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.metrics.SluiceMetrics;
import dev.sluice.server.proxy.ProxyContext;
import dev.sluice.server.proxy.Route;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The running revisions as one published set: the proxy, metrics, probes and control path agree. */
class RevisionRegistryTest {

    private static final RevisionId A = new RevisionId("default", "a");
    private static final RevisionId B = new RevisionId("default", "b");

    private final SluiceMetrics metrics = new SluiceMetrics(Map::of);
    private final StateManager control = new StateManager(1, new ManualClock(), ReadinessCheck.ALWAYS_READY, metrics);
    private final ProxyContext proxy = new ProxyContext(control, new ManualClock(), NioSocketChannel.class, 1_000,
            status -> { });
    private final RevisionRegistry registry = new RevisionRegistry(control, proxy, metrics, NanoClock.system(),
            id -> ZeroPodListener.NONE);

    @AfterEach
    void tearDown() {
        control.close();
    }

    private static List<RevisionConfig> revisions(String yaml) throws Exception {
        return ConfigLoader.parse("t", "revisions: " + yaml).revisions();
    }

    @Test
    void anOpenedRevisionRunsForNobodyUntilItIsPublished() throws Exception {
        RevisionConfig a = revisions("[{name: a, readinessPath: /ready}]").get(0);
        Route route = registry.open(a);
        assertThat(control.revisions()).containsExactly(A);
        assertThat(registry.get(A)).isNull();
        assertThat(proxy.routes().find("default/a", null, null, null)).isNull();

        registry.publish(List.of(route), id -> { });
        assertThat(registry.get(A)).isSameAs(route);
        assertThat(proxy.routes().find("default/a", null, null, null)).isSameAs(route);
        assertThat(registry.readinessPath(A)).isEqualTo("/ready");
        assertThat(registry.throttlers()).containsOnlyKeys(A).containsValue(route.throttler());
    }

    @Test
    void aRevisionLeftOutLeavesEveryViewAndIsClosedInTheControlPathAfterItsCallback() throws Exception {
        List<Route> both = new ArrayList<>();
        for (RevisionConfig rc : revisions("[{name: a}, {name: b, hosts: [b.test]}]")) {
            both.add(registry.open(rc));
        }
        registry.publish(both, id -> { });
        RevisionThrottler a = registry.get(A).throttler();
        List<String> seen = new ArrayList<>();

        registry.publish(List.of(registry.get(B)), id -> seen.add(id + " open in control: "
                + control.revisions().contains(id)));

        assertThat(seen).containsExactly("default/a open in control: true");
        assertThat(control.revisions()).containsExactly(B);
        await().atMost(Duration.ofSeconds(5)).until(a::isClosed);
        assertThat(registry.get(A)).isNull();
        assertThat(registry.readinessPath(A)).isNull();
        assertThat(registry.throttlers()).containsOnlyKeys(B);
        assertThat(proxy.routes().find("default/a", null, null, null)).isNull();
        assertThat(proxy.routes().find(null, null, null, "b.test")).isSameAs(registry.get(B));
    }
}
