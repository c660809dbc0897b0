package dev.sluice.server.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ReadinessCheck;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Probes a pod with {@code GET http://address/readinessPath}: ready if it answers 2xx within
 * the timeout. Asynchronous (the JDK HTTP client); a refused connection, a timeout or any
 * other status is "not ready".
 */
public final class HttpReadinessCheck implements ReadinessCheck {

    private final HttpClient client;
    private final Duration timeout;
    private final Function<RevisionId, String> pathOf;

    public HttpReadinessCheck(Duration timeout, Function<RevisionId, String> pathOf) {
        this.timeout = timeout;
        this.pathOf = pathOf;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
    }

    @Override
    public CompletionStage<Boolean> check(RevisionId revision, String podId, String address) {
        String path = pathOf.apply(revision);
        HttpRequest req;
        try {
            req = HttpRequest.newBuilder(URI.create("http://" + address + (path == null ? "/" : path)))
                    .timeout(timeout).header("User-Agent", "sluice-readiness").GET().build();
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(Boolean.FALSE);
        }
        return client.sendAsync(req, HttpResponse.BodyHandlers.discarding())
                .thenApply(r -> r.statusCode() >= 200 && r.statusCode() < 300)
                .exceptionally(e -> Boolean.FALSE);
    }
}
