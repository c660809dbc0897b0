package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Probes whether a pod is really ready before Sluice routes to it. Asynchronous: it must not
 * block the caller (the server supplies an HTTP probe with a timeout). A stage that completes
 * with false or exceptionally counts as a failed check; an exceptional completion's message
 * is the reason operators see ({@link Failed} carries one without a stack trace).
 */
@FunctionalInterface
public interface ReadinessCheck {

    CompletionStage<Boolean> check(RevisionId revision, String podId, String address);

    /** Trusts every claim (for tests, and for pods that are probed elsewhere). */
    ReadinessCheck ALWAYS_READY = (r, p, a) -> CompletableFuture.completedFuture(Boolean.TRUE);

    /** A failed check and why, in words (e.g. {@code connection refused}). */
    final class Failed extends RuntimeException {
        public Failed(String reason) {
            super(reason, null, false, false);
        }
    }
}
