package dev.sluice.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The activity notices' connections, against small HTTP/1.1 servers on real sockets. */
class PeerNotifierIT {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final PeerNotifier notifier = new PeerNotifier(Duration.ofSeconds(5), group, NioSocketChannel.class);
    private final List<FakeControl> servers = new ArrayList<>();
    private final Map<String, String> failures = new ConcurrentHashMap<>();

    @AfterEach
    void close() throws IOException {
        notifier.close();
        for (FakeControl s : servers) {
            s.close();
        }
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A control API stand-in: answers each request with {@code status}, optionally closing after it. */
    private final class FakeControl implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger closedByClient = new AtomicInteger();
        final List<String> requests = new CopyOnWriteArrayList<>();
        final int status;
        final boolean closeAfterAnswer;

        FakeControl(int status, boolean closeAfterAnswer) throws IOException {
            this.status = status;
            this.closeAfterAnswer = closeAfterAnswer;
            Thread t = new Thread(this::accept, "peer-" + socket.getLocalPort());
            t.setDaemon(true);
            t.start();
            servers.add(this);
        }

        String control() {
            return "127.0.0.1:" + socket.getLocalPort();
        }

        private void accept() {
            try {
                for (;;) {
                    Socket s = socket.accept();
                    connections.incrementAndGet();
                    Thread t = new Thread(() -> serve(s));
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException closed) {
                // the test is over
            }
        }

        private void serve(Socket s) {
            try (s) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                OutputStream out = s.getOutputStream();
                for (;;) {
                    String line = in.readLine();
                    if (line == null) {
                        closedByClient.incrementAndGet();
                        return;
                    }
                    StringBuilder head = new StringBuilder(line).append('\n');
                    int length = 0;
                    for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                        head.append(h).append('\n');
                        if (h.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(h.substring(15).trim());
                        }
                    }
                    char[] body = new char[length];
                    for (int n = 0; n < length; ) {
                        n += in.read(body, n, length - n);
                    }
                    requests.add(head + new String(body));
                    String answer = status == 200 ? "ok\n" : "no such revision\n";
                    out.write(("HTTP/1.1 " + status + (status == 200 ? " OK" : " Bad Request") + "\r\ncontent-length: "
                            + answer.length() + "\r\n\r\n" + answer).getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (closeAfterAnswer) {
                        return;
                    }
                }
            } catch (IOException gone) {
                // the client went away
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private void post(List<String> controls) {
        notifier.post(controls, "/v1/cluster/active", "Bearer t", "{\"from\":\"a\",\"revision\":\"ns/fn\"}",
                failures::put);
    }

    @Test
    void everyNoticeToAPeerGoesOverOneKeptAliveConnection() throws Exception {
        FakeControl b = new FakeControl(200, false);
        FakeControl c = new FakeControl(200, false);
        for (int i = 0; i < 5; i++) {
            post(List.of(b.control(), c.control()));
        }
        assertThat(failures).isEmpty();
        for (FakeControl p : List.of(b, c)) {
            assertThat(p.requests).hasSize(5);
            assertThat(p.connections.get()).isEqualTo(1);
        }
        assertThat(b.requests.get(0)).startsWith("POST /v1/cluster/active HTTP/1.1\n")
                .containsIgnoringCase("authorization: Bearer t\n").endsWith("{\"from\":\"a\",\"revision\":\"ns/fn\"}");
    }

    @Test
    void aConnectionThePeerClosedWhileIdleIsReplacedAndTheNoticeSentAgain() throws Exception {
        FakeControl b = new FakeControl(200, true);
        post(List.of(b.control()));
        await().atMost(Duration.ofSeconds(20)).until(() -> b.connections.get() == 1 && b.requests.size() == 1);
        post(List.of(b.control()));
        post(List.of(b.control()));
        assertThat(failures).isEmpty();
        assertThat(b.requests).hasSize(3);
        assertThat(b.connections.get()).isEqualTo(3);
    }

    @Test
    void aPeerThatRefusesOrAnswersOtherThan200IsReportedAndTheOthersAreStillTold() throws Exception {
        FakeControl refusing = new FakeControl(200, false);
        String refused = refusing.control();
        refusing.close();
        FakeControl unhappy = new FakeControl(400, false);
        FakeControl fine = new FakeControl(200, false);
        post(List.of(refused, unhappy.control(), fine.control()));
        assertThat(failures).containsOnlyKeys(refused, unhappy.control());
        assertThat(failures.get(refused)).contains("Connection refused");
        assertThat(failures.get(unhappy.control())).isEqualTo("answered 400 Bad Request: no such revision");
        assertThat(fine.requests).hasSize(1);
    }

    @Test
    void aPeerNoLongerGivenHasItsConnectionClosed() throws Exception {
        FakeControl b = new FakeControl(200, false);
        FakeControl c = new FakeControl(200, false);
        post(List.of(b.control(), c.control()));
        post(List.of(c.control()));
        await().atMost(Duration.ofSeconds(20)).until(() -> b.closedByClient.get() == 1);
        assertThat(c.closedByClient.get()).isZero();
        assertThat(failures).isEmpty();
    }
}
