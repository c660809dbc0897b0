package dev.sluice.server.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.KubernetesConfig;
import dev.sluice.server.config.SluiceConfig;
import dev.sluice.server.runtime.SluiceServer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The schema check of {@code deploy/kubernetes} (no cluster here for {@code kubectl apply
 * --dry-run}, which needs one for discovery): every document parses into fabric8's typed model
 * of its kind, and no field is unknown to that model anywhere in the tree, so a typo fails here.
 * Then what the issue asks of the manifests is checked.
 */
class ManifestsTest {

    private static final Path DEPLOY = Path.of("../deploy/kubernetes");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private static List<HasMetadata> load(Path file) throws IOException {
        List<HasMetadata> out = new ArrayList<>();
        for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
            if (doc.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
                continue;
            }
            Object o = SERIALIZATION.unmarshal(doc);
            assertThat(o).as("%s: a document of a known kind", file).isInstanceOf(HasMetadata.class)
                    .isNotInstanceOf(GenericKubernetesResource.class);
            List<String> unknown = new ArrayList<>();
            unknownFields(o, ((HasMetadata) o).getKind(), unknown, new IdentityHashMap<>());
            assertThat(unknown).as("%s: fields the %s schema does not have", file, ((HasMetadata) o).getKind()).isEmpty();
            out.add((HasMetadata) o);
        }
        return out;
    }

    /** Walks the typed model; unknown YAML fields land in additionalProperties. */
    private static void unknownFields(Object o, String path, List<String> out, Map<Object, Boolean> seen) {
        if (o == null || seen.put(o, true) != null) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                unknownFields(e, path + "[" + i++ + "]", out, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> unknownFields(v, path + "." + k, out, seen));
            return;
        }
        if (!(o instanceof KubernetesResource)) {
            return;
        }
        for (Method g : o.getClass().getMethods()) {
            if (g.getParameterCount() != 0 || !g.getName().startsWith("get") || g.getDeclaringClass() == Object.class) {
                continue;
            }
            try {
                Object v = g.invoke(o);
                if (g.getName().equals("getAdditionalProperties")) {
                    if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
                        out.add(path + ": " + extra.keySet());
                    }
                } else {
                    unknownFields(v, path + "." + g.getName().substring(3), out, seen);
                }
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** KEDA's custom resources: fabric8 has no typed model of them, they are checked field by field below. */
    private static final Path SCALED_OBJECT = DEPLOY.resolve("example/scaledobject.yaml");

    private static List<Path> manifests() throws IOException {
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            return files.filter(p -> p.toString().endsWith(".yaml") && !p.endsWith("kustomization.yaml")
                    && !p.equals(SCALED_OBJECT)).sorted().toList();
        }
    }

    @Test
    void everyManifestMatchesItsSchema() throws IOException {
        List<String> kinds = new ArrayList<>();
        for (Path p : manifests()) {
            load(p).forEach(r -> kinds.add(r.getKind()));
        }
        assertThat(kinds).contains("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
                "RoleBinding", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget");
    }

    @Test
    void theKustomizationListsEveryManifest() throws IOException {
        String k = Files.readString(DEPLOY.resolve("kustomization.yaml"));
        try (Stream<Path> files = Files.list(DEPLOY)) {
            files.filter(p -> p.toString().endsWith(".yaml") && !p.endsWith("kustomization.yaml"))
                    .forEach(p -> assertThat(k).contains("- " + p.getFileName()));
        }
    }

    @Test
    void rbacGrantsWatchingSlicesAndServicesAndTokenReviewsAndNothingMore() throws IOException {
        ClusterRole role = (ClusterRole) load(DEPLOY.resolve("rbac.yaml")).get(0);
        List<String> rules = role.getRules().stream().map(r -> r.getApiGroups() + " " + r.getResources() + " "
                + r.getVerbs()).toList();
        assertThat(rules).containsExactlyInAnyOrder("[discovery.k8s.io] [endpointslices] [get, list, watch]",
                "[] [services] [get, list, watch]", "[authentication.k8s.io] [tokenreviews] [create]");
    }

    @Test
    void thePeerWatchMayWatchSlicesInItsOwnNamespaceAndNothingMore() throws IOException {
        List<HasMetadata> rbac = load(DEPLOY.resolve("rbac.yaml"));
        Role role = rbac.stream().filter(Role.class::isInstance).map(Role.class::cast).findFirst().orElseThrow();
        assertThat(role.getMetadata().getNamespace()).isEqualTo("sluice");
        assertThat(role.getRules()).singleElement().satisfies(r -> {
            assertThat(r.getApiGroups()).containsExactly("discovery.k8s.io");
            assertThat(r.getResources()).containsExactly("endpointslices");
            assertThat(r.getVerbs()).containsExactly("get", "list", "watch");
            assertThat(r.getResourceNames()).isEmpty();
        });
        RoleBinding binding = rbac.stream().filter(RoleBinding.class::isInstance).map(RoleBinding.class::cast)
                .findFirst().orElseThrow();
        assertThat(binding.getMetadata().getNamespace()).isEqualTo("sluice");
        assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(binding.getSubjects()).singleElement().satisfies(subject -> {
            assertThat(subject.getKind()).isEqualTo("ServiceAccount");
            assertThat(subject.getName()).isEqualTo("sluice");
            assertThat(subject.getNamespace()).isEqualTo("sluice");
        });
    }

    @Test
    void theControlServiceIsHeadlessSelectsTheReplicasAndNamesBothPorts() throws IOException {
        Service control = load(DEPLOY.resolve("service.yaml")).stream().map(Service.class::cast)
                .filter(s -> s.getMetadata().getName().equals("sluice-control")).findFirst().orElseThrow();
        Deployment d = (Deployment) load(DEPLOY.resolve("deployment.yaml")).get(0);
        var spec = control.getSpec();
        assertThat(control.getMetadata().getNamespace()).isEqualTo(d.getMetadata().getNamespace());
        assertThat(spec.getClusterIP()).isEqualTo("None");
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(spec.getSelector());
        // Reports reach replicas that are still starting; PeerWatch reads `serving` for readiness.
        assertThat(spec.getPublishNotReadyAddresses()).isTrue();
        List<String> containerPorts = d.getSpec().getTemplate().getSpec().getContainers().get(0).getPorts().stream()
                .map(ContainerPort::getName).toList();
        assertThat(spec.getPorts()).extracting(ServicePort::getName).containsExactlyInAnyOrder("control", "proxy");
        assertThat(spec.getPorts()).allSatisfy(p -> assertThat(containerPorts).contains(p.getTargetPort().getStrVal()));
    }

    @Test
    void eachReplicaKnowsItsOwnPodFromTheDownwardApi() throws IOException {
        Deployment d = (Deployment) load(DEPLOY.resolve("deployment.yaml")).get(0);
        Map<String, String> fields = new TreeMap<>();
        for (EnvVar e : d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
            if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
                fields.put(e.getName(), e.getValueFrom().getFieldRef().getFieldPath());
            }
        }
        // cluster.self defaults to SLUICE_CLUSTER_SELF: the pod UID, the identity PeerWatch gives a peer.
        assertThat(fields).containsExactlyInAnyOrderEntriesOf(Map.of("SLUICE_CLUSTER_SELF", "metadata.uid",
                "POD_NAME", "metadata.name", "POD_NAMESPACE", "metadata.namespace", "POD_IP", "status.podIP"));
    }

    @Test
    void theReplicasHoldOneLimitWithTheirMembershipFromTheControlServiceAndAToken() throws Exception {
        ConfigMap cm = (ConfigMap) load(DEPLOY.resolve("configmap.yaml")).get(0);
        SluiceConfig config = ConfigLoader.parse("configmap.yaml", cm.getData().get("sluice.yaml"));
        assertThat(config.cluster()).isNotNull();
        assertThat(config.cluster().peers()).as("no static peers: the membership is Kubernetes'").isEmpty();
        assertThat(config.kubernetes().peers()).isEqualTo(KubernetesConfig.Peers.DEFAULTS);
        Service control = load(DEPLOY.resolve("service.yaml")).stream().map(Service.class::cast)
                .filter(s -> s.getMetadata().getName().equals(config.kubernetes().peers().service())).findFirst()
                .orElseThrow();
        assertThat(control.getSpec().getPorts()).extracting(ServicePort::getName).contains(
                config.kubernetes().peers().controlPort(), config.kubernetes().peers().proxyPort());
        // The control API listens beyond loopback, so a cluster needs the control token on every replica.
        assertThat(config.controlListen().isLoopback()).isFalse();
        Deployment d = (Deployment) load(DEPLOY.resolve("deployment.yaml")).get(0);
        assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo(SluiceServer.TOKEN_ENV);
            assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("sluice-control-token");
            assertThat(e.getValueFrom().getSecretKeyRef().getOptional()).isNotEqualTo(Boolean.TRUE);
        });
    }

    @Test
    void theDeploymentIsProbedSizedAndGivenTimeToDrain() throws Exception {
        Deployment d = (Deployment) load(DEPLOY.resolve("deployment.yaml")).get(0);
        var spec = d.getSpec().getTemplate().getSpec();
        var c = spec.getContainers().get(0);
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry("prometheus.io/scrape", "true");

        ConfigMap cm = (ConfigMap) load(DEPLOY.resolve("configmap.yaml")).get(0);
        SluiceConfig config = ConfigLoader.parse("configmap.yaml", cm.getData().get("sluice.yaml"));
        long drain = config.drainPeriod().plus(config.gracePeriod()).toSeconds();
        assertThat(spec.getTerminationGracePeriodSeconds()).isGreaterThan(drain);
        assertThat(config.kubernetes().tokenReview()).isTrue();
        assertThat(config.kubernetes().discoverRevisions()).isTrue();
    }

    @Test
    void theExampleWorkloadReportsItsOwnLifecycle() throws IOException {
        List<HasMetadata> docs = load(DEPLOY.resolve("example/workload.yaml"));
        Deployment d = docs.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst()
                .orElseThrow();
        var c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(c.getLifecycle().getPreStop().getExec().getCommand()).contains("draining");
        assertThat(c.getLifecycle().getPostStart().getExec().getCommand()).contains("ready");
        assertThat(d.getSpec().getTemplate().getSpec().getVolumes()).anySatisfy(v -> assertThat(
                v.getProjected().getSources().get(0).getServiceAccountToken().getAudience()).isEqualTo("sluice"));
        HasMetadata svc = docs.stream().filter(r -> r.getKind().equals("Service")).findFirst().orElseThrow();
        assertThat(svc.getMetadata().getLabels()).containsKey("sluice.dev/revision");
        assertThat(svc.getMetadata().getAnnotations()).containsEntry("sluice.dev/containerConcurrency", "1");
    }

    @Test
    void theExampleScaledObjectPointsKedaAtSluicesScalerPort() throws Exception {
        Object o = SERIALIZATION.unmarshal(Files.readString(SCALED_OBJECT));
        assertThat(o).isInstanceOf(GenericKubernetesResource.class);
        GenericKubernetesResource so = (GenericKubernetesResource) o;
        assertThat(so.getApiVersion()).isEqualTo("keda.sh/v1alpha1");
        assertThat(so.getKind()).isEqualTo("ScaledObject");
        assertThat(so.getAdditionalProperties().keySet()).containsOnly("spec");
        Map<String, Object> spec = so.get("spec");
        assertThat(spec.keySet()).isSubsetOf("scaleTargetRef", "minReplicaCount", "maxReplicaCount", "cooldownPeriod",
                "pollingInterval", "triggers");
        Object minReplicas = so.get("spec", "minReplicaCount");
        assertThat(minReplicas).isEqualTo(0);

        List<HasMetadata> workload = load(DEPLOY.resolve("example/workload.yaml"));
        Deployment target = workload.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                .findFirst().orElseThrow();
        assertThat(target.getMetadata().getNamespace()).isEqualTo(so.getMetadata().getNamespace());
        Object targetName = so.get("spec", "scaleTargetRef", "name");
        assertThat(targetName).isEqualTo(target.getMetadata().getName());
        HasMetadata revisionService = workload.stream().filter(r -> r.getKind().equals("Service")).findFirst()
                .orElseThrow();

        List<Map<String, Object>> triggers = so.get("spec", "triggers");
        assertThat(triggers).hasSize(1);
        assertThat(triggers.get(0)).containsEntry("type", "external-push");
        @SuppressWarnings("unchecked")
        Map<String, String> meta = (Map<String, String>) triggers.get(0).get("metadata");
        assertThat(meta.keySet()).isSubsetOf("scalerAddress", "revision", "targetConcurrency");
        assertThat(meta.get("revision")).isEqualTo(revisionService.getMetadata().getNamespace() + "/"
                + revisionService.getMetadata().getLabels().get("sluice.dev/revision"));

        // scalerAddress → Sluice's Service's scaler port → the container's port → listen.scaler.
        Service sluice = (Service) load(
                DEPLOY.resolve("service.yaml")).get(0);
        var port = sluice.getSpec().getPorts().stream().filter(p -> p.getName().equals("scaler")).findFirst()
                .orElseThrow();
        assertThat(meta.get("scalerAddress")).isEqualTo(sluice.getMetadata().getName() + "."
                + sluice.getMetadata().getNamespace() + ".svc.cluster.local:" + port.getPort());
        Deployment d = (Deployment) load(DEPLOY.resolve("deployment.yaml")).get(0);
        var containerPort = d.getSpec().getTemplate().getSpec().getContainers().get(0).getPorts().stream()
                .filter(p -> p.getName().equals(port.getTargetPort().getStrVal())).findFirst().orElseThrow();
        ConfigMap cm = (ConfigMap) load(DEPLOY.resolve("configmap.yaml")).get(0);
        SluiceConfig config = ConfigLoader.parse("configmap.yaml", cm.getData().get("sluice.yaml"));
        assertThat(config.scalerListen()).isNotNull();
        assertThat(config.scalerListen().port()).isEqualTo(containerPort.getContainerPort());
    }
}
