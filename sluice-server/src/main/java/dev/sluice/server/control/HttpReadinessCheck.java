package dev.sluice.server.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ReadinessCheck;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Probes a pod with {@code GET http://address/readinessPath}: ready if it answers 2xx within
 * the timeout. Asynchronous (the JDK HTTP client); a refused connection, a timeout or any
 * other status is "not ready", and the stage fails with a {@link ReadinessCheck.Failed} that says
 * which ({@code connection refused}, {@code GET /healthz answered 503}).
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
            return CompletableFuture.failedFuture(new Failed("not a URL: " + e.getMessage()));
        }
        String what = "GET " + (path == null ? "/" : path);
        return client.sendAsync(req, HttpResponse.BodyHandlers.discarding()).handle((r, e) -> {
            if (e != null) {
                throw new Failed(reason(e));
            }
            if (r.statusCode() < 200 || r.statusCode() >= 300) {
                throw new Failed(what + " answered " + r.statusCode());
            }
            return Boolean.TRUE;
        });
    }

    /** Why the probe got no answer, as an operator would say it (the JDK often gives no message). */
    private String reason(Throwable e) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (t instanceof HttpConnectTimeoutException) {
            return "no connection within " + timeout.toMillis() + " ms";
        }
        if (t instanceof HttpTimeoutException) {
            return "no answer within " + timeout.toMillis() + " ms";
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectException) {
                String m = c.getMessage();
                return m == null || m.toLowerCase(Locale.ROOT).contains("refused") ? "connection refused"
                        : "cannot connect: " + m;
            }
            if (c instanceof UnresolvedAddressException || c instanceof UnknownHostException) {
                return "unknown host";
            }
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null) {
                return c.getMessage();
            }
        }
        return t.getClass().getSimpleName();
    }
}
