package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import java.util.Objects;

/**
 * A pod's state as reported by the pod itself or by discovery. Validated when created, so a
 * bad event is refused with a reason before it reaches a revision's writer.
 *
 * @param podId   the pod's identity (Kubernetes UID or pod name); a different id at a tracked
 *                address means the address was reused by a new pod
 * @param address {@code host:port}
 * @param state   {@code READY}, {@code NOT_READY}, {@code PENDING} or {@code DRAINING}
 */
public record PodEvent(EventSource source, RevisionId revision, String podId, String address, PodState state) {

    /** @throws IllegalArgumentException saying which field is wrong and why */
    public PodEvent {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(revision, "revision");
        validatePod(podId, address, state);
    }

    /** The checks every pod report and discovery endpoint passes. */
    static void validatePod(String podId, String address, PodState state) {
        if (podId == null || podId.isBlank()) {
            throw new IllegalArgumentException("pod identity is missing: every event names its pod (UID or name)");
        }
        if (podId.length() > 253) {
            throw new IllegalArgumentException("pod identity is longer than 253 characters");
        }
        Addresses.requireHostPort(address);
        if (state == null) {
            throw new IllegalArgumentException("state is missing: expected ready, not-ready, pending or draining");
        }
        if (state == PodState.REMOVED || state == PodState.RECOVERING) {
            throw new IllegalArgumentException("state '" + state.wireName()
                    + "' cannot be reported: expected ready, not-ready, pending or draining");
        }
    }

    /**
     * An event from wire values.
     *
     * @throws IllegalArgumentException for an unknown state name, missing identity or malformed address
     */
    public static PodEvent of(EventSource source, RevisionId revision, String podId, String address, String state) {
        return new PodEvent(source, revision, podId, address, PodState.parse(state));
    }
}
