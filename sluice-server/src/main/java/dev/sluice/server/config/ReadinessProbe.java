package dev.sluice.server.config;

/**
 * How a revision's pods are checked before they get requests ({@code readinessProbe:} in
 * {@code sluice.yaml}): {@code http} (the default) is a GET of {@code readinessPath} in the
 * revision's protocol; {@code grpc} is the gRPC health protocol
 * ({@code grpc.health.v1.Health/Check}, over h2c), for the whole server or, as
 * {@code grpc:<service>}, for one service.
 *
 * @param grpc        whether the gRPC health protocol is used
 * @param grpcService the service asked about ({@code ""}: the server as a whole)
 */
public record ReadinessProbe(boolean grpc, String grpcService) {

    public static final ReadinessProbe HTTP = new ReadinessProbe(false, "");

    /** The probe {@code s} names, or null if it names none. */
    public static ReadinessProbe parse(String s) {
        if (s.equals("http")) {
            return HTTP;
        }
        if (s.equals("grpc")) {
            return new ReadinessProbe(true, "");
        }
        if (s.startsWith("grpc:") && s.length() > 5) {
            return new ReadinessProbe(true, s.substring(5));
        }
        return null;
    }

    @Override
    public String toString() {
        return grpc ? (grpcService.isEmpty() ? "grpc" : "grpc:" + grpcService) : "http";
    }
}
