package dev.sluice.core.control;

import dev.sluice.core.pod.PodState;

/**
 * One pod in a discovery snapshot: its identity, address and the state discovery sees
 * ({@code READY}, {@code NOT_READY}, {@code PENDING} or {@code DRAINING}).
 */
public record Endpoint(String podId, String address, PodState state) {

    /** @throws IllegalArgumentException as {@link PodEvent} does */
    public Endpoint {
        PodEvent.validatePod(podId, address, state);
    }
}
