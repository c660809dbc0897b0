package dev.sluice.server.config;

import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.control.Endpoint;
import dev.sluice.core.control.RevisionSettings;
import dev.sluice.core.pod.PodState;
import dev.sluice.kubernetes.ServiceRef;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Walks a parsed {@code sluice.yaml} tree and validates every field, remembering the path for
 * error messages ({@code revisions[1].timeouts.queue}). One reader per file read, on one thread;
 * {@link AnnotationReader} uses its {@link #revision} for a Service's annotations, so a field
 * is validated the same way wherever it is written.
 */
final class ConfigReader extends FieldReader {

    // The defaults of the fields that have no model class of their own to hold them.
    static final String DEFAULT_PROXY_LISTEN = "0.0.0.0:8080";
    static final String DEFAULT_CONTROL_LISTEN = "127.0.0.1:8081";
    /** KEDA's external scaler, on Kubernetes; elsewhere it is off unless {@code listen.scaler} is set. */
    static final String DEFAULT_SCALER_LISTEN = "0.0.0.0:9090";
    static final Duration DEFAULT_DRAIN_PERIOD = Duration.ofSeconds(5);
    static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(30);
    static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(60);
    static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(300);

    /** A day: longer is a typo for "never scale to zero", which minReplicaCount says better. */
    private static final Duration MAX_SCALE_TO_ZERO_GRACE = Duration.ofDays(1);
    /** The top-level {@code queueing} section: every revision without its own has it. */
    private Queueing defaultQueueing = Queueing.NONE;

    /**
     * A reader for one revision outside the file (a labelled Service's annotations), which
     * inherits the file's top-level {@code queueing} section as the file's own revisions do.
     */
    ConfigReader(String file, Queueing defaultQueueing) {
        this(file);
        this.defaultQueueing = defaultQueueing;
    }

    ConfigReader(String file) {
        super(file, new ArrayList<>());
    }

    SluiceConfig config(JsonNode root) throws ConfigException {
        object(root, "", Set.of("listen", "control", "shutdown", "kubernetes", "revisions", "client",
                "cluster", "queueing"));
        defaultQueueing = queueing(root.get("queueing"), "queueing", Queueing.NONE, null);
        JsonNode listen = optionalObject(root, "listen", "listen", Set.of("proxy", "control", "scaler"));
        ListenAddress proxy = listen(listen, "listen.proxy", "proxy", DEFAULT_PROXY_LISTEN);
        ListenAddress control = listen(listen, "listen.control", "control", DEFAULT_CONTROL_LISTEN);
        String scalerText = string(listen, "listen.scaler", "scaler", null);
        JsonNode controlNode = optionalObject(root, "control", "control",
                Set.of("tokenFile", "allowedPodNetworks", "readinessChecks"));
        ReadinessChecks checks = readinessChecks(controlNode);
        String tokenFile = string(controlNode, "control.tokenFile", "tokenFile", null);
        if (tokenFile != null) {
            tokenFile(tokenFile);
        }
        List<PodNetwork> networks = new ArrayList<>();
        List<String> networkTexts = strings(controlNode, "control.allowedPodNetworks", "allowedPodNetworks");
        for (int i = 0; i < networkTexts.size(); i++) {
            String text = networkTexts.get(i);
            String field = "control.allowedPodNetworks[" + i + "]";
            PodNetwork n = part(() -> parsed(field, () -> PodNetwork.parse(text)));
            if (n != null) {
                networks.add(n);
            }
        }
        JsonNode shutdown = optionalObject(root, "shutdown", "shutdown", Set.of("drainPeriod", "gracePeriod"));
        Duration drain = duration(shutdown, "shutdown.drainPeriod", "drainPeriod", DEFAULT_DRAIN_PERIOD, true);
        Duration grace = duration(shutdown, "shutdown.gracePeriod", "gracePeriod", DEFAULT_GRACE_PERIOD, true);
        KubernetesConfig kubernetes = part(() -> new KubernetesConfigReader(file, problems).read(root.get("kubernetes")));
        ClientLimits client = part(() -> client(root));
        ClusterConfig cluster = part(() -> new ClusterConfigReader(file, problems).read(root.get("cluster")));

        List<RevisionConfig> revisions = new ArrayList<>();
        JsonNode list = root.get("revisions");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                invalid("revisions", "must be a list of revisions", null);
                list = Yaml.MAPPER.createArrayNode();
            }
            Map<RevisionId, String> ids = new HashMap<>();
            Map<String, String> hosts = new HashMap<>();
            for (int i = 0; i < list.size(); i++) {
                String at = "revisions[" + i + "]";
                JsonNode node = list.get(i);
                RevisionConfig r = part(() -> revision(node, at));
                if (r == null) {
                    continue;
                }
                revisions.add(r);
                String before = ids.putIfAbsent(r.id(), at);
                if (before != null) {
                    invalid(at, "revision " + r.id() + " is already defined at " + before, null);
                }
                for (int h = 0; h < r.hosts().size(); h++) {
                    String other = hosts.putIfAbsent(r.hosts().get(h), at);
                    if (other != null) {
                        invalid(at + ".hosts[" + h + "]", "host '" + r.hosts().get(h)
                                + "' is already routed to the revision at " + other, null);
                    }
                }
            }
        }
        if (kubernetes == null && revisions.stream().anyMatch(r -> r.service() != null)) {
            kubernetes = KubernetesConfig.defaults();
        }
        ListenAddress scaler = scalerText == null
                ? (kubernetes == null ? null : ListenAddress.parse(DEFAULT_SCALER_LISTEN))
                : "off".equals(scalerText) ? null : listen(listen, "listen.scaler", "scaler", DEFAULT_SCALER_LISTEN);
        if (cluster != null && !cluster.peers().isEmpty() && kubernetes != null && kubernetes.peers() != null) {
            invalid("kubernetes.peers", "the replicas come either from cluster.peers (static, with health checks)"
                    + " or from the control Service's endpoints (kubernetes.peers), not both: remove one", null);
        }
        if (cluster != null && drain.compareTo(cluster.detectionTime()) <= 0) {
            invalid("shutdown.drainPeriod", "must be longer than the time the other replicas take to notice this"
                    + " one draining (cluster.health.interval x failures + timeout = "
                    + Durations.format(cluster.detectionTime()) + "), was " + Durations.format(drain)
                    + ": they still forward to it until then", null);
        }
        return new SluiceConfig(proxy, control, tokenFile == null ? null : Path.of(tokenFile), networks, drain,
                grace, kubernetes, revisions, client == null ? ClientLimits.DEFAULTS : client, scaler, cluster, checks,
                defaultQueueing);
    }

    private ReadinessChecks readinessChecks(JsonNode controlNode) throws ConfigException {
        JsonNode node = optionalObject(controlNode, "control.readinessChecks", "readinessChecks",
                Set.of("maxInFlight", "maxInFlightPerRevision"));
        int all = integer(node, "control.readinessChecks.maxInFlight", "maxInFlight",
                ReadinessChecks.DEFAULTS.maxInFlight(), 1, ReadinessChecks.MAX);
        int perRevision = integer(node, "control.readinessChecks.maxInFlightPerRevision", "maxInFlightPerRevision",
                Math.min(all, ReadinessChecks.DEFAULTS.maxInFlightPerRevision()), 1, ReadinessChecks.MAX);
        if (perRevision > all) {
            perRevision = invalid("control.readinessChecks.maxInFlightPerRevision", "(" + perRevision
                    + ") must not exceed control.readinessChecks.maxInFlight (" + all + ")", all);
        }
        return new ReadinessChecks(all, perRevision);
    }

    /** {@code run} reads the token at start-up: a file it could not read fails here first. */
    private void tokenFile(String path) {
        Path p = Path.of(path);
        String content;
        try {
            if (Files.isDirectory(p)) {
                invalid("control.tokenFile", "cannot read " + path + ": is a directory", null);
                return;
            }
            content = Files.readString(p);
        } catch (NoSuchFileException e) {
            invalid("control.tokenFile", "cannot read " + path + ": no such file", null);
            return;
        } catch (AccessDeniedException e) {
            invalid("control.tokenFile", "cannot read " + path + ": permission denied", null);
            return;
        } catch (IOException e) {
            invalid("control.tokenFile", "cannot read " + path + ": " + e.getMessage(), null);
            return;
        }
        if (content.isBlank()) {
            invalid("control.tokenFile", path + " is empty: it must hold the control API's bearer token", null);
        }
    }

    // ---- client: what the proxy port allows its clients (timeouts, connection cap, buffering)

    ClientLimits client(JsonNode root) throws ConfigException {
        JsonNode node = optionalObject(root, "client", "client", Set.of("timeouts", "maxConnections",
                "requestBuffer"));
        JsonNode t = optionalObject(node, "client.timeouts", "timeouts", Set.of("head", "idle", "bodyStall"));
        Duration head = duration(t, "client.timeouts.head", "head", ClientLimits.DEFAULT_HEAD_TIMEOUT, false);
        Duration idle = duration(t, "client.timeouts.idle", "idle", ClientLimits.DEFAULT_IDLE_TIMEOUT, false);
        Duration stall = duration(t, "client.timeouts.bodyStall", "bodyStall",
                ClientLimits.DEFAULT_BODY_STALL_TIMEOUT, false);
        int max = integer(node, "client.maxConnections", "maxConnections", ClientLimits.DEFAULT_MAX_CONNECTIONS,
                1, 10_000_000);
        JsonNode b = node.get("requestBuffer");
        long buffer = b == null || b.isNull() ? ClientLimits.DEFAULT_REQUEST_BUFFER
                : parsed("client.requestBuffer", () -> Sizes.parse(text(b)));
        if (buffer > 1L << 30) {
            buffer = invalid("client.requestBuffer", "must be at most 1GiB (it is held in memory per request), was "
                    + text(b), ClientLimits.DEFAULT_REQUEST_BUFFER);
        }
        return new ClientLimits(head, idle, stall, max, (int) buffer);
    }

    RevisionConfig revision(JsonNode node, String at) throws ConfigException {
        object(node, at, Set.of("namespace", "name", "hosts", "containerConcurrency", "policy", "queueDepth",
                "overflowStatus", "timeouts", "maxScale", "readinessPath", "staleThreshold", "drainTimeout",
                "pods", "service", "scaleToZeroGrace", "protocol", "readinessProbe", "queueing"));
        String namespace = string(node, at + ".namespace", "namespace", "default");
        String name = string(node, at + ".name", "name", null);
        if (name == null) {
            throw error(at + ".name", "missing: every revision needs a name");
        }
        RevisionId id = parsed(at, () -> new RevisionId(namespace, name));
        int cc = integer(node, at + ".containerConcurrency", "containerConcurrency", 0, 0, 1_000_000);
        String policyName = string(node, at + ".policy", "policy", null);
        PolicyKind policy = policyName == null ? PolicyKind.defaultFor(cc)
                : parsed(at + ".policy", () -> PolicyKind.parse(policyName));
        int queueDepth = integer(node, at + ".queueDepth", "queueDepth", RevisionSettings.DEFAULT_QUEUE_DEPTH, 0,
                10_000_000);
        int overflow = integer(node, at + ".overflowStatus", "overflowStatus", 503, 429, 503);
        if (overflow != 503 && overflow != 429) {
            overflow = invalid(at + ".overflowStatus", "must be 503 or 429, was " + overflow, 503);
        }
        JsonNode timeouts = optionalObject(node, at + ".timeouts", "timeouts",
                Set.of("queue", "total", "responseStart"));
        Duration total = duration(timeouts, at + ".timeouts.total", "total", DEFAULT_REQUEST_TIMEOUT, false);
        Duration queue = duration(timeouts, at + ".timeouts.queue", "queue",
                DEFAULT_QUEUE_TIMEOUT.compareTo(total) < 0 ? DEFAULT_QUEUE_TIMEOUT : total, false);
        Duration responseStart = duration(timeouts, at + ".timeouts.responseStart", "responseStart", total, false);
        if (queue.compareTo(total) > 0) {
            queue = invalid(at + ".timeouts.queue", "(" + Durations.format(queue)
                    + ") must not exceed timeouts.total (" + Durations.format(total)
                    + "): a request cannot wait longer than it may live", total);
        }
        int maxScale = integer(node, at + ".maxScale", "maxScale", 0, 0, 1_000_000);
        String readinessPath = string(node, at + ".readinessPath", "readinessPath", "/");
        if (!readinessPath.startsWith("/")) {
            readinessPath = invalid(at + ".readinessPath", "must start with '/', was '" + readinessPath + "'", "/");
        }
        Duration stale = duration(node, at + ".staleThreshold", "staleThreshold",
                RevisionSettings.DEFAULT_STALE_THRESHOLD, false);
        Duration drain = duration(node, at + ".drainTimeout", "drainTimeout", RevisionSettings.DEFAULT_DRAIN_TIMEOUT,
                false);
        Duration scaleToZeroGrace = duration(node, at + ".scaleToZeroGrace", "scaleToZeroGrace",
                RevisionConfig.DEFAULT_SCALE_TO_ZERO_GRACE, true);
        if (scaleToZeroGrace.compareTo(MAX_SCALE_TO_ZERO_GRACE) > 0) {
            scaleToZeroGrace = invalid(at + ".scaleToZeroGrace", "must be at most "
                    + Durations.format(MAX_SCALE_TO_ZERO_GRACE) + ", was " + Durations.format(scaleToZeroGrace),
                    RevisionConfig.DEFAULT_SCALE_TO_ZERO_GRACE);
        }
        List<String> hosts = strings(node, at + ".hosts", "hosts");
        List<Endpoint> pods = pods(node.get("pods"), at + ".pods");
        ServiceRef service = service(node.get("service"), at + ".service", namespace);
        if (service != null && !pods.isEmpty()) {
            invalid(at + ".service", "a revision takes its pods from a service or from a pods list, not both", null);
        }
        String protocolName = string(node, at + ".protocol", "protocol", "http1");
        PodProtocol protocol = PodProtocol.parse(protocolName);
        if (protocol == null) {
            protocol = invalid(at + ".protocol", "must be http1 or h2c, was '" + protocolName + "'", PodProtocol.HTTP1);
        }
        String probeName = string(node, at + ".readinessProbe", "readinessProbe", "http");
        ReadinessProbe probe = ReadinessProbe.parse(probeName);
        if (probe == null) {
            probe = invalid(at + ".readinessProbe", "must be http, grpc or grpc:<service>, was '" + probeName + "'",
                    ReadinessProbe.HTTP);
        } else if (probe.grpc() && protocol != PodProtocol.H2C) {
            probe = invalid(at + ".readinessProbe", "grpc needs protocol: h2c (gRPC servers speak HTTP/2)",
                    ReadinessProbe.HTTP);
        }
        JsonNode queueingNode = node.get("queueing");
        Queueing queueing = queueing(queueingNode, at + ".queueing", defaultQueueing, total);
        if (queueingNode == null) {
            QueueingReader inherited = new QueueingReader(file);
            inherited.checkTimeouts(queueing, at + ".timeouts.total", total);
            problems.addAll(inherited.problems());
        }
        return new RevisionConfig(id, hosts, cc, policy, queueDepth, overflow, queue, total, responseStart,
                maxScale, readinessPath, stale, drain, pods, service, scaleToZeroGrace, protocol, probe, queueing,
                node.has("protocol"));
    }

    /** A {@code queueing} section, read by its own reader; its problems join this file's. */
    private Queueing queueing(JsonNode node, String at, Queueing inherited, Duration requestTimeout) {
        QueueingReader reader = new QueueingReader(file);
        Queueing q = reader.read(node, at, inherited, requestTimeout);
        problems.addAll(reader.problems());
        return q;
    }

    ServiceRef service(JsonNode node, String at, String revisionNamespace) throws ConfigException {
        if (node == null || node.isNull()) {
            return null;
        }
        object(node, at, Set.of("namespace", "name", "port"));
        String ns = string(node, at + ".namespace", "namespace", revisionNamespace);
        String name = string(node, at + ".name", "name", null);
        if (name == null) {
            throw error(at + ".name", "missing: the name of the Service whose EndpointSlices hold the pods");
        }
        String port = string(node, at + ".port", "port", null);
        return parsed(at, () -> new ServiceRef(ns, name, port));
    }

    List<Endpoint> pods(JsonNode node, String at) throws ConfigException {
        List<Endpoint> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw error(at, "must be a list of pod addresses (host:port) or {address, id} entries");
        }
        Map<String, String> addresses = new HashMap<>();
        Map<String, String> ids = new HashMap<>();
        for (int i = 0; i < node.size(); i++) {
            String pat = at + "[" + i + "]";
            JsonNode entry = node.get(i);
            Endpoint e = part(() -> pod(entry, pat));
            if (e == null) {
                continue;
            }
            String before = addresses.putIfAbsent(e.address(), pat);
            if (before != null) {
                invalid(pat, "pod address " + e.address() + " is listed twice (also at " + before + ")", null);
                continue;
            }
            String sameId = ids.putIfAbsent(e.podId(), pat);
            if (sameId != null) {
                invalid(pat + ".id", "pod id '" + e.podId() + "' is already used by " + sameId
                        + ": each pod needs its own id", null);
                continue;
            }
            out.add(e);
        }
        return out;
    }

    Endpoint pod(JsonNode p, String pat) throws ConfigException {
        {
            String address;
            String id;
            if (p.isString()) {
                address = p.asString();
                id = address;
            } else if (p.isObject()) {
                object(p, pat, Set.of("address", "id"));
                address = string(p, pat + ".address", "address", null);
                if (address == null) {
                    throw error(pat + ".address", "missing: expected host:port");
                }
                id = string(p, pat + ".id", "id", address);
            } else {
                throw error(pat, "must be host:port or {address, id}");
            }
            String podId = id;
            String addr = address;
            return parsed(pat, () -> new Endpoint(podId, addr, PodState.READY));
        }
    }
}
