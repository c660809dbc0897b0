package dev.sluice.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.ServiceRef;
import java.util.Map;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static ConfigException failure(String yaml) {
        try {
            ConfigLoader.parse("sluice.yaml", yaml);
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError("expected the configuration to be refused:\n" + yaml);
    }

    @Test
    void theExampleIsValid() throws Exception {
        SluiceConfig c = ConfigLoader.load(Path.of("../examples/sluice.yaml"));
        assertThat(c.revisions()).hasSize(2);
        RevisionConfig llm = c.revisions().get(0);
        assertThat(llm.id()).isEqualTo(new RevisionId("default", "llm-00001"));
        assertThat(llm.policy()).isEqualTo(PolicyKind.FIRST_AVAILABLE);
        assertThat(llm.responseStartTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(llm.pods()).extracting(p -> p.podId()).containsExactly("127.0.0.1:9001", "llm-pod-b");
        assertThat(c.revisions().get(1).policy()).isEqualTo(PolicyKind.ROUND_ROBIN);
    }

    @Test
    void anEmptyFileMeansDefaults() throws Exception {
        SluiceConfig c = ConfigLoader.parse("empty.yaml", "");
        assertThat(c.proxyListen()).hasToString("0.0.0.0:8080");
        assertThat(c.controlListen()).hasToString("127.0.0.1:8081");
        assertThat(c.controlTokenFile()).isNull();
        assertThat(c.revisions()).isEmpty();
        RevisionConfig r = ConfigLoader.parse("x", "revisions: [{name: a}]").revisions().get(0);
        assertThat(r.id()).isEqualTo(new RevisionId("default", "a"));
        assertThat(r.containerConcurrency()).isZero();
        assertThat(r.policy()).isEqualTo(PolicyKind.POWER_OF_TWO_CHOICES);
        assertThat(r.queueDepth()).isEqualTo(10_000);
        assertThat(r.queueTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(r.requestTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(r.overflowStatus()).isEqualTo(503);
    }

    @Test
    void errorsNameTheFileTheFieldAndTheReason() {
        ConfigException e = failure("revisions:\n  - name: a\n    containerConcurrency: -1\n");
        assertThat(e.file()).isEqualTo("sluice.yaml");
        assertThat(e.field()).isEqualTo("revisions[0].containerConcurrency");
        assertThat(e.getMessage()).isEqualTo(
                "sluice.yaml: revisions[0].containerConcurrency: must be between 0 and 1000000, was -1");
    }

    @Test
    void refusesEachKindOfMistake() {
        assertThat(failure("revisions: [{name: a, containerConcurency: 1}]").getMessage())
                .contains("revisions[0].containerConcurency").contains("unknown field");
        assertThat(failure("revisions: [{name: a, policy: fastest}]").getMessage())
                .contains("revisions[0].policy").contains("unknown load-balancing policy 'fastest'");
        assertThat(failure("revisions: [{name: a, timeouts: {queue: soon}}]").getMessage())
                .contains("revisions[0].timeouts.queue").contains("not a duration");
        assertThat(failure("revisions: [{name: a, timeouts: {queue: 10m, total: 5m}}]").getMessage())
                .contains("revisions[0].timeouts.queue").contains("must not exceed timeouts.total");
        assertThat(failure("revisions: [{name: a}, {name: a}]").getMessage())
                .contains("revisions[1]").contains("already defined at revisions[0]");
        assertThat(failure("revisions: [{name: a, hosts: [x.io]}, {name: b, hosts: [X.io]}]").getMessage())
                .contains("revisions[1].hosts[0]").contains("already routed");
        assertThat(failure("revisions: [{name: a, pods: ['10.0.0.1']}]").getMessage())
                .contains("revisions[0].pods[0]").contains("not host:port");
        assertThat(failure("revisions: [{name: a, pods: ['10.0.0.1:80', '10.0.0.1:80']}]").getMessage())
                .contains("listed twice");
        assertThat(failure("revisions: [{name: Bad_Name}]").getMessage())
                .contains("revisions[0]").contains("DNS-1123");
        assertThat(failure("revisions: [{namespace: ns}]").getMessage())
                .contains("revisions[0].name").contains("missing");
        assertThat(failure("revisions: [{name: a, overflowStatus: 500}]").getMessage())
                .contains("overflowStatus");
        assertThat(failure("revisions: [{name: a, readinessPath: healthz}]").getMessage())
                .contains("readinessPath").contains("must start with '/'");
        assertThat(failure("listen: {proxy: 'nowhere'}").getMessage()).contains("listen.proxy");
        assertThat(failure("listen: {proxy: '0.0.0.0:70000'}").getMessage()).contains("outside 0-65535");
        assertThat(failure("revisions: {name: a}").getMessage()).contains("revisions: must be a list");
        assertThat(failure("revisions: [{name: a, queueDepth: lots}]").getMessage())
                .contains("revisions[0].queueDepth").contains("whole number");
    }

    @Test
    void theClientSectionHasDefaultsAndIsChecked() throws Exception {
        assertThat(ConfigLoader.parse("x", "").client()).isEqualTo(ClientLimits.DEFAULTS);
        assertThat(ClientLimits.DEFAULTS).isEqualTo(new ClientLimits(Duration.ofSeconds(10), Duration.ofSeconds(60),
                Duration.ofSeconds(30), 10_000, 1 << 20));
        ClientLimits c = ConfigLoader.parse("x", "client: {maxConnections: 500, requestBuffer: 64KiB,"
                + " timeouts: {head: 5s, idle: 2m, bodyStall: 10s}}").client();
        assertThat(c).isEqualTo(new ClientLimits(Duration.ofSeconds(5), Duration.ofMinutes(2), Duration.ofSeconds(10),
                500, 64 << 10));
        assertThat(ConfigLoader.parse("x", "client: {requestBuffer: 0}").client().requestBuffer()).isZero();
        assertThat(ConfigLoader.parse("x", "client: {requestBuffer: 4096}").client().requestBuffer()).isEqualTo(4096);
        assertThat(failure("client: {timeouts: {head: 0s}}").getMessage())
                .isEqualTo("sluice.yaml: client.timeouts.head: must be positive, was 0s");
        assertThat(failure("client: {timeouts: {idel: 5s}}").getMessage())
                .contains("client.timeouts.idel").contains("unknown field");
        assertThat(failure("client: {maxConnections: 0}").getMessage()).contains("client.maxConnections")
                .contains("between 1 and");
        assertThat(failure("client: {requestBuffer: lots}").getMessage()).contains("client.requestBuffer")
                .contains("not a size");
        assertThat(failure("client: {requestBuffer: 2GiB}").getMessage()).contains("client.requestBuffer")
                .contains("at most 1GiB");
        assertThat(Sizes.parse("1m")).isEqualTo(1 << 20);
        assertThat(Sizes.format(1 << 20)).isEqualTo("1MiB");
    }

    @Test
    void malformedYamlSaysWhere() {
        ConfigException e = failure("revisions:\n  - name: a\n   bad: [\n");
        assertThat(e.getMessage()).startsWith("sluice.yaml: not valid YAML at line");
    }

    @Test
    void aMissingFileIsSaidPlainly(@TempDir Path dir) {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(missing)).isInstanceOf(ConfigException.class)
                .hasMessage(missing + ": file not found");
    }

    @Test
    void loadsFromAFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "revisions: [{name: a, containerConcurrency: 4, timeouts: {total: 2m}}]\n");
        RevisionConfig r = ConfigLoader.load(f).revisions().get(0);
        assertThat(r.queueTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(r.requestTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(r.responseStartTimeout()).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void durationsAcceptTheUsualForms() {
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("60s")).isEqualTo(Duration.ofSeconds(60));
        assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("PT1H")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThatThrownBy(() -> Durations.parse("1 fortnight")).hasMessageContaining("not a duration");
    }

    @Test
    void aRevisionMayTakeItsPodsFromAServiceWhichTurnsKubernetesOn() throws Exception {
        SluiceConfig c = ConfigLoader.parse("k.yaml",
                "revisions: [{namespace: team, name: fn-1, service: {name: fn, port: http}}]");
        assertThat(c.revisions().get(0).service()).isEqualTo(new ServiceRef("team", "fn", "http"));
        assertThat(c.kubernetes()).isEqualTo(KubernetesConfig.defaults());
        assertThat(ConfigLoader.parse("k.yaml", "revisions: [{name: a}]").kubernetes()).isNull();

        SluiceConfig full = ConfigLoader.parse("k.yaml", "kubernetes: {masterUrl: 'https://10.0.0.1:6443',"
                + " discoverRevisions: true, namespace: models, tokenReview: {enabled: false, audiences: [x]}}");
        assertThat(full.kubernetes()).isEqualTo(new KubernetesConfig("https://10.0.0.1:6443", true, "models", false,
                java.util.List.of("x")));
    }

    @Test
    void kubernetesMistakesAreNamed() {
        assertThat(failure("revisions: [{name: a, pods: ['127.0.0.1:1'], service: {name: fn}}]").getMessage())
                .isEqualTo("sluice.yaml: revisions[0].service: a revision takes its pods from a service or from a pods"
                        + " list, not both");
        assertThat(failure("revisions: [{name: a, service: {port: 80}}]").field()).isEqualTo("revisions[0].service.name");
        assertThat(failure("revisions: [{name: a, service: {name: Fn_1}}]").getMessage()).contains("not a Kubernetes name");
        assertThat(failure("kubernetes: {masterUrl: 'api:6443'}").field()).isEqualTo("kubernetes.masterUrl");
        assertThat(failure("kubernetes: {discoverRevisions: yes please}").getMessage())
                .contains("kubernetes.discoverRevisions: must be true or false");
        assertThat(failure("kubernetes: {tokenReveiw: {}}").getMessage()).contains("unknown field");
    }

    @Test
    void annotationsOfADiscoveredRevisionAreValidatedLikeTheFile() throws Exception {
        ServiceRef svc = new ServiceRef("team", "fn", null);
        RevisionConfig r = ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                Map.of("containerConcurrency", "1", "queueTimeout", "5s", "hosts", "fn.example.com, fn.test",
                        "policy", "least-connections")));
        assertThat(r.containerConcurrency()).isEqualTo(1);
        assertThat(r.queueTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(r.hosts()).containsExactly("fn.example.com", "fn.test");
        assertThat(r.policy()).isEqualTo(PolicyKind.LEAST_CONNECTIONS);
        assertThat(r.service()).isEqualTo(svc);

        ConfigException bad = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("containerConcurrency", "lots"))));
        assertThat(bad.getMessage()).isEqualTo("Service team/fn: sluice.dev/containerConcurrency: must be a whole"
                + " number, was 'lots'");
        ConfigException unknown = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("concurrency", "1"))));
        assertThat(unknown.field()).isEqualTo("sluice.dev/concurrency");
        ConfigException timeout = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("requestTimeout", "1s", "queueTimeout", "5s"))));
        assertThat(timeout.field()).isEqualTo("sluice.dev/queueTimeout");
    }
}
