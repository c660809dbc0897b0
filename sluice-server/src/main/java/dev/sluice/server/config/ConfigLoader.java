package dev.sluice.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.control.Endpoint;
import dev.sluice.core.pod.PodState;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.RevisionCatalog;
import dev.sluice.kubernetes.ServiceRef;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;


/**
 * Reads and validates {@code sluice.yaml}. Every problem is reported as a
 * {@link ConfigException} naming the file, the field (e.g. {@code revisions[1].timeouts.queue})
 * and the reason; unknown fields are errors, so a typo never silently falls back to a default.
 */
public final class ConfigLoader {

    public static final String DEFAULT_PROXY_LISTEN = "0.0.0.0:8080";
    public static final String DEFAULT_CONTROL_LISTEN = "127.0.0.1:8081";
    public static final Duration DEFAULT_DRAIN_PERIOD = Duration.ofSeconds(5);
    public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(30);
    public static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(300);

    private static final YAMLMapper YAML = new YAMLMapper();

    private ConfigLoader() {
    }

    /** Loads a file. */
    public static SluiceConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), "", "file not found");
        } catch (IOException e) {
            throw new ConfigException(file.toString(), "", "cannot read: " + e.getMessage());
        }
        return parse(file.toString(), text);
    }

    /** Parses YAML text; {@code name} is what errors call the file. */
    public static SluiceConfig parse(String name, String yaml) throws ConfigException {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr();
            throw new ConfigException(name, "", "not valid YAML" + where + ": " + e.getOriginalMessage());
        }
        return new Reader(name).config(root == null || root.isMissingNode() ? YAML.createObjectNode() : root);
    }

    /** Annotation (without {@code sluice.dev/}) → the field it sets, as {@code sluice.yaml} spells it. */
    private static final Map<String, String> ANNOTATION_FIELDS = Map.ofEntries(
            Map.entry("hosts", "hosts"), Map.entry("containerConcurrency", "containerConcurrency"),
            Map.entry("policy", "policy"), Map.entry("queueDepth", "queueDepth"),
            Map.entry("overflowStatus", "overflowStatus"), Map.entry("maxScale", "maxScale"),
            Map.entry("readinessPath", "readinessPath"), Map.entry("staleThreshold", "staleThreshold"),
            Map.entry("drainTimeout", "drainTimeout"), Map.entry("queueTimeout", "timeouts.queue"),
            Map.entry("requestTimeout", "timeouts.total"), Map.entry("responseStartTimeout", "timeouts.responseStart"));

    /**
     * A revision found from a labelled Service, its annotations validated exactly as the same
     * fields in {@code sluice.yaml} are. Errors name the Service and the annotation.
     */
    public static RevisionConfig revision(DiscoveredRevision d) throws ConfigException {
        String file = d.source();
        ObjectNode node = YAML.createObjectNode();
        node.put("namespace", d.id().namespace());
        node.put("name", d.id().name());
        for (Map.Entry<String, String> e : d.settings().entrySet()) {
            String field = ANNOTATION_FIELDS.get(e.getKey());
            String annotation = RevisionCatalog.ANNOTATION_PREFIX + e.getKey();
            if (field == null) {
                throw new ConfigException(file, annotation, "unknown annotation (known: "
                        + String.join(", ", new java.util.TreeSet<>(ANNOTATION_FIELDS.keySet())) + ", port)");
            }
            ObjectNode parent = node;
            String leaf = field;
            if (field.startsWith("timeouts.")) {
                parent = node.has("timeouts") ? (ObjectNode) node.get("timeouts") : node.putObject("timeouts");
                leaf = field.substring("timeouts.".length());
            }
            if (leaf.equals("hosts")) {
                var list = parent.putArray("hosts");
                for (String h : e.getValue().split(",")) {
                    list.add(h.trim());
                }
            } else {
                JsonNode value;
                try {
                    value = YAML.readTree(e.getValue()); // "1" → a number, "30s" → text, as in the file
                } catch (JsonProcessingException ex) {
                    value = null;
                }
                if (value == null || !value.isValueNode()) {
                    parent.put(leaf, e.getValue());
                } else {
                    parent.set(leaf, value);
                }
            }
        }
        node.putObject("service").put("namespace", d.service().namespace()).put("name", d.service().name());
        if (d.service().port() != null) {
            ((ObjectNode) node.get("service")).put("port", d.service().port());
        }
        try {
            return new Reader(file).revision(node, "");
        } catch (ConfigException e) {
            String field = e.field().startsWith(".") ? e.field().substring(1) : e.field();
            for (Map.Entry<String, String> a : ANNOTATION_FIELDS.entrySet()) {
                if (field.equals(a.getValue()) || field.startsWith(a.getValue() + "[")) {
                    field = RevisionCatalog.ANNOTATION_PREFIX + a.getKey();
                    break;
                }
            }
            throw new ConfigException(file, field, e.reason());
        }
    }

    /** Walks the tree, remembering the path for error messages. */
    private static final class Reader {
        private final String file;

        Reader(String file) {
            this.file = file;
        }

        private ConfigException error(String field, String reason) {
            return new ConfigException(file, field, reason);
        }

        SluiceConfig config(JsonNode root) throws ConfigException {
            object(root, "", Set.of("listen", "control", "shutdown", "kubernetes", "revisions", "client"));
            JsonNode listen = optionalObject(root, "listen", "listen", Set.of("proxy", "control"));
            ListenAddress proxy = listen(listen, "listen.proxy", "proxy", DEFAULT_PROXY_LISTEN);
            ListenAddress control = listen(listen, "listen.control", "control", DEFAULT_CONTROL_LISTEN);
            JsonNode controlNode = optionalObject(root, "control", "control", Set.of("tokenFile"));
            String tokenFile = string(controlNode, "control.tokenFile", "tokenFile", null);
            JsonNode shutdown = optionalObject(root, "shutdown", "shutdown", Set.of("drainPeriod", "gracePeriod"));
            Duration drain = duration(shutdown, "shutdown.drainPeriod", "drainPeriod", DEFAULT_DRAIN_PERIOD, true);
            Duration grace = duration(shutdown, "shutdown.gracePeriod", "gracePeriod", DEFAULT_GRACE_PERIOD, true);
            KubernetesConfig kubernetes = kubernetes(root.get("kubernetes"));
            ClientLimits client = client(root);

            List<RevisionConfig> revisions = new ArrayList<>();
            JsonNode list = root.get("revisions");
            if (list != null && !list.isNull()) {
                if (!list.isArray()) {
                    throw error("revisions", "must be a list of revisions");
                }
                Map<RevisionId, String> ids = new HashMap<>();
                Map<String, String> hosts = new HashMap<>();
                for (int i = 0; i < list.size(); i++) {
                    String at = "revisions[" + i + "]";
                    RevisionConfig r = revision(list.get(i), at);
                    revisions.add(r);
                    String before = ids.putIfAbsent(r.id(), at);
                    if (before != null) {
                        throw error(at, "revision " + r.id() + " is already defined at " + before);
                    }
                    for (int h = 0; h < r.hosts().size(); h++) {
                        String other = hosts.putIfAbsent(r.hosts().get(h), at);
                        if (other != null) {
                            throw error(at + ".hosts[" + h + "]", "host '" + r.hosts().get(h)
                                    + "' is already routed to the revision at " + other);
                        }
                    }
                }
            }
            if (kubernetes == null && revisions.stream().anyMatch(r -> r.service() != null)) {
                kubernetes = KubernetesConfig.defaults();
            }
            return new SluiceConfig(proxy, control, tokenFile == null ? null : Path.of(tokenFile), drain, grace,
                    kubernetes, revisions, client);
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
                    : parsed("client.requestBuffer", () -> Sizes.parse(b.asText()));
            if (buffer > 1L << 30) {
                throw error("client.requestBuffer", "must be at most 1GiB (it is held in memory per request), was "
                        + b.asText());
            }
            return new ClientLimits(head, idle, stall, max, (int) buffer);
        }

        KubernetesConfig kubernetes(JsonNode node) throws ConfigException {
            if (node == null || node.isNull()) {
                return null;
            }
            object(node, "kubernetes", Set.of("masterUrl", "discoverRevisions", "namespace", "tokenReview"));
            String master = string(node, "kubernetes.masterUrl", "masterUrl", null);
            if (master != null && !master.matches("https?://.+")) {
                throw error("kubernetes.masterUrl", "must be an http:// or https:// URL, was '" + master + "'");
            }
            boolean discover = bool(node, "kubernetes.discoverRevisions", "discoverRevisions", false);
            String ns = string(node, "kubernetes.namespace", "namespace", null);
            if (ns != null) {
                parsed("kubernetes.namespace", () -> new ServiceRef(ns, "x", null));
            }
            JsonNode review = optionalObject(node, "kubernetes.tokenReview", "tokenReview", Set.of("enabled", "audiences"));
            boolean enabled = bool(review, "kubernetes.tokenReview.enabled", "enabled", true);
            List<String> audiences = review.has("audiences")
                    ? strings(review, "kubernetes.tokenReview.audiences", "audiences")
                    : KubernetesConfig.DEFAULT_AUDIENCES;
            return new KubernetesConfig(master, discover, ns, enabled, audiences);
        }

        RevisionConfig revision(JsonNode node, String at) throws ConfigException {
            object(node, at, Set.of("namespace", "name", "hosts", "containerConcurrency", "policy", "queueDepth",
                    "overflowStatus", "timeouts", "maxScale", "readinessPath", "staleThreshold", "drainTimeout",
                    "pods", "service"));
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
            int queueDepth = integer(node, at + ".queueDepth", "queueDepth", 10_000, 0, 10_000_000);
            int overflow = integer(node, at + ".overflowStatus", "overflowStatus", 503, 429, 503);
            if (overflow != 503 && overflow != 429) {
                throw error(at + ".overflowStatus", "must be 503 or 429, was " + overflow);
            }
            JsonNode timeouts = optionalObject(node, at + ".timeouts", "timeouts",
                    Set.of("queue", "total", "responseStart"));
            Duration total = duration(timeouts, at + ".timeouts.total", "total", DEFAULT_REQUEST_TIMEOUT, false);
            Duration queue = duration(timeouts, at + ".timeouts.queue", "queue", DEFAULT_QUEUE_TIMEOUT.compareTo(total) < 0
                    ? DEFAULT_QUEUE_TIMEOUT : total, false);
            Duration responseStart = duration(timeouts, at + ".timeouts.responseStart", "responseStart", total, false);
            if (queue.compareTo(total) > 0) {
                throw error(at + ".timeouts.queue", "(" + Durations.format(queue) + ") must not exceed timeouts.total ("
                        + Durations.format(total) + "): a request cannot wait longer than it may live");
            }
            int maxScale = integer(node, at + ".maxScale", "maxScale", 0, 0, 1_000_000);
            String readinessPath = string(node, at + ".readinessPath", "readinessPath", "/");
            if (!readinessPath.startsWith("/")) {
                throw error(at + ".readinessPath", "must start with '/', was '" + readinessPath + "'");
            }
            Duration stale = duration(node, at + ".staleThreshold", "staleThreshold", Duration.ofMinutes(10), false);
            Duration drain = duration(node, at + ".drainTimeout", "drainTimeout", Duration.ofSeconds(300), false);
            List<String> hosts = strings(node, at + ".hosts", "hosts");
            List<Endpoint> pods = pods(node.get("pods"), at + ".pods");
            ServiceRef service = service(node.get("service"), at + ".service", namespace);
            if (service != null && !pods.isEmpty()) {
                throw error(at + ".service", "a revision takes its pods from a service or from a pods list, not both");
            }
            return new RevisionConfig(id, hosts, cc, policy, queueDepth, overflow, queue, total, responseStart,
                    maxScale, readinessPath, stale, drain, pods, service);
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
            Set<String> seen = new java.util.HashSet<>();
            for (int i = 0; i < node.size(); i++) {
                JsonNode p = node.get(i);
                String pat = at + "[" + i + "]";
                String address;
                String id;
                if (p.isTextual()) {
                    address = p.asText();
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
                out.add(parsed(pat, () -> new Endpoint(podId, addr, PodState.READY)));
                if (!seen.add(address)) {
                    throw error(pat, "pod address " + address + " is listed twice");
                }
            }
            return out;
        }

        // ---- field helpers

        private interface Parse<T> {
            T get();
        }

        private <T> T parsed(String at, Parse<T> parse) throws ConfigException {
            try {
                return parse.get();
            } catch (IllegalArgumentException e) {
                throw error(at, e.getMessage());
            }
        }

        private void object(JsonNode node, String at, Set<String> known) throws ConfigException {
            if (!node.isObject()) {
                throw error(at, "must be a mapping of " + new java.util.TreeSet<>(known));
            }
            Iterator<String> names = node.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!known.contains(n)) {
                    throw error(at.isEmpty() ? n : at + "." + n, "unknown field (known here: "
                            + String.join(", ", new java.util.TreeSet<>(known)) + ")");
                }
            }
        }

        private JsonNode optionalObject(JsonNode parent, String at, String key, Set<String> known)
                throws ConfigException {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return YAML.createObjectNode();
            }
            object(n, at, known);
            return n;
        }

        private String string(JsonNode parent, String at, String key, String dflt) throws ConfigException {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isValueNode() || n.isBoolean()) {
                throw error(at, "must be a string");
            }
            return n.asText();
        }

        private List<String> strings(JsonNode parent, String at, String key) throws ConfigException {
            JsonNode n = parent.get(key);
            List<String> out = new ArrayList<>();
            if (n == null || n.isNull()) {
                return out;
            }
            if (!n.isArray()) {
                throw error(at, "must be a list of strings");
            }
            for (int i = 0; i < n.size(); i++) {
                if (!n.get(i).isTextual() || n.get(i).asText().isBlank()) {
                    throw error(at + "[" + i + "]", "must be a non-empty string");
                }
                out.add(n.get(i).asText().toLowerCase(java.util.Locale.ROOT));
            }
            return out;
        }

        private boolean bool(JsonNode parent, String at, String key, boolean dflt) throws ConfigException {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw error(at, "must be true or false, was '" + n.asText() + "'");
            }
            return n.booleanValue();
        }

        private int integer(JsonNode parent, String at, String key, int dflt, int min, int max)
                throws ConfigException {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw error(at, "must be a whole number, was '" + n.asText() + "'");
            }
            int v = n.intValue();
            if (v < min || v > max) {
                throw error(at, "must be between " + min + " and " + max + ", was " + v);
            }
            return v;
        }

        private Duration duration(JsonNode parent, String at, String key, Duration dflt, boolean zeroAllowed)
                throws ConfigException {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return dflt;
            }
            Duration d = parsed(at, () -> Durations.parse(n.asText()));
            if (d.isNegative() || (!zeroAllowed && d.isZero())) {
                throw error(at, "must be " + (zeroAllowed ? "zero or more" : "positive") + ", was " + n.asText());
            }
            return d;
        }

        private ListenAddress listen(JsonNode parent, String at, String key, String dflt) throws ConfigException {
            String text = string(parent, at, key, dflt);
            return parsed(at, () -> ListenAddress.parse(text));
        }
    }

}
