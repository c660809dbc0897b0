package dev.sluice.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forwarding between in-process replicas over real sockets: what the owner and its pod receive,
 * where each request is counted, the handoff endpoint's checks, and a membership fed from
 * outside (as the Kubernetes peer watch feeds it) whose owner cannot be reached.
 */
class ForwardingIT {

    private static final String TOKEN = "cluster-token";

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private SluiceServer sluice(String yaml) throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, TOKEN);
        SluiceServer s = SluiceServer.builder(ConfigLoader.parse("t.yaml",
                yaml + "control: {tokenFile: '" + token + "'}\n")).ioThreads(1).start();
        closing.add(s);
        return s;
    }

    private static String revision(TestPod pod) {
        return "revisions: [{name: fn, containerConcurrency: 2, readinessPath: /healthz, pods: ['" + pod.address()
                + "']}]\n";
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String control(SluiceServer s, String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.controlAddress().getPort() + path)))
                .body();
    }

    private static long metric(String scrape, String prefix) {
        long sum = 0;
        for (String line : scrape.split("\n")) {
            if (line.startsWith(prefix)) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    @Test
    void aForwardCarriesItsBodyAndTheMarkAndIsCountedOnceAsTheRevisionsRequest() throws Exception {
        TestPod pod = new TestPod("p", 2);
        closing.add(pod);
        int[] a = {freePort(), freePort()};
        int[] b = {freePort(), freePort()};
        String peers = "  peers:\n"
                + "    - {id: a, address: '127.0.0.1:" + a[0] + "', control: '127.0.0.1:" + a[1] + "'}\n"
                + "    - {id: b, address: '127.0.0.1:" + b[0] + "', control: '127.0.0.1:" + b[1] + "'}\n"
                + "  health: {interval: 100ms, timeout: 300ms}\n  handoffTimeout: 1s\n";
        SluiceServer sa = sluice("listen: {proxy: '127.0.0.1:" + a[0] + "', control: '127.0.0.1:" + a[1] + "'}\n"
                + "cluster:\n  self: a\n" + peers + revision(pod));
        SluiceServer sb = sluice("listen: {proxy: '127.0.0.1:" + b[0] + "', control: '127.0.0.1:" + b[1] + "'}\n"
                + "cluster:\n  self: b\n" + peers + revision(pod));
        String owner = OwnerFunction.owner("default/fn", List.of(new Peer("a", "x:1", "x:2"),
                new Peer("b", "y:1", "y:2"))).id();
        SluiceServer forwarder = owner.equals("a") ? sb : sa;
        SluiceServer owning = owner.equals("a") ? sa : sb;
        await().atMost(Duration.ofSeconds(20)).until(() -> control(forwarder, "/v1/revisions")
                .contains("\"owner\" : \"" + owner + "\"") && control(forwarder, "/v1/revisions")
                .contains("\"forwarded\" : true") && control(owning, "/v1/revisions").contains("\"state\" : \"ready\""));

        HttpResponse<String> r = await().atMost(Duration.ofSeconds(20)).until(() -> send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + forwarder.proxyAddress().getPort() + "/upload"))
                .header("Sluice-Revision", "default/fn").POST(HttpRequest.BodyPublishers.ofString("hello body"))),
                resp -> resp.statusCode() == 200);
        assertThat(r.body()).isEqualTo("p\n");
        assertThat(pod.lastBody()).isEqualTo("hello body");
        assertThat(pod.lastHeaders()).containsEntry("sluice-forwarded", owner.equals("a") ? "b" : "a");

        String forwarderMetrics = control(forwarder, "/metrics");
        String ownerMetrics = control(owning, "/metrics");
        assertThat(metric(forwarderMetrics, "sluice_cluster_forwards_sent_total{reason=\"proxied\"}")).isEqualTo(1);
        assertThat(metric(forwarderMetrics, "sluice_requests_total{")).as("not a request of the forwarder's")
                .isZero();
        assertThat(metric(ownerMetrics, "sluice_requests_total{")).isEqualTo(1);
        assertThat(metric(ownerMetrics, "sluice_cluster_forwards_received_total")).isEqualTo(1);

        // The handoff endpoint takes the control token only, and says what is wrong with a report.
        URI handoff = URI.create("http://127.0.0.1:" + owning.controlAddress().getPort() + "/v1/cluster/handoff");
        assertThat(send(HttpRequest.newBuilder(handoff).POST(HttpRequest.BodyPublishers.ofString("{}")))
                .statusCode()).isEqualTo(401);
        HttpResponse<String> bad = send(HttpRequest.newBuilder(handoff).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{\"from\": \"b\"}")));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"revisions\"");
        assertThat(send(HttpRequest.newBuilder(handoff).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{\"from\": \"z\", \"revisions\": [{\"revision\":"
                        + " \"default/fn\", \"queued\": 0, \"pods\": {\"" + pod.address() + "\": 1}}]}")))
                .statusCode()).isEqualTo(200);
        assertThat(control(owning, "/v1/revisions")).contains("\"heldForOtherReplicas\" : 1");
    }

    /**
     * The owner leaves (as on SIGTERM) while the other replica still sees it live and owning: a
     * request sent to the leaver, and one the other forwards to it, both go on to the other
     * replica, its heir, which serves them; the leaver serves none.
     */
    @Test
    void aLeavingOwnerServesNothingAndForwardsOnToItsHeir() throws Exception {
        TestPod pod = new TestPod("p", 2);
        closing.add(pod);
        int[] a = {freePort(), freePort()};
        int[] b = {freePort(), freePort()};
        String peers = "  peers:\n"
                + "    - {id: a, address: '127.0.0.1:" + a[0] + "', control: '127.0.0.1:" + a[1] + "'}\n"
                + "    - {id: b, address: '127.0.0.1:" + b[0] + "', control: '127.0.0.1:" + b[1] + "'}\n"
                + "  health: {interval: 100ms, timeout: 300ms}\n  handoffTimeout: 1s\n";
        SluiceServer sa = sluice("listen: {proxy: '127.0.0.1:" + a[0] + "', control: '127.0.0.1:" + a[1] + "'}\n"
                + "cluster:\n  self: a\n" + peers + revision(pod));
        SluiceServer sb = sluice("listen: {proxy: '127.0.0.1:" + b[0] + "', control: '127.0.0.1:" + b[1] + "'}\n"
                + "cluster:\n  self: b\n" + peers + revision(pod));
        String owner = OwnerFunction.owner("default/fn", List.of(new Peer("a", "x:1", "x:2"),
                new Peer("b", "y:1", "y:2"))).id();
        String heirId = owner.equals("a") ? "b" : "a";
        SluiceServer leaver = owner.equals("a") ? sa : sb;
        SluiceServer heir = owner.equals("a") ? sb : sa;
        await().atMost(Duration.ofSeconds(20)).until(() -> control(heir, "/v1/revisions")
                .contains("\"owner\" : \"" + owner + "\"") && control(leaver, "/v1/revisions")
                .contains("\"state\" : \"ready\"") && control(heir, "/v1/revisions").contains("\"state\" : \"ready\""));

        // Only the replica set is left, not /readyz: the heir keeps seeing the leaver live and owning.
        leaver.cluster().leave();
        assertThat(control(leaver, "/v1/revisions")).contains("\"owner\" : \"" + heirId + "\"");
        assertThat(control(heir, "/v1/revisions")).contains("\"owner\" : \"" + owner + "\"");

        HttpResponse<String> direct = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + leaver.proxyAddress().getPort() + "/direct")).header("Sluice-Revision", "default/fn"));
        assertThat(direct.statusCode()).isEqualTo(200);
        assertThat(pod.lastHeaders()).containsEntry("sluice-forwarded", owner);

        // The heir forwards to the owner it sees; the leaver sends it back, marked twice.
        HttpResponse<String> around = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + heir.proxyAddress().getPort() + "/around")).header("Sluice-Revision", "default/fn"));
        assertThat(around.statusCode()).isEqualTo(200);
        assertThat(pod.lastHeaders()).containsEntry("sluice-forwarded", heirId + "," + owner);

        assertThat(metric(control(leaver, "/metrics"), "sluice_requests_total{")).as("served by the leaver")
                .isZero();
        assertThat(metric(control(leaver, "/metrics"), "sluice_cluster_forwards_sent_total{reason=\"proxied\"}"))
                .isEqualTo(2);
        assertThat(metric(control(heir, "/metrics"), "sluice_requests_total{")).isEqualTo(2);
        assertThat(pod.arrived()).isEqualTo(2);
    }

    /**
     * A request queued on the owner when ownership leaves it is not served there: the lease it
     * gets once the pod frees goes back unused, and it goes to the new owner, which serves it
     * once the old owner has reported its pod free.
     */
    @Test
    void aRequestQueuedWhenOwnershipLeavesGoesToTheNewOwner() throws Exception {
        TestPod pod = new TestPod("p", 1);
        closing.add(pod);
        String rev = "revisions: [{name: fn, containerConcurrency: 1, readinessPath: /healthz, pods: ['"
                + pod.address() + "']}]\n";
        SluiceServer x = sluice("listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\ncluster: {self: x}\n" + rev);
        SluiceServer y = sluice("listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\ncluster: {self: y}\n" + rev);
        Peer px = Peer.of("x", "127.0.0.1", x.controlAddress().getPort(), x.proxyAddress().getPort());
        Peer py = Peer.of("y", "127.0.0.1", y.controlAddress().getPort(), y.proxyAddress().getPort());
        boolean xOwns = OwnerFunction.owner("default/fn", List.of(px, py)).equals(px);
        SluiceServer owner = xOwns ? x : y;
        SluiceServer heir = xOwns ? y : x;
        String ownerId = xOwns ? "x" : "y";
        x.cluster().membership().update(Set.of(px, py));
        y.cluster().membership().update(Set.of(px, py));
        await().atMost(Duration.ofSeconds(20)).until(() -> control(owner, "/v1/revisions").contains("\"state\" : \"ready\"")
                && control(heir, "/v1/revisions").contains("\"owner\" : \"" + ownerId + "\""));

        pod.hold();
        URI at = URI.create("http://127.0.0.1:" + owner.proxyAddress().getPort());
        CompletableFuture<HttpResponse<String>> first = http.sendAsync(HttpRequest.newBuilder(at.resolve("/first"))
                .header("Sluice-Revision", "default/fn").timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(20)).until(() -> pod.arrived() == 1);
        CompletableFuture<HttpResponse<String>> second = http.sendAsync(HttpRequest.newBuilder(at.resolve("/second"))
                .header("Sluice-Revision", "default/fn").timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        RevisionId fn = new RevisionId("default", "fn");
        await().atMost(Duration.ofSeconds(20)).until(() -> owner.throttlers().get(fn).queued() == 1);

        owner.cluster().leave(); // the heir still sees it owning
        pod.release(1);
        assertThat(first.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> pod.arrived() == 2);
        pod.open();
        assertThat(second.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(pod.paths()).containsExactly("/first", "/second");
        assertThat(pod.lastHeaders()).containsEntry("sluice-forwarded", ownerId);
        assertThat(pod.violations()).isZero();
        assertThat(metric(control(owner, "/metrics"), "sluice_requests_total{")).as("served by the old owner")
                .isEqualTo(1);
        assertThat(metric(control(owner, "/metrics"), "sluice_cluster_forwards_sent_total{reason=\"proxied\"}"))
                .isEqualTo(1);
        assertThat(metric(control(heir, "/metrics"), "sluice_requests_total{")).isEqualTo(1);
    }

    @Test
    void aMembershipFedFromOutsideDrivesOwnersAndAnUnreachableOwnerIs503WithNothingSent() throws Exception {
        TestPod pod = new TestPod("p", 2);
        closing.add(pod);
        SluiceServer s = sluice("listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "cluster: {self: me}\n" + revision(pod));
        Peer me = Peer.of("me", "127.0.0.1", s.controlAddress().getPort(), s.proxyAddress().getPort());
        Peer gone = null;
        for (int i = 0; gone == null; i++) {
            Peer p = Peer.of("uid-" + i, "127.0.0.1", freePort(), freePort()); // nothing listens there
            if (OwnerFunction.owner("default/fn", List.of(me, p)).equals(p)) {
                gone = p;
            }
        }
        s.cluster().membership().update(Set.of(me, gone));
        await().atMost(Duration.ofSeconds(20)).until(() -> control(s, "/v1/revisions").contains("\"state\" : \"ready\""));
        assertThat(control(s, "/v1/revisions")).contains("\"owner\" : \"" + gone.id() + "\"");

        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + s.proxyAddress().getPort() + "/")).header("Sluice-Revision", "default/fn"));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Sluice-Reason")).hasValue("owner-unreachable");
        assertThat(pod.arrived()).as("nothing was served here: it could overshoot the owner's limit").isZero();
        assertThat(metric(control(s, "/metrics"), "sluice_cluster_peer_errors_total{kind=\"forward\"")).isEqualTo(1);

        // The source drops the replica: the revision is served here.
        s.cluster().membership().update(Set.of(me));
        assertThat(send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.proxyAddress().getPort() + "/"))
                .header("Sluice-Revision", "default/fn")).statusCode()).isEqualTo(200);
        assertThat(control(s, "/v1/revisions")).contains("\"owner\" : \"me\"");
    }
}
