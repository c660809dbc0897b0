package dev.sluice.kubernetes;

import dev.sluice.core.NanoClock;
import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.control.PodEvent;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pods authenticate with their projected ServiceAccount token. The token goes to the TokenReview
 * API; a token bound to a pod names that pod's UID, and a report is accepted only when that UID
 * is the report's {@code podId} and the report's address is one the revision's EndpointSlices
 * list for that pod. So a pod can report only for itself: it cannot drain or claim another pod.
 * Needs nothing beyond {@code create tokenreviews} and the EndpointSlice watch Sluice already has.
 *
 * <h2>Implementation notes</h2>
 * The TokenReview call blocks, so it runs on the given executor, never on an event loop. Reviews
 * are cached by the token's SHA-256 (the token itself is never kept): accepted ones for
 * {@link #ACCEPTED_TTL}, refused ones for {@link #REFUSED_TTL}, on the injected clock; the cache is
 * emptied when it exceeds {@link #MAX_CACHED} entries. The ownership check is never cached: it
 * reads the live view, so a pod that has left its Service is refused at once. An API server that
 * cannot be reached gives {@code UNAVAILABLE} (503, retry), not a refusal.
 */
public final class TokenReviewAuthenticator implements PodAuthenticator {

    private static final Logger LOG = LoggerFactory.getLogger(TokenReviewAuthenticator.class);
    public static final String POD_UID_EXTRA = "authentication.kubernetes.io/pod-uid";
    public static final String POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";
    static final Duration ACCEPTED_TTL = Duration.ofSeconds(60);
    static final Duration REFUSED_TTL = Duration.ofSeconds(5);
    static final int MAX_CACHED = 10_000;

    /** What the API server said about a token. */
    record Review(boolean authenticated, String username, String podUid, String podName, String error) {
    }

    private record Cached(Review review, long expiresAt) {
    }

    private final KubernetesClient client;
    private final KubernetesDiscovery discovery;
    private final List<String> audiences;
    private final NanoClock clock;
    private final Executor executor;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    /**
     * @param audiences the audiences the token must carry (the projected volume's
     *                  {@code audience}); empty = the API server's own
     */
    public TokenReviewAuthenticator(KubernetesClient client, KubernetesDiscovery discovery, List<String> audiences,
            NanoClock clock, Executor executor) {
        this.client = Objects.requireNonNull(client);
        this.discovery = Objects.requireNonNull(discovery);
        this.audiences = List.copyOf(audiences);
        this.clock = Objects.requireNonNull(clock);
        this.executor = Objects.requireNonNull(executor);
    }

    @Override
    public CompletableFuture<Verdict> authenticate(String bearerToken, PodEvent report) {
        String key = sha256(bearerToken);
        Cached c = cache.get(key);
        if (c != null && clock.nanoTime() - c.expiresAt() < 0) {
            return CompletableFuture.completedFuture(decide(c.review(), report));
        }
        try {
            return CompletableFuture.supplyAsync(() -> review(bearerToken), executor).handle((review, err) -> {
                if (err != null) {
                    LOG.warn("TokenReview failed: {}", err.toString());
                    return Verdict.unavailable("cannot check the token now (TokenReview failed: "
                            + rootMessage(err) + "); retry");
                }
                remember(key, review);
                return decide(review, report);
            });
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(Verdict.unavailable("too many token checks at once; retry"));
        }
    }

    private Review review(String token) {
        TokenReview request = new TokenReviewBuilder().withNewSpec().withToken(token).withAudiences(audiences)
                .endSpec().build();
        TokenReview answer = client.tokenReviews().create(request);
        TokenReviewStatus st = answer == null ? null : answer.getStatus();
        if (st == null || !Boolean.TRUE.equals(st.getAuthenticated())) {
            return new Review(false, null, null, null, st == null || st.getError() == null ? "not authenticated" : st.getError());
        }
        UserInfo user = st.getUser();
        Map<String, List<String>> extra = user == null || user.getExtra() == null ? Map.of() : user.getExtra();
        return new Review(true, user == null ? "?" : user.getUsername(), first(extra.get(POD_UID_EXTRA)),
                first(extra.get(POD_NAME_EXTRA)), null);
    }

    Verdict decide(Review r, PodEvent report) {
        if (!r.authenticated()) {
            return Verdict.unauthenticated("the API server did not accept the token: " + r.error());
        }
        if (r.podUid() == null) {
            return Verdict.forbidden(r.username() + " is not a pod's token: mount a projected service account token"
                    + " (a token bound to a pod) and send it");
        }
        if (!r.podUid().equals(report.podId())) {
            return Verdict.forbidden("the token belongs to pod " + r.podName() + " (uid " + r.podUid()
                    + "), and a pod may report only for itself: podId is '" + report.podId() + "'");
        }
        SliceView view = discovery.view(report.revision());
        if (view == null) {
            return Verdict.forbidden("revision " + report.revision() + " is not discovered from Kubernetes, so its pods"
                    + " cannot authenticate with service account tokens (use the control token)");
        }
        String host = IpLiterals.hostOf(report.address());
        if (host == null || !view.owns(r.podUid(), host)) {
            return Verdict.forbidden("pod " + r.podName() + " (uid " + r.podUid() + ") does not have address "
                    + report.address() + " in the EndpointSlices of service " + discovery.service(report.revision())
                    + (view.owners().containsKey(r.podUid()) ? " (its addresses: " + view.owners().get(r.podUid()) + ")"
                            : " (the pod is not listed there yet: retry shortly)"));
        }
        return Verdict.accepted("pod " + r.podName() + " (" + r.username() + ")");
    }

    private void remember(String key, Review review) {
        if (cache.size() >= MAX_CACHED) {
            cache.clear();
        }
        Duration ttl = review.authenticated() ? ACCEPTED_TTL : REFUSED_TTL;
        cache.put(key, new Cached(review, clock.nanoTime() + ttl.toNanos()));
    }

    private static String first(List<String> values) {
        return values == null || values.isEmpty() || values.get(0).isBlank() ? null : values.get(0);
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    private static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
