package dev.sluice.core.control;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Decides whether a pod report may be applied: who presented the credential, and whether that
 * caller may speak for the pod and address the report names. Implementations: a static bearer
 * token (outside Kubernetes) and a TokenReview check that binds the caller to its own pod.
 */
@FunctionalInterface
public interface PodAuthenticator {

    /**
     * @param bearerToken the credential from {@code Authorization: Bearer}, never null
     * @param report      the report the caller wants applied (already validated)
     * @return completes with the verdict; never completes exceptionally for a refusal
     */
    CompletableFuture<Verdict> authenticate(String bearerToken, PodEvent report);

    /** The outcome, with a reason a person can act on. */
    record Verdict(Outcome outcome, String reason) {
        public Verdict {
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(reason, "reason");
        }

        public static Verdict accepted(String who) {
            return new Verdict(Outcome.ACCEPTED, who);
        }

        public static Verdict unauthenticated(String reason) {
            return new Verdict(Outcome.UNAUTHENTICATED, reason);
        }

        public static Verdict forbidden(String reason) {
            return new Verdict(Outcome.FORBIDDEN, reason);
        }

        public static Verdict unavailable(String reason) {
            return new Verdict(Outcome.UNAVAILABLE, reason);
        }

        public boolean isAccepted() {
            return outcome == Outcome.ACCEPTED;
        }
    }

    /**
     * ACCEPTED → apply; UNAUTHENTICATED → 401; FORBIDDEN → 403 (known caller, not its pod);
     * UNAVAILABLE → 503 (the credential could not be checked now: retry).
     */
    enum Outcome {
        ACCEPTED, UNAUTHENTICATED, FORBIDDEN, UNAVAILABLE
    }
}
