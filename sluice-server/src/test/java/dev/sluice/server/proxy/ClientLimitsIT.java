package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.RawConnection;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy port's client limits over real sockets (client: in sluice.yaml): the head, idle
 * and body-stall timeouts, request buffering and the connection cap. Timeouts are set short
 * (hundreds of milliseconds) and awaited; a slow client is paced by a scheduler, never by
 * sleeping the test.
 */
class ClientLimitsIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    private static final String GET = "GET / HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n\r\n";
    private final List<AutoCloseable> open = new ArrayList<>();
    private final ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
    private SluiceServer sluice;
    private TestPod pod;

    @AfterEach
    void tearDown() throws Exception {
        pacer.shutdownNow();
        for (AutoCloseable c : open) {
            c.close();
        }
        if (sluice != null) {
            sluice.close();
        }
        if (pod != null) {
            pod.close();
        }
    }

    /** Sluice with one pod of {@code cc} slots and the given {@code client:} section. */
    private void start(int cc, String client) throws Exception {
        pod = new TestPod("a", cc);
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "client: " + client + "\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, containerConcurrency: " + cc + ", readinessPath: /healthz,"
                + " pods: ['" + pod.address() + "']}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(2).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    private RawConnection connect() throws Exception {
        RawConnection c = new RawConnection(sluice.proxyAddress().getPort());
        open.add(c);
        return c;
    }

    private String metrics() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + sluice.controlAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Writes {@code text} one byte per {@code everyMillis} on the pacer, until it is all sent or the socket fails. */
    private void trickle(RawConnection c, String text, long everyMillis) {
        AtomicInteger next = new AtomicInteger();
        pacer.scheduleAtFixedRate(() -> {
            int i = next.getAndIncrement();
            if (i < text.length()) {
                try {
                    c.send(text.substring(i, i + 1));
                } catch (Exception closed) {
                    next.set(text.length());
                }
            }
        }, 0, everyMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * One rule for any client that goes away (a replica's forward whose replica died included):
     * a pod that has the whole request may still be working on it, so its slot stays taken
     * until it answers; the next request waits for it, and the pod never has two.
     */
    @Test
    void aClientThatLeavesWhileThePodWorksKeepsItsSlotUntilThePodAnswers() throws Exception {
        start(1, "{timeouts: {idle: 30s}}");
        pod.hold();
        RawConnection first = connect().send(GET);
        await().atMost(Duration.ofSeconds(10)).until(() -> pod.arrived() == 1);
        first.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics().contains("code=\"499\""));
        RawConnection second = connect().send(GET);
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 1);
        assertThat(pod.arrived()).as("the pod still works on the first request").isEqualTo(1);
        assertThat(throttler().table().trackers().get(0).inFlight()).isEqualTo(1);

        pod.release(1); // the first is answered (to nobody): its slot goes to the second
        await().atMost(Duration.ofSeconds(10)).until(() -> pod.arrived() == 2);
        pod.open();
        assertThat(second.response()).startsWith("HTTP/1.1 200");
        assertThat(pod.violations()).isZero();
    }

    @Test
    void aHeadSentByteByByteSlowerThanTheHeadTimeoutGets408AndTheConnectionCloses() throws Exception {
        start(1, "{timeouts: {head: 400ms, idle: 30s}}");
        RawConnection c = connect();
        assertThat(c.send(GET).response()).as("a head sent at once is served").startsWith("HTTP/1.1 200");
        // The next head on the kept-alive connection, a byte every 50 ms: about 3 s in all.
        trickle(c, GET, 50);
        String r = c.response();
        assertThat(r).startsWith("HTTP/1.1 408").contains("Sluice-Reason: request-head-timeout")
                .contains("connection: close").contains("no complete request head within 400ms");
        assertThat(c.closedByServer()).isTrue();
        assertThat(pod.arrived()).as("only the first request reached the pod").isEqualTo(1);
        assertThat(metrics()).contains("sluice_client_timeouts_total{phase=\"head\"} 1");
    }

    @Test
    void aNewConnectionWithHalfAHeadGets408AndOneWithNothingIsClosedSilently() throws Exception {
        start(1, "{timeouts: {head: 300ms, idle: 30s}}");
        RawConnection half = connect().send("GET / HTTP/1.1\r\nHost: x\r\n");
        assertThat(half.response()).startsWith("HTTP/1.1 408").contains("Sluice-Reason: request-head-timeout");
        assertThat(half.closedByServer()).isTrue();
        RawConnection nothing = connect();
        assertThat(nothing.closedByServer()).as("a preconnect gets no unasked-for answer").isTrue();
        assertThat(metrics()).contains("sluice_client_timeouts_total{phase=\"head\"} 1")
                .contains("sluice_client_timeouts_total{phase=\"idle\"} 1");
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedWithoutAnAnswer() throws Exception {
        start(1, "{timeouts: {idle: 300ms}}");
        RawConnection c = connect();
        assertThat(c.send(GET).response()).startsWith("HTTP/1.1 200");
        assertThat(c.closedByServer()).as("closed, and nothing was written before the close").isTrue();
        assertThat(metrics()).contains("sluice_client_timeouts_total{phase=\"idle\"} 1");
    }

    @Test
    void bufferedUploadsHoldNoPodSlotWhileTheyTrickle() throws Exception {
        start(1, "{requestBuffer: 1MiB, timeouts: {bodyStall: 30s}}");
        String head = "POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\nContent-Length: 20\r\n\r\n";
        RawConnection up1 = connect().send(head + "0123456789");
        RawConnection up2 = connect().send(head + "0123456789");
        // Both uploads are half sent and the pod's one slot is free: a GET is served at once.
        RawConnection reader = connect();
        assertThat(reader.send(GET).response()).startsWith("HTTP/1.1 200");
        assertThat(pod.paths()).containsExactly("/");
        assertThat(throttler().active()).isZero();
        assertThat(throttler().queued()).as("buffering requests are not in the queue").isZero();
        up1.send("abcdefghij");
        up2.send("abcdefghij");
        assertThat(up1.response()).startsWith("HTTP/1.1 200");
        assertThat(up2.response()).startsWith("HTTP/1.1 200");
        assertThat(pod.lastBody()).isEqualTo("0123456789abcdefghij");
        assertThat(pod.violations()).isZero();
    }

    @Test
    void aClientThatExpects100ContinueGetsItFromSluiceWhileItsBodyIsBuffered() throws Exception {
        start(1, "{}");
        RawConnection c = connect().send("POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        assertThat(c.response()).as("before any body byte is sent").startsWith("HTTP/1.1 100 Continue\r\n\r\n");
        assertThat(pod.arrived()).isZero();
        c.send("hello");
        String r = c.response();
        while (r.startsWith("HTTP/1.1 1")) { // the pod may say 100 too
            r = c.response();
        }
        assertThat(r).startsWith("HTTP/1.1 200");
        assertThat(pod.lastBody()).isEqualTo("hello");
    }

    @Test
    void aBufferedBodyThatStallsGets408WithoutReachingAPod() throws Exception {
        start(1, "{timeouts: {bodyStall: 300ms}}");
        RawConnection c = connect().send("POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Content-Length: 20\r\n\r\n0123456789");
        assertThat(c.response()).startsWith("HTTP/1.1 408").contains("Sluice-Reason: request-body-timeout")
                .contains("connection: close");
        assertThat(c.closedByServer()).isTrue();
        assertThat(pod.arrived()).isZero();
        assertThat(metrics()).contains("sluice_client_timeouts_total{phase=\"body\"} 1")
                .contains("sluice_requests_total{code=\"408\",protocol=\"http1\",reason=\"request-body-timeout\",revision=\"default/model\"} 1");
    }

    @Test
    void theBodyOfARequestAnsweredWithoutAPodIsDroppedUnderTheStallRuleNotTheHeadTimeout() throws Exception {
        start(1, "{timeouts: {head: 300ms, idle: 30s, bodyStall: 30s}}");
        String head = "POST / HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/nope\r\nContent-Length: 20\r\n\r\n";
        RawConnection c = connect();
        assertThat(c.send(head + "0123456789").response()).startsWith("HTTP/1.1 404");
        c.send("abcde");
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2))
                .alias("the unread rest of the body is not a late head")
                .until(() -> metrics().contains("sluice_client_timeouts_total{phase=\"head\"} 0"));
        c.send("fghij" + GET);
        assertThat(c.response()).as("the connection is still good").startsWith("HTTP/1.1 200");
    }

    @Test
    void withoutBufferingAStalledBodyGets408AndItsPodSlotIsFreed() throws Exception {
        start(1, "{requestBuffer: 0, timeouts: {bodyStall: 300ms}}");
        RawConnection c = connect().send("POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Content-Length: 20\r\n\r\n0123456789");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 1);
        assertThat(c.response()).startsWith("HTTP/1.1 408").contains("Sluice-Reason: request-body-timeout")
                .contains("slot was freed");
        assertThat(c.closedByServer()).isTrue();
        assertThat(throttler().active()).as("the slot is free").isZero();
        // The pod ends its handler of the cut request when it reads the closed connection, on its
        // own time; a request before that would find this cc-1 test pod over its limit (500).
        await().atMost(Duration.ofSeconds(5)).until(() -> pod.inFlight() == 0);
        assertThat(connect().send(GET).response()).as("and the next request is served").startsWith("HTTP/1.1 200");
    }

    /**
     * An answer that comes before the body ended closes the connection after a linger: a FIN
     * right after the answer, the client's bytes read and dropped, and the connection gone once
     * the body-stall timeout (shorter than the 5 s cap here) has passed, though this client
     * never closes its side.
     */
    @Test
    void aConnectionClosingAfterAnEarlyAnswerLingersNoLongerThanTheBodyStallTimeout() throws Exception {
        start(1, "{requestBuffer: 0, timeouts: {bodyStall: 300ms}}");
        RawConnection c = connect().send("POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Content-Length: 100000\r\n\r\n0123456789");
        assertThat(c.response()).startsWith("HTTP/1.1 408").contains("connection: close");
        assertThat(c.closedByServer()).as("a FIN after the answer").isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics().contains("sluice_client_connections 0.0"));
    }

    @Test
    void aBodyLargerThanTheBufferStreamsOnceTheBufferIsFull() throws Exception {
        start(1, "{requestBuffer: 16, timeouts: {bodyStall: 30s}}");
        RawConnection c = connect().send("POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Content-Length: 40\r\n\r\n0123456789abcdefghij");
        await().atMost(Duration.ofSeconds(5)).alias("past the buffer, the request takes a slot")
                .until(() -> throttler().active() == 1);
        c.send("0123456789abcdefghij");
        assertThat(c.response()).startsWith("HTTP/1.1 200");
        assertThat(pod.lastBodyLength()).isEqualTo(40);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void theQueueClockStartsWhenTheBodyIsWhole() throws Exception {
        pod = new TestPod("a", 1);
        pod.hold();
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions: [{namespace: default, name: model, containerConcurrency: 1, readinessPath: /healthz,"
                + " timeouts: {queue: 1s, total: 30s}, pods: ['" + pod.address() + "']}]\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(2).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
        RawConnection first = connect().send(GET);
        await().atMost(Duration.ofSeconds(5)).until(() -> pod.arrived() == 1);
        RawConnection upload = connect().send("POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Content-Length: 20\r\n\r\n0123456789");
        await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3))
                .alias("longer than the queue timeout, the half-sent request is not queued, so not timed out")
                .until(() -> throttler().queued() == 0);
        upload.send("abcdefghij");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 1);
        pod.open();
        assertThat(first.response()).startsWith("HTTP/1.1 200");
        assertThat(upload.response()).as("it had its whole queue timeout from the end of its body")
                .startsWith("HTTP/1.1 200");
    }

    @Test
    void aReloadAppliesTheClientSectionToNewConnections() throws Exception {
        start(1, "{timeouts: {head: 30s}}");
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "client: {timeouts: {head: 300ms}}\n"
                + "revisions: [{namespace: default, name: model, containerConcurrency: 1, readinessPath: /healthz,"
                + " pods: ['" + pod.address() + "']}]\n";
        assertThat(sluice.apply(ConfigLoader.parse("test.yaml", yaml))).isEmpty();
        assertThat(sluice.config().client().headTimeout()).isEqualTo(Duration.ofMillis(300));
        RawConnection c = connect().send("GET / HTTP/1.1\r\n");
        assertThat(c.response()).startsWith("HTTP/1.1 408").contains("within 300ms");
    }

    @Test
    void pastTheConnectionCapANewConnectionIsRefusedWith503() throws Exception {
        start(1, "{maxConnections: 2}");
        RawConnection a = connect();
        RawConnection b = connect();
        assertThat(a.send(GET).response()).startsWith("HTTP/1.1 200");
        assertThat(b.send(GET).response()).startsWith("HTTP/1.1 200");
        RawConnection third = connect();
        assertThat(third.response()).startsWith("HTTP/1.1 503").contains("Sluice-Reason: too-many-connections")
                .contains("client.maxConnections");
        assertThat(third.closedByServer()).isTrue();
        assertThat(metrics()).contains("sluice_refused_connections_total 1").contains("sluice_client_connections 2");
        a.close();
        await().atMost(Duration.ofSeconds(5)).alias("a closed connection makes room").until(() -> {
            try (RawConnection again = new RawConnection(sluice.proxyAddress().getPort())) {
                String r = again.send(GET).response();
                return r != null && r.startsWith("HTTP/1.1 200");
            }
        });
    }
}
