package dev.sluice.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Revisions found from Service labels, with their settings from annotations. */
class RevisionCatalogIT {

    private final MockCluster cluster = new MockCluster();
    private final KubernetesClient client = cluster.newClient();
    private final AtomicReference<List<DiscoveredRevision>> seen = new AtomicReference<>();
    private final RevisionCatalog catalog = new RevisionCatalog(cluster.newClient(), null, seen::set);

    @AfterEach
    void tearDown() {
        catalog.close();
        cluster.close();
    }

    private static Service service(String ns, String name, String revision, Map<String, String> annotations) {
        ServiceBuilder b = new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name)
                .withAnnotations(annotations).endMetadata().withNewSpec().addNewPort().withName("http").withPort(80)
                .endPort().endSpec();
        if (revision != null) {
            b.editMetadata().addToLabels(RevisionCatalog.REVISION_LABEL, revision).endMetadata();
        }
        return b.build();
    }

    @Test
    void labelledServicesBecomeRevisionsAndFollowChanges() {
        catalog.start();
        await().until(() -> seen.get() != null && seen.get().isEmpty());

        client.resource(service("team-a", "llm", "llm-00001", Map.of("sluice.dev/containerConcurrency", "1",
                "sluice.dev/policy", "first-available", "sluice.dev/port", "http", "unrelated/x", "y"))).create();
        client.resource(service("team-b", "resize", "resize-00003", Map.of())).create();
        client.resource(service("team-b", "plain", null, Map.of())).create();
        await().untilAsserted(() -> assertThat(seen.get()).hasSize(2));
        DiscoveredRevision llm = seen.get().get(0);
        assertThat(llm.id()).isEqualTo(new RevisionId("team-a", "llm-00001"));
        assertThat(llm.service()).isEqualTo(new ServiceRef("team-a", "llm", "http"));
        assertThat(llm.settings()).containsExactly(Map.entry("containerConcurrency", "1"),
                Map.entry("policy", "first-available"));
        assertThat(seen.get().get(1).id()).isEqualTo(new RevisionId("team-b", "resize-00003"));

        client.resource(service("team-a", "llm", "llm-00001", Map.of("sluice.dev/containerConcurrency", "2")))
                .update();
        await().untilAsserted(() -> assertThat(seen.get().get(0).settings()).containsEntry("containerConcurrency", "2"));

        client.services().inNamespace("team-b").withName("resize").delete();
        await().untilAsserted(() -> assertThat(seen.get()).extracting(DiscoveredRevision::id)
                .containsExactly(new RevisionId("team-a", "llm-00001")));
    }

    @Test
    void aServiceWithAnInvalidRevisionNameIsLeftOutAndTheRestApply() {
        List<DiscoveredRevision> list = RevisionCatalog.catalogue(List.of(
                service("ns", "good", "good-1", Map.of()),
                service("ns", "bad", "Not_A_Name", Map.of())));
        assertThat(list).extracting(DiscoveredRevision::id).containsExactly(new RevisionId("ns", "good-1"));
    }

    @Test
    void aServicePortWithTheH2cAppProtocolMakesARevisionOfH2cPodsUnlessAnAnnotationSaysOtherwise() {
        Service grpc = service("ns", "grpc", "grpc-1", Map.of());
        grpc.getSpec().getPorts().get(0).setAppProtocol(RevisionCatalog.H2C_APP_PROTOCOL);
        Service pinned = service("ns", "pinned", "pinned-1", Map.of("sluice.dev/protocol", "http1"));
        pinned.getSpec().getPorts().get(0).setAppProtocol(RevisionCatalog.H2C_APP_PROTOCOL);
        Service plain = service("ns", "plain", "plain-1", Map.of());
        List<DiscoveredRevision> list = RevisionCatalog.catalogue(List.of(grpc, pinned, plain));
        assertThat(list).extracting(d -> d.settings().get("protocol")).containsExactly("h2c", "http1", null);
    }
}
