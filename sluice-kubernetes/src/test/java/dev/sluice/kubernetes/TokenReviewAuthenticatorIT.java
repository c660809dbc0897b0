package dev.sluice.kubernetes;

import static dev.sluice.kubernetes.MockCluster.ready;
import static dev.sluice.kubernetes.MockCluster.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.EventSource;
import dev.sluice.core.control.PodAuthenticator.Outcome;
import dev.sluice.core.control.PodAuthenticator.Verdict;
import dev.sluice.core.control.PodEvent;
import dev.sluice.core.pod.PodState;
import dev.sluice.kubernetes.MockCluster.Identity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Pods authenticate with their own token and may speak only for their own pod and address. */
class TokenReviewAuthenticatorIT {

    private static final RevisionId REV = new RevisionId("ns", "fn-00001");

    private final MockCluster cluster = new MockCluster();
    private final KubernetesClient client = cluster.newClient();
    private final ManualClock clock = new ManualClock();
    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final List<String> snapshots = new ArrayList<>();
    private final KubernetesDiscovery discovery = new KubernetesDiscovery(client,
            (id, endpoints) -> snapshots.add(endpoints.toString()));
    private final TokenReviewAuthenticator auth = new TokenReviewAuthenticator(client, discovery, List.of("sluice"),
            clock, executor);

    @BeforeEach
    void pods() {
        cluster.issueToken("token-a", new Identity("fn", "pod-a", "uid-a", "sluice"));
        cluster.issueToken("token-b", new Identity("fn", "pod-b", "uid-b", "sluice"));
        cluster.issueToken("token-other-audience", new Identity("fn", "pod-a", "uid-a", "vault"));
        cluster.issueToken("token-not-a-pod", new Identity("deployer", null, null, "sluice"));
        client.resource(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-a"), ready("10.0.0.2", "uid-b")))
                .create();
        discovery.watch(REV, new ServiceRef("ns", "fn", null));
        await().until(() -> discovery.view(REV).owners().size() == 2);
    }

    @AfterEach
    void tearDown() {
        discovery.close();
        executor.shutdownNow();
        cluster.close();
    }

    private Verdict check(String token, String podId, String address) {
        return auth.authenticate(token, new PodEvent(EventSource.POD, REV, podId, address, PodState.DRAINING)).join();
    }

    @Test
    void aPodMayReportForItself() {
        Verdict v = check("token-a", "uid-a", "10.0.0.1:8080");
        assertThat(v.outcome()).isEqualTo(Outcome.ACCEPTED);
        assertThat(v.reason()).contains("pod-a");
    }

    @Test
    void aPodCannotDrainAnotherPodsAddress() {
        Verdict v = check("token-a", "uid-a", "10.0.0.2:8080");
        assertThat(v.outcome()).isEqualTo(Outcome.FORBIDDEN);
        assertThat(v.reason()).contains("does not have address 10.0.0.2:8080").contains("10.0.0.1");
    }

    @Test
    void aPodCannotSpeakUnderAnotherPodsIdentity() {
        Verdict v = check("token-a", "uid-b", "10.0.0.2:8080");
        assertThat(v.outcome()).isEqualTo(Outcome.FORBIDDEN);
        assertThat(v.reason()).contains("may report only for itself");
    }

    @Test
    void tokensTheApiServerRefusesAreUnauthenticated() {
        assertThat(check("forged", "uid-a", "10.0.0.1:8080").outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
        Verdict audience = check("token-other-audience", "uid-a", "10.0.0.1:8080");
        assertThat(audience.outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
        assertThat(audience.reason()).contains("audiences");
    }

    @Test
    void aServiceAccountTokenNotBoundToAPodIsRefused() {
        Verdict v = check("token-not-a-pod", "uid-a", "10.0.0.1:8080");
        assertThat(v.outcome()).isEqualTo(Outcome.FORBIDDEN);
        assertThat(v.reason()).contains("projected service account token");
    }

    @Test
    void reviewsAreCachedForAWhileButOwnershipIsCheckedEveryTime() {
        assertThat(check("token-a", "uid-a", "10.0.0.1:8080").isAccepted()).isTrue();
        assertThat(check("token-a", "uid-a", "10.0.0.1:8080").isAccepted()).isTrue();
        assertThat(cluster.tokenReviewsAnswered()).isEqualTo(1);
        // The cached review does not let the pod claim an address it does not have.
        assertThat(check("token-a", "uid-a", "10.0.0.2:8080").outcome()).isEqualTo(Outcome.FORBIDDEN);
        assertThat(cluster.tokenReviewsAnswered()).isEqualTo(1);

        clock.advance(TokenReviewAuthenticator.ACCEPTED_TTL.plus(Duration.ofSeconds(1)));
        assertThat(check("token-a", "uid-a", "10.0.0.1:8080").isAccepted()).isTrue();
        assertThat(cluster.tokenReviewsAnswered()).isEqualTo(2);
    }

    @Test
    void aPodThatLeftItsServiceIsRefusedAtOnce() {
        assertThat(check("token-b", "uid-b", "10.0.0.2:8080").isAccepted()).isTrue();
        client.resource(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-a"))).update();
        await().until(() -> discovery.view(REV).owners().size() == 1);
        Verdict v = check("token-b", "uid-b", "10.0.0.2:8080");
        assertThat(v.outcome()).isEqualTo(Outcome.FORBIDDEN);
        assertThat(v.reason()).contains("not listed there");
    }

    @Test
    void anUnreachableApiServerMeansRetryNotRefused() {
        cluster.stop();
        Verdict v = check("token-a", "uid-a", "10.0.0.1:8080");
        assertThat(v.outcome()).isEqualTo(Outcome.UNAVAILABLE);
        assertThat(v.reason()).contains("retry");
    }

    @Test
    void aRevisionNotDiscoveredFromKubernetesTakesNoServiceAccountTokens() {
        Verdict v = auth.authenticate("token-a", new PodEvent(EventSource.POD, new RevisionId("ns", "static"), "uid-a",
                "10.0.0.1:8080", PodState.READY)).join();
        assertThat(v.outcome()).isEqualTo(Outcome.FORBIDDEN);
        assertThat(v.reason()).contains("control token");
    }
}
