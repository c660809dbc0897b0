package dev.sluice.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * Reads the {@code cluster} section of {@code sluice.yaml} (several replicas, one limit per
 * pod): this replica's id, the static peers, the health checks between them and the handoff
 * timeout, with the checks that tie them together. Its problems join the file's list.
 */
final class ClusterConfigReader extends FieldReader {

    ClusterConfigReader(String file, List<ConfigException> problems) {
        super(file, problems);
    }

    /** The {@code cluster} section, or null when it is absent. */
    ClusterConfig read(JsonNode node) throws ConfigException {
        if (node == null || node.isNull()) {
            return null;
        }
        object(node, "cluster", Set.of("self", "peers", "health", "handoffTimeout"));
        String self = string(node, "cluster.self", "self", null);
        if (self == null) {
            self = defaultSelf();
        } else if (self.isBlank()) {
            self = invalid("cluster.self", "must not be blank", defaultSelf());
        }
        List<ClusterConfig.Peer> peers = new ArrayList<>();
        JsonNode list = node.get("peers");
        if (list != null && !list.isNull() && !list.isArray()) {
            invalid("cluster.peers", "must be a list of {id, address, control}", null);
        } else if (list != null && !list.isNull()) {
            Map<String, String> ids = new HashMap<>();
            Map<String, String> addresses = new HashMap<>();
            for (int i = 0; i < list.size(); i++) {
                String at = "cluster.peers[" + i + "]";
                JsonNode entry = list.get(i);
                ClusterConfig.Peer p = part(() -> peer(entry, at));
                if (p == null) {
                    continue;
                }
                String before = ids.putIfAbsent(p.id(), at);
                if (before != null) {
                    invalid(at + ".id", "replica '" + p.id() + "' is already listed at " + before, null);
                    continue;
                }
                String other = addresses.putIfAbsent(p.address().toString(), at);
                if (other != null) {
                    invalid(at + ".address", p.address() + " is already the address of the replica at " + other, null);
                    continue;
                }
                peers.add(p);
            }
            if (!peers.isEmpty() && !ids.containsKey(self)) {
                invalid("cluster.self", "'" + self + "' is not the id of any of cluster.peers ("
                        + String.join(", ", new TreeSet<>(ids.keySet())) + "): list this replica too, with its own"
                        + " address, so every replica reads the same set", null);
            }
        }
        JsonNode h = optionalObject(node, "cluster.health", "health", Set.of("interval", "timeout", "failures"));
        Duration interval = duration(h, "cluster.health.interval", "interval", ClusterConfig.DEFAULT_HEALTH_INTERVAL,
                false);
        Duration timeout = duration(h, "cluster.health.timeout", "timeout", ClusterConfig.DEFAULT_HEALTH_TIMEOUT,
                false);
        int failures = integer(h, "cluster.health.failures", "failures", ClusterConfig.DEFAULT_FAILURES, 1, 100);
        Duration handoff = duration(node, "cluster.handoffTimeout", "handoffTimeout",
                ClusterConfig.DEFAULT_HANDOFF_TIMEOUT, false);
        // A replica that lost a revision must be noticed (and report) before the new owner's hold ends.
        Duration detect = ClusterConfig.detectionTime(interval, failures, timeout);
        if (handoff.compareTo(detect) <= 0) {
            handoff = invalid("cluster.handoffTimeout", "must be longer than the time to notice a replica gone"
                    + " (cluster.health.interval x failures + timeout = " + Durations.format(detect) + "), was "
                    + Durations.format(handoff), handoff);
        }
        return new ClusterConfig(self, peers, interval, timeout, failures, handoff);
    }

    private ClusterConfig.Peer peer(JsonNode node, String at) throws ConfigException {
        object(node, at, Set.of("id", "address", "control"));
        String id = string(node, at + ".id", "id", null);
        if (id == null || id.isBlank()) {
            throw error(at + ".id", "missing: each peer needs the id it runs with as cluster.self");
        }
        ListenAddress address = peerAddress(node, at + ".address", "address");
        ListenAddress control = peerAddress(node, at + ".control", "control");
        if (address == null || control == null) {
            return null;
        }
        if (address.equals(control)) {
            throw error(at + ".control", "is the same as its address " + address
                    + ": the proxy and the control API listen on different ports");
        }
        return new ClusterConfig.Peer(id, address, control);
    }

    private ListenAddress peerAddress(JsonNode node, String at, String key) throws ConfigException {
        String text = string(node, at, key, null);
        if (text == null) {
            throw error(at, "missing: host:port of the peer's " + (key.equals("address") ? "proxy" : "control API"));
        }
        ListenAddress a = parsed(at, () -> ListenAddress.parse(text));
        if (a.port() == 0) {
            throw error(at, "port 0 cannot be reached: give the port the peer listens on");
        }
        return a;
    }

    /** {@code SLUICE_CLUSTER_SELF}, else {@code HOSTNAME} (a pod's name), else the host's name. */
    static String defaultSelf() {
        String env = System.getenv("SLUICE_CLUSTER_SELF");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "sluice";
        }
    }
}
