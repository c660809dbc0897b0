package dev.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.TestPod;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real `sluice run` in its own JVM: SIGTERM under load loses no accepted request and exits
 * 0; a request only waiting for a pod is answered when the drain period ends, not at the end of
 * the grace period.
 */
class SigtermIT {

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void sigtermUnderLoadDrainsEverythingAndExitsZero(@TempDir Path dir) throws Exception {
        int proxyPort = freePort();
        int controlPort = freePort();
        HttpClient http = HttpClient.newHttpClient();
        try (TestPod pod = new TestPod("p", 2)) {
            pod.hold();
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(config, "listen: {proxy: '127.0.0.1:" + proxyPort + "', control: '127.0.0.1:" + controlPort
                    + "'}\nshutdown: {drainPeriod: 500ms, gracePeriod: 20s}\n"
                    + "revisions: [{name: fn, containerConcurrency: 2, readinessPath: /healthz, pods: ['"
                    + pod.address() + "']}]\n");
            String java = ProcessHandle.current().info().command().orElse("java");
            Process sluice = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    SluiceCommand.class.getName(), "run", "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("sluice.log").toFile()).start();
            try {
                URI views = URI.create("http://127.0.0.1:" + controlPort + "/v1/revisions");
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> http.send(
                        HttpRequest.newBuilder(views).build(), HttpResponse.BodyHandlers.ofString()).body()
                        .contains("\"state\" : \"ready\""));
                List<CompletableFuture<HttpResponse<String>>> requests = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    requests.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxyPort + "/"))
                            .header("Sluice-Revision", "default/fn").build(), HttpResponse.BodyHandlers.ofString()));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> pod.arrived() == 2);
                sluice.destroy(); // SIGTERM
                URI ready = URI.create("http://127.0.0.1:" + controlPort + "/readyz");
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    try {
                        return http.send(HttpRequest.newBuilder(ready).build(),
                                HttpResponse.BodyHandlers.discarding()).statusCode() == 503;
                    } catch (IOException refused) {
                        return true;
                    }
                });
                pod.open();
                for (CompletableFuture<HttpResponse<String>> r : requests) {
                    assertThat(r.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
                }
                assertThat(sluice.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(sluice.exitValue()).as(Files.readString(dir.resolve("sluice.log"))).isZero();
                assertThat(pod.served()).isEqualTo(6);
                assertThat(pod.violations()).isZero();
            } finally {
                sluice.destroyForcibly();
            }
        }
    }

    @Test
    void sigtermAnswersQueuedRequestsWhenTheDrainEndsAndExitsZeroWithoutWaitingOutTheGrace(@TempDir Path dir)
            throws Exception {
        int proxyPort = freePort();
        int controlPort = freePort();
        HttpClient http = HttpClient.newHttpClient();
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "listen: {proxy: '127.0.0.1:" + proxyPort + "', control: '127.0.0.1:" + controlPort
                + "'}\nshutdown: {drainPeriod: 1s, gracePeriod: 60s}\n"
                + "revisions: [{name: nopod, containerConcurrency: 1}]\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process sluice = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                SluiceCommand.class.getName(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("sluice.log").toFile()).start();
        try {
            URI views = URI.create("http://127.0.0.1:" + controlPort + "/v1/revisions");
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> http.send(
                    HttpRequest.newBuilder(views).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
            CompletableFuture<HttpResponse<String>> queued = http.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxyPort + "/")).header("Sluice-Revision", "default/nopod").build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> http.send(HttpRequest.newBuilder(views).build(),
                    HttpResponse.BodyHandlers.ofString()).body().contains("\"queued\" : 1"));
            long signalled = System.nanoTime();
            sluice.destroy(); // SIGTERM
            HttpResponse<String> answer = queued.get(20, TimeUnit.SECONDS);
            long answeredAfter = System.nanoTime() - signalled;
            assertThat(answer.statusCode()).isEqualTo(503);
            assertThat(answer.headers().firstValue("Sluice-Reason")).hasValue("shutting-down");
            assertThat(answer.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(Duration.ofNanos(answeredAfter)).as("answered when the 1 s drain ended, not after the 60 s grace")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(900)).isLessThan(Duration.ofSeconds(20));
            assertThat(sluice.waitFor(20, TimeUnit.SECONDS)).as("exits well before the grace period ends").isTrue();
            assertThat(sluice.exitValue()).as(Files.readString(dir.resolve("sluice.log"))).isZero();
        } finally {
            sluice.destroyForcibly();
        }
    }
}
