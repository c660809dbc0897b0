package dev.sluice.server.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.core.RevisionId;
import dev.sluice.server.platform.Transport;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The readiness check over real sockets: each outcome and the reason an operator reads. */
class HttpReadinessCheckIT {

    private static final RevisionId REV = new RevisionId("default", "fn");

    private final Transport transport = Transport.nio();
    private final EventLoopGroup group = transport.newGroup(1, "check-test");
    private final HttpReadinessCheck check = new HttpReadinessCheck(group, transport.clientChannel(),
            Duration.ofSeconds(5), id -> "/ready");
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private String serve(int status) throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", ex -> {
            assertThat(ex.getRequestURI().getPath()).isEqualTo("/ready");
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        server.start();
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private CompletableFuture<Boolean> run(String address) {
        return check.check(REV, "p", address).toCompletableFuture();
    }

    @Test
    void aPodAnswering2xxIsReady() throws Exception {
        assertThat(run(serve(204)).get(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void anotherStatusIsNotReadyAndSaysWhich() throws Exception {
        CompletableFuture<Boolean> r = run(serve(503));
        assertThatThrownBy(() -> r.get(10, TimeUnit.SECONDS)).hasMessageContaining("GET /ready answered 503");
    }

    @Test
    void aRefusedConnectionSaysSo() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CompletableFuture<Boolean> r = run("127.0.0.1:" + port);
        assertThatThrownBy(() -> r.get(10, TimeUnit.SECONDS)).hasMessageContaining("connection refused");
    }

    @Test
    void aPodThatAcceptsButNeverAnswersTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 16, InetAddress.getLoopbackAddress())) {
            HttpReadinessCheck quick = new HttpReadinessCheck(group, transport.clientChannel(), Duration.ofMillis(300),
                    id -> "/ready");
            CompletableFuture<Boolean> r = quick.check(REV, "p", "127.0.0.1:" + silent.getLocalPort())
                    .toCompletableFuture();
            assertThatThrownBy(() -> r.get(10, TimeUnit.SECONDS)).hasMessageContaining("no answer within 300 ms");
        }
    }

    @Test
    void aMalformedAddressFailsAtOnce() {
        assertThatThrownBy(() -> run("no-port").get(1, TimeUnit.SECONDS))
                .hasMessageContaining("not a host:port address: no-port");
    }
}
