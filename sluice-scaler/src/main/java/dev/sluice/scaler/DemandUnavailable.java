package dev.sluice.scaler;

/**
 * A {@link DemandSource} cannot say a revision's demand now: with several replicas, the replica
 * that has the figure could not be asked. The scaler answers gRPC {@code UNAVAILABLE} with the
 * message, and KEDA asks again.
 */
public final class DemandUnavailable extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DemandUnavailable(String message) {
        super(message);
    }
}
