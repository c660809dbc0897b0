package dev.sluice.kubernetes;

import java.util.Objects;

/**
 * The Kubernetes Service whose EndpointSlices hold a revision's pods.
 *
 * @param port the port of the slices to route to, by name or number; null when the Service
 *             has exactly one port
 */
public record ServiceRef(String namespace, String name, String port) {

    public ServiceRef {
        requireDnsLabel(namespace, "namespace");
        requireDnsLabel(name, "name");
        if (port != null && port.isBlank()) {
            throw new IllegalArgumentException("port must be a port name or number, or left out");
        }
    }

    private static void requireDnsLabel(String v, String what) {
        Objects.requireNonNull(v, what);
        if (!v.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new IllegalArgumentException("service " + what + " '" + v
                    + "' is not a Kubernetes name (lower-case letters, digits and '-', at most 63)");
        }
    }

    @Override
    public String toString() {
        return namespace + "/" + name + (port == null ? "" : ":" + port);
    }
}
