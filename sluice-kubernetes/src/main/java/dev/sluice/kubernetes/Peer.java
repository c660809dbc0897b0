package dev.sluice.kubernetes;

import java.util.Objects;

/**
 * One live Sluice replica, as its control Service's EndpointSlices list it.
 *
 * @param id          the replica's pod UID (the endpoint's {@code targetRef}): what the replica
 *                    runs with as {@code cluster.self} ({@code SLUICE_CLUSTER_SELF} from the
 *                    downward API's {@code metadata.uid}). An endpoint without a pod reference (a
 *                    hand-made slice) is identified by its control address instead.
 * @param host        the pod's IP literal, canonical, without brackets (IPv4 when it has both)
 * @param proxyPort   the Service's proxy port on that pod: forwarded requests go there
 * @param controlPort the Service's control port: {@code /readyz} and reports between replicas
 */
public record Peer(String id, String host, int proxyPort, int controlPort) {

    public Peer {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("a peer's id must not be blank");
        }
        String canonical = IpLiterals.canonical(host);
        if (canonical == null) {
            throw new IllegalArgumentException("peer " + id + ": '" + host + "' is not an IP address");
        }
        host = canonical;
        requirePort(id, "proxy", proxyPort);
        requirePort(id, "control", controlPort);
    }

    private static void requirePort(String id, String what, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("peer " + id + ": " + what + " port " + port + " is not in 1..65535");
        }
    }

    /** The proxy's {@code host:port}, an IPv6 host in brackets (as {@code cluster.peers[].address}). */
    public String address() {
        return SliceTranslator.hostPort(host, proxyPort);
    }

    /** The control API's {@code host:port} (as {@code cluster.peers[].control}). */
    public String control() {
        return SliceTranslator.hostPort(host, controlPort);
    }

    @Override
    public String toString() {
        return id + "@" + host + " proxy " + proxyPort + " control " + controlPort;
    }
}
