package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Probes whether a pod is really ready before Sluice routes to it. Asynchronous: it must not
 * block the caller (the server supplies an HTTP probe with a timeout). A stage that completes
 * with false or exceptionally counts as a failed check.
 */
@FunctionalInterface
public interface ReadinessCheck {

    CompletionStage<Boolean> check(RevisionId revision, String podId, String address);

    /** Trusts every claim (for tests, and for pods that are probed elsewhere). */
    ReadinessCheck ALWAYS_READY = (r, p, a) -> CompletableFuture.completedFuture(Boolean.TRUE);
}
