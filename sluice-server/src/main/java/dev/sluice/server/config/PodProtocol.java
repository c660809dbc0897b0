package dev.sluice.server.config;

/**
 * What a revision's pods speak ({@code protocol:} in {@code sluice.yaml}): {@code http1}
 * (HTTP/1.1, the default) or {@code h2c} (HTTP/2 without TLS, prior knowledge, as gRPC servers
 * do). Clients may use either; Sluice translates.
 */
public enum PodProtocol {
    HTTP1("http1"),
    H2C("h2c");

    private final String wireName;

    PodProtocol(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** The protocol named {@code s}, or null. */
    public static PodProtocol parse(String s) {
        for (PodProtocol p : values()) {
            if (p.wireName.equals(s)) {
                return p;
            }
        }
        return null;
    }
}
