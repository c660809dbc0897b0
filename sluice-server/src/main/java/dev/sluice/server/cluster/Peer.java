package dev.sluice.server.cluster;

import java.util.Objects;

/**
 * One Sluice replica as the others see it.
 *
 * @param id      its identity ({@code cluster.self}; on Kubernetes its pod UID)
 * @param address its proxy's {@code host:port}: forwarded requests go there, as to a pod
 * @param control its control API's {@code host:port}: health checks and handoff reports
 */
public record Peer(String id, String address, String control) {

    public Peer {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(control, "control");
        if (id.isBlank()) {
            throw new IllegalArgumentException("a replica's id must not be blank");
        }
    }

    /**
     * A replica known by its host and ports, as Kubernetes' membership gives it (the control
     * Service's port; every replica's proxy listens on the same port as this one's).
     */
    public static Peer of(String id, String host, int controlPort, int proxyPort) {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return new Peer(id, h + ":" + proxyPort, h + ":" + controlPort);
    }

    /** The host part of {@link #address}, without brackets. */
    String host() {
        int colon = address.lastIndexOf(':');
        String h = address.substring(0, colon);
        return h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
    }

    @Override
    public String toString() {
        return id + "@" + address;
    }
}
