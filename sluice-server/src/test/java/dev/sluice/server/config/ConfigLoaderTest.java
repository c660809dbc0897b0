package dev.sluice.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.ServiceRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
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
    void anEmptyFileIsAnErrorAndAnEmptyRevisionListIsNot() throws Exception {
        for (String empty : new String[] {"", "   \n\t\n", "# only a comment\n"}) {
            ConfigException e = failure(empty);
            assertThat(e.getMessage()).as("'%s'", empty).isEqualTo("sluice.yaml: the file is empty (no settings):"
                    + " write 'revisions: []' to run with no revisions on purpose");
        }
        assertThat(ConfigLoader.parse("none.yaml", "revisions: []").revisions()).isEmpty();
    }

    @Test
    void withoutAFileEverythingIsDefault() throws Exception {
        SluiceConfig c = ConfigLoader.defaults();
        assertThat(c.proxyListen()).hasToString("0.0.0.0:8080");
        assertThat(c.controlListen()).hasToString("127.0.0.1:8081");
        assertThat(c.controlTokenFile()).isNull();
        assertThat(c.allowedPodNetworks()).isEmpty();
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
    void aRevisionSaysItsPodsProtocolAndHowTheyAreProbed() throws Exception {
        RevisionConfig plain = ConfigLoader.parse("x", "revisions: [{name: a}]").revisions().get(0);
        assertThat(plain.protocol()).isEqualTo(PodProtocol.HTTP1);
        assertThat(plain.readinessProbe()).isEqualTo(ReadinessProbe.HTTP);
        RevisionConfig grpc = ConfigLoader.parse("x", "revisions: [{name: a, protocol: h2c,"
                + " readinessProbe: 'grpc:test.Echo'}]").revisions().get(0);
        assertThat(grpc.h2c()).isTrue();
        assertThat(grpc.readinessProbe()).isEqualTo(new ReadinessProbe(true, "test.Echo"));
        assertThat(failure("revisions: [{name: a, protocol: h2}]").getMessage())
                .isEqualTo("sluice.yaml: revisions[0].protocol: must be http1 or h2c, was 'h2'");
        assertThat(failure("revisions: [{name: a, readinessProbe: grpc}]").getMessage())
                .isEqualTo("sluice.yaml: revisions[0].readinessProbe: grpc needs protocol: h2c (gRPC servers speak HTTP/2)");
        assertThat(failure("revisions: [{name: a, protocol: h2c, readinessProbe: tcp}]").getMessage())
                .isEqualTo("sluice.yaml: revisions[0].readinessProbe: must be http, grpc or grpc:<service>, was 'tcp'");
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
        assertThat(ConfigLoader.parse("x", "revisions: []").client()).isEqualTo(ClientLimits.DEFAULTS);
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
    void readinessCheckBoundsHaveDefaultsAndAreValidatedWithWhereAndWhy() throws Exception {
        assertThat(ConfigLoader.parse("x", "revisions: []").readinessChecks()).isEqualTo(new ReadinessChecks(64, 32));
        assertThat(ConfigLoader.parse("x", "control: {readinessChecks: {maxInFlight: 8, maxInFlightPerRevision: 2}}")
                .readinessChecks()).isEqualTo(new ReadinessChecks(8, 2));
        assertThat(ConfigLoader.parse("x", "control: {readinessChecks: {maxInFlight: 8}}").readinessChecks())
                .as("the per-revision default never exceeds the bound in all").isEqualTo(new ReadinessChecks(8, 8));
        assertThat(failure("control: {readinessChecks: {maxInFlight: 0}}").getMessage())
                .isEqualTo("sluice.yaml: control.readinessChecks.maxInFlight: must be between 1 and 100000, was 0");
        assertThat(failure("control: {readinessChecks: {maxInFlight: 4, maxInFlightPerRevision: 5}}").getMessage())
                .isEqualTo("sluice.yaml: control.readinessChecks.maxInFlightPerRevision: (5) must not exceed"
                        + " control.readinessChecks.maxInFlight (4)");
        assertThat(failure("control: {readinessChecks: {maxInflight: 4}}").getMessage())
                .contains("control.readinessChecks.maxInflight").contains("unknown field");
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
                List.of("x")));
    }

    @Test
    void theReplicasMembershipComesFromTheControlServiceWhenAsked() throws Exception {
        assertThat(ConfigLoader.parse("k.yaml", "kubernetes: {}").kubernetes().peers()).isNull();
        KubernetesConfig.Peers defaults = ConfigLoader.parse("k.yaml", "kubernetes: {peers: {}}").kubernetes().peers();
        assertThat(defaults).isEqualTo(KubernetesConfig.Peers.DEFAULTS);
        assertThat(defaults.control("sluice")).isEqualTo(new ServiceRef("sluice", "sluice-control", "control"));
        KubernetesConfig.Peers set = ConfigLoader.parse("k.yaml", "kubernetes: {peers: {namespace: edge,"
                + " service: activator, controlPort: '9091', proxyPort: web}}").kubernetes().peers();
        assertThat(set).isEqualTo(new KubernetesConfig.Peers("edge", "activator", "9091", "web"));
        assertThat(set.control("sluice")).isEqualTo(new ServiceRef("edge", "activator", "9091"));
    }

    @Test
    void peersMistakesAreNamed() {
        assertThat(failure("kubernetes: {peers: {service: Sluice_Control}}").field()).isEqualTo("kubernetes.peers.service");
        assertThat(failure("kubernetes: {peers: {namespace: 'a b'}}").field()).isEqualTo("kubernetes.peers.namespace");
        assertThat(failure("kubernetes: {peers: {controlPort: ' '}}").field()).isEqualTo("kubernetes.peers.controlPort");
        assertThat(failure("kubernetes: {peers: {proxyPort: control}}").getMessage())
                .contains("kubernetes.peers.proxyPort: is the same port as controlPort");
        assertThat(failure("kubernetes: {peers: {port: control}}").getMessage()).contains("unknown field");
        assertThat(failure("kubernetes: {peers: [sluice-control]}").field()).isEqualTo("kubernetes.peers");
    }

    @Test
    void theScalerIsOffOutsideKubernetesAndOnItsPortWithKubernetes() throws Exception {
        assertThat(ConfigLoader.parse("s.yaml", "revisions: [{name: a}]").scalerListen()).isNull();
        assertThat(ConfigLoader.parse("s.yaml", "kubernetes: {}").scalerListen())
                .isEqualTo(ListenAddress.parse(ConfigReader.DEFAULT_SCALER_LISTEN));
        assertThat(ConfigLoader.parse("s.yaml", "revisions: [{name: a, service: {name: fn}}]").scalerListen())
                .as("a service turns Kubernetes on, and the scaler with it").isEqualTo(ListenAddress.parse("0.0.0.0:9090"));
        assertThat(ConfigLoader.parse("s.yaml", "listen: {scaler: off}\nkubernetes: {}").scalerListen()).isNull();
        assertThat(ConfigLoader.parse("s.yaml", "listen: {scaler: '127.0.0.1:9191'}").scalerListen())
                .isEqualTo(ListenAddress.parse("127.0.0.1:9191"));
        assertThat(failure("listen: {scaler: 'localhost'}").field()).isEqualTo("listen.scaler");
    }

    @Test
    void scaleToZeroGraceDefaultsTo30sAndIsValidated() throws Exception {
        assertThat(ConfigLoader.parse("s.yaml", "revisions: [{name: a}]").revisions().get(0).scaleToZeroGrace())
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(ConfigLoader.parse("s.yaml", "revisions: [{name: a, scaleToZeroGrace: 2m}]").revisions().get(0)
                .scaleToZeroGrace()).isEqualTo(Duration.ofMinutes(2));
        assertThat(ConfigLoader.parse("s.yaml", "revisions: [{name: a, scaleToZeroGrace: 0s}]").revisions().get(0)
                .scaleToZeroGrace()).as("inactive as soon as demand is zero").isZero();
        assertThat(failure("revisions: [{name: a, scaleToZeroGrace: -1s}]").getMessage())
                .contains("revisions[0].scaleToZeroGrace").contains("is not a duration");
        assertThat(failure("revisions: [{name: a, scaleToZeroGrace: 2d}]").getMessage())
                .contains("revisions[0].scaleToZeroGrace");
        assertThat(failure("revisions: [{name: a, scaleToZeroGrace: 25h}]").getMessage())
                .contains("revisions[0].scaleToZeroGrace: must be at most");
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
                        "policy", "least-connections")), Queueing.NONE);
        assertThat(r.containerConcurrency()).isEqualTo(1);
        assertThat(r.queueTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(r.hosts()).containsExactly("fn.example.com", "fn.test");
        assertThat(r.policy()).isEqualTo(PolicyKind.LEAST_CONNECTIONS);
        assertThat(r.service()).isEqualTo(svc);

        ConfigException bad = Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("containerConcurrency", "lots")), Queueing.NONE));
        assertThat(bad.getMessage()).isEqualTo("Service team/fn: sluice.dev/containerConcurrency: must be a whole"
                + " number, was 'lots'");
        ConfigException unknown = Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("concurrency", "1")), Queueing.NONE));
        assertThat(unknown.field()).isEqualTo("sluice.dev/concurrency");
        ConfigException timeout = Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("requestTimeout", "1s", "queueTimeout", "5s")), Queueing.NONE));
        assertThat(timeout.field()).isEqualTo("sluice.dev/queueTimeout");
        RevisionConfig grpc = ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                Map.of("protocol", "h2c", "readinessProbe", "grpc:test.Echo")), Queueing.NONE);
        assertThat(grpc.h2c()).isTrue();
        assertThat(grpc.readinessProbe()).isEqualTo(new ReadinessProbe(true, "test.Echo"));
        ConfigException probe = Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("readinessProbe", "grpc")), Queueing.NONE));
        assertThat(probe.field()).isEqualTo("sluice.dev/readinessProbe");
    }

    @Test
    void aKeyGivenTwiceIsRefusedWithItsLine() {
        ConfigException e = failure("revisions:\n  - name: a\n    containerConcurrency: 1\n    containerConcurrency: 4\n");
        assertThat(e.getMessage()).startsWith("sluice.yaml: not valid YAML at line 4")
                .contains("Duplicate field 'containerConcurrency'");
        assertThat(failure("listen: {proxy: '127.0.0.1:1'}\nlisten: {control: '127.0.0.1:2'}\n").getMessage())
                .contains("at line 2").contains("Duplicate field 'listen'");
    }

    @Test
    void aPodIdOrAddressUsedTwiceInARevisionIsRefused() {
        ConfigException e = failure("revisions: [{name: a, pods: [{address: '10.0.0.1:80', id: p},"
                + " {address: '10.0.0.2:80', id: p}]}]");
        assertThat(e.getMessage()).isEqualTo("sluice.yaml: revisions[0].pods[1].id: pod id 'p' is already used by"
                + " revisions[0].pods[0]: each pod needs its own id");
        assertThat(failure("revisions: [{name: a, pods: ['10.0.0.1:80', {address: '10.0.0.1:80', id: q}]}]")
                .getMessage()).isEqualTo("sluice.yaml: revisions[0].pods[1]: pod address 10.0.0.1:80 is listed twice"
                        + " (also at revisions[0].pods[0])");
    }

    @Test
    void allowedPodNetworksAreCidrsOfEitherFamily() throws Exception {
        SluiceConfig c = ConfigLoader.parse("n.yaml", "control: {allowedPodNetworks: ['10.0.0.0/8', 'fd00::/8',"
                + " '192.168.1.7/32']}\nrevisions: []");
        assertThat(c.allowedPodNetworks()).extracting(PodNetwork::toString)
                .containsExactly("10.0.0.0/8", "fd00::/8", "192.168.1.7/32");
        PodNetwork ten = c.allowedPodNetworks().get(0);
        assertThat(ten.contains(PodNetwork.literal("10.200.3.4"))).isTrue();
        assertThat(ten.contains(PodNetwork.literal("11.0.0.1"))).isFalse();
        assertThat(ten.contains(PodNetwork.literal("::ffff:10.0.0.1"))).as("IPv4-mapped").isTrue();
        assertThat(c.allowedPodNetworks().get(1).contains(PodNetwork.literal("[fd12::1]"))).isTrue();
        assertThat(c.allowedPodNetworks().get(1).contains(PodNetwork.literal("10.0.0.1"))).isFalse();

        ConfigException e = failure("control: {allowedPodNetworks: ['10.0.0.0', 'pods.local/8', '10.0.0.0/33',"
                + " '10.1.0.0/8', 'fd00::/129']}\nrevisions: []");
        assertThat(e.problems()).extracting(ConfigException::getMessage).containsExactly(
                "sluice.yaml: control.allowedPodNetworks[0]: '10.0.0.0' is not a network in CIDR notation, e.g."
                        + " 10.0.0.0/8 or fd00::/8",
                "sluice.yaml: control.allowedPodNetworks[1]: 'pods.local/8' does not start with an IPv4 or IPv6 address",
                "sluice.yaml: control.allowedPodNetworks[2]: '10.0.0.0/33' has prefix length 33, outside 0-32",
                "sluice.yaml: control.allowedPodNetworks[3]: '10.1.0.0/8' has host bits set: a network's address"
                        + " ends in zeros after its prefix",
                "sluice.yaml: control.allowedPodNetworks[4]: 'fd00::/129' has prefix length 129, outside 0-128");
    }

    @Test
    void theTokenFileMustBeReadableAtValidation(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope-token");
        ConfigException e = failure("control: {tokenFile: '" + missing + "'}\nrevisions: []");
        assertThat(e.getMessage()).isEqualTo("sluice.yaml: control.tokenFile: cannot read " + missing
                + ": no such file");
        Path empty = Files.writeString(dir.resolve("empty-token"), " \n");
        assertThat(failure("control: {tokenFile: '" + empty + "'}\nrevisions: []").getMessage())
                .isEqualTo("sluice.yaml: control.tokenFile: " + empty + " is empty: it must hold the control API's"
                        + " bearer token");
        assertThat(failure("control: {tokenFile: '" + dir + "'}\nrevisions: []").getMessage())
                .endsWith(": is a directory");
        Path ok = Files.writeString(dir.resolve("token"), "t0ken\n");
        assertThat(ConfigLoader.parse("t.yaml", "control: {tokenFile: '" + ok + "'}\nrevisions: []")
                .controlTokenFile()).isEqualTo(ok);
    }

    @Test
    void everyProblemIsReportedNotOnlyTheFirst(@TempDir Path dir) {
        ConfigException e = failure("listen: {proxy: 'nowhere', control: '127.0.0.1:99999'}\n"
                + "control: {tokenFile: '" + dir.resolve("nope") + "'}\n"
                + "shutdown: {drainPeriod: soon}\n"
                + "revisions:\n"
                + "  - {name: a, containerConcurrency: many, policy: fastest}\n"
                + "  - {name: b, queueDepth: -1, colour: red, pods: ['10.0.0.1', '10.0.0.2:80']}\n");
        assertThat(e.problems()).extracting(ConfigException::field).containsExactly(
                "listen.proxy", "listen.control", "control.tokenFile", "shutdown.drainPeriod",
                "revisions[0].containerConcurrency", "revisions[0].policy", "revisions[1].colour",
                "revisions[1].queueDepth", "revisions[1].pods[0]");
        assertThat(e.getMessage().lines()).hasSize(9).allMatch(l -> l.startsWith("sluice.yaml: "));
        assertThat(e.field()).isEqualTo("listen.proxy");

        ConfigException stopped = failure("colour: red\nlisten: 8080\nrevisions: []\n");
        assertThat(stopped.problems()).as("what was found before a section that cannot be read at all")
                .extracting(ConfigException::field).containsExactly("colour", "listen");
    }

    @Test
    void listenAddressesMustBeWellFormed() {
        assertThat(failure("listen: {proxy: 'bad host!:8080'}\nrevisions: []").getMessage())
                .isEqualTo("sluice.yaml: listen.proxy: 'bad host!:8080' has an invalid host 'bad host!' (an IP address"
                        + " or a name; IPv6 addresses go in brackets: [::]:8080)");
        assertThat(ListenAddress.parse("[::]:8080").host()).isEqualTo("::");
    }
}
