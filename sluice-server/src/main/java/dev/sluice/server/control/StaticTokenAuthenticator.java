package dev.sluice.server.control;

import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.control.PodEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;

/**
 * The operator's static bearer token ({@code control.tokenFile} or {@code SLUICE_CONTROL_TOKEN}):
 * whoever holds it may report for any pod. A token that is not it goes to the fallback (the
 * TokenReview check on Kubernetes), or is refused when there is none.
 */
public final class StaticTokenAuthenticator implements PodAuthenticator {

    private final byte[] token;
    private final PodAuthenticator fallback;

    /**
     * @param token    the static token, or null when none is configured
     * @param fallback asked when the token does not match, or null
     */
    public StaticTokenAuthenticator(byte[] token, PodAuthenticator fallback) {
        this.token = token == null ? null : token.clone();
        this.fallback = fallback;
    }

    /** Whether the bearer token is the static control token (not a pod's own). */
    public boolean isControlToken(String bearerToken) {
        return token != null && MessageDigest.isEqual(token, bearerToken.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public CompletableFuture<Verdict> authenticate(String bearerToken, PodEvent report) {
        if (isControlToken(bearerToken)) {
            return CompletableFuture.completedFuture(Verdict.accepted("the control token"));
        }
        if (fallback != null) {
            return fallback.authenticate(bearerToken, report);
        }
        return CompletableFuture.completedFuture(Verdict.unauthenticated("wrong bearer token"));
    }
}
