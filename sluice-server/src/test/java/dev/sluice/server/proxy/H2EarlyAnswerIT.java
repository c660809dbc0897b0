package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.RawPod;
import dev.sluice.server.ScriptedH2cPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 client's request answered whole before its body ended (RFC 9113 §8.1: a server may
 * answer first, then reset the stream {@code NO_ERROR} to stop the upload, as nginx does for
 * {@code return 200}). Whichever way the stream takes (translated to an h2c pod or to an
 * HTTP/1.1 pod, relayed as a gRPC call) and whoever answers (the pod, or Sluice itself), the
 * client gets the whole answer with END_STREAM and, if it is still sending, RST_STREAM
 * {@code NO_ERROR}, never an error code (a client counts that as a failed request); the pod's
 * slot is free at once and the connection serves the next stream. A body Sluice read whole
 * first gets the answer and no reset at all. An HTTP/1.1 client's upload that an h2c pod
 * answers early gets the whole answer too.
 */
class H2EarlyAnswerIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    /** Far more than the windows and buffers between the client and the pod can hold. */
    private static final int UPLOAD = 1 << 20;
    /** The body streams to the pod once this much was read (client.requestBuffer). */
    private static final String SMALL_BUFFER = "client: {requestBuffer: 16KiB}\n";

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<AutoCloseable> pods = new ArrayList<>();
    private SluiceServer sluice;
    private Channel connection;

    private ScriptedH2cPod h2cPod() throws Exception {
        ScriptedH2cPod p = new ScriptedH2cPod("a", "127.0.0.2", 100);
        pods.add(p);
        return p;
    }

    /** Sluice with {@code top} (top-level sections) and one revision of cc 1 with the pod at {@code address}. */
    private void start(String top, String address, String protocol) throws Exception {
        start(top, address, protocol, Http2Settings.defaultSettings());
    }

    /** {@link #start(String, String, String)} with the test client's own HTTP/2 {@code settings}. */
    private void start(String top, String address, String protocol, Http2Settings settings) throws Exception {
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n" + top
                + "revisions:\n  - {namespace: default, name: model, hosts: [model.test], containerConcurrency: 1, "
                + "protocol: " + protocol + ", readinessPath: /healthz, timeouts: {queue: 300ms}, pods: [{address: '"
                + address + "', id: a}]}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(1).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
        connection = H2StreamAnswer.connect(group, sluice.proxyAddress(), settings);
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    @AfterEach
    void stop() throws Exception {
        if (connection != null) {
            connection.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (sluice != null) {
            sluice.close();
        }
        for (AutoCloseable p : pods) {
            p.close();
        }
    }

    @Test
    void aPlainBodyAnsweredBeforeItEndedEndsWithTheAnswerAndNoError() throws Exception {
        ScriptedH2cPod a = h2cPod();
        start(SMALL_BUFFER, a.address(), "h2c");
        H2StreamAnswer e = upload("/early", null, UPLOAD);
        assertThat(e.status()).isEqualTo("200");
        assertThat(e.body()).isEqualTo("a:early");
        assertThat(e.endStream()).as("the answer ends with END_STREAM").isTrue();
        assertThat(e.reset()).as("the upload is stopped without an error").isEqualTo(Http2Error.NO_ERROR);
        assertThat(a.requests()).hasSize(1);
        servesTheNextStream("a:ok");
    }

    @Test
    void aLargeAnswerGoesOutWholeBeforeTheReset() throws Exception {
        // 1 MiB against the client's 64 KiB window: most of it still waits when the exchange ends.
        largeAnswerComesWhole(Http2Settings.defaultSettings());
    }

    /**
     * The same to a client that reads slowly (a 1 KiB window per stream): Sluice stops reading
     * the pod's stream while the client's is full, so the pod's last frames and its reset
     * {@code NO_ERROR} wait there, unread, while the upload's frames still wait for the pod's
     * window. The reset closes the pod's stream and fails those writes; the answer's frames
     * that came before it are still read and relayed whole (the failed writes once cut the
     * answer short with {@code CANCEL}: 60 runs in 100 of this test against a CPU burner).
     */
    @Test
    void aLargeAnswerToASlowReaderGoesOutWholeThoughThePodResetTheStream() throws Exception {
        largeAnswerComesWhole(Http2Settings.defaultSettings().initialWindowSize(1024));
    }

    /**
     * A 1 MiB upload to an h2c pod that answers 1 MiB on its HEADERS, then resets: the client
     * (with its own {@code settings}) gets all of it and END_STREAM, then the next stream.
     */
    private void largeAnswerComesWhole(Http2Settings settings) throws Exception {
        ScriptedH2cPod a = h2cPod();
        start(SMALL_BUFFER, a.address(), "h2c", settings);
        H2StreamAnswer e = upload("/early-big", null, UPLOAD);
        assertThat(e.body().length()).as("bytes of the answer").isEqualTo(ScriptedH2cPod.BIG);
        assertThat(e.endStream()).isTrue();
        assertThat(e.reset()).as("NO_ERROR if the client was still sending, else none").isIn(null, Http2Error.NO_ERROR);
        servesTheNextStream("a:ok");
    }

    /**
     * An HTTP/1.1 client that reads slowly (a 4 KiB receive buffer), uploading 1 MiB on the
     * translated way to an h2c pod that answers 1 MiB at once and resets its stream
     * {@code NO_ERROR}: the pod's reset fails the upload's frames still waiting for its window,
     * and the answer still comes whole, its last chunk included. Sluice then closes the
     * connection with the upload unread: it lingers (a FIN after the answer, the rest read and
     * dropped), as a close at once would reset the connection and the client's system would
     * drop the answer's unread bytes (39 runs in 40 of this test before it lingered).
     */
    @Test
    void anHttp1ClientsUploadAnsweredEarlyByAnH2cPodGetsTheWholeAnswer() throws Exception {
        ScriptedH2cPod a = h2cPod();
        start(SMALL_BUFFER, a.address(), "h2c");
        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(4096);
            client.setSoTimeout(20_000);
            client.connect(sluice.proxyAddress());
            OutputStream out = client.getOutputStream();
            out.write(("POST /early-big HTTP/1.1\r\nHost: model.test\r\nContent-Length: " + UPLOAD + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Thread uploader = new Thread(() -> {
                byte[] chunk = new byte[16 * 1024];
                try {
                    for (int sent = 0; sent < UPLOAD; sent += chunk.length) {
                        out.write(chunk);
                    }
                } catch (IOException closed) {
                    // answered: Sluice stops reading the rest and closes the connection
                }
            });
            uploader.start();
            InputStream in = client.getInputStream();
            assertThat(line(in)).isEqualTo("HTTP/1.1 200 OK");
            boolean chunked = false;
            for (String f = line(in); !f.isEmpty(); f = line(in)) {
                chunked |= f.equalsIgnoreCase("transfer-encoding: chunked");
            }
            assertThat(chunked).as("the pod's answer has no length: chunked").isTrue();
            long body = 0;
            for (int n = Integer.parseInt(line(in), 16); n > 0; n = Integer.parseInt(line(in), 16)) {
                body += in.readNBytes(n).length;
                assertThat(line(in)).isEmpty();
            }
            assertThat(line(in)).as("the chunked body's end").isEmpty();
            assertThat(body).as("bytes of the answer").isEqualTo(ScriptedH2cPod.BIG);
            client.close();
            uploader.join(20_000);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    /** One CRLF-ended line of {@code in}, without its CRLF. */
    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("the connection ended within a line: " + b);
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    @Test
    void aBodyReadWholeFirstGetsTheAnswerAndNoReset() throws Exception {
        ScriptedH2cPod a = h2cPod();
        start("", a.address(), "h2c");
        H2StreamAnswer e = upload("/early", null, 20 * 1024);
        assertThat(e.body()).isEqualTo("a:early");
        assertThat(e.endStream()).isTrue();
        assertThat(e.reset()).as("the client had ended its side: the stream closed on both END_STREAMs").isNull();
        servesTheNextStream("a:ok");
    }

    @Test
    void anHttp1PodThatAnswersBeforeReadingTheBodyEndsItTheSameWay() throws Exception {
        RawPod a = new RawPod(line -> RawPod.Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly"), true);
        pods.add(a);
        start(SMALL_BUFFER, a.address(), "http1");
        H2StreamAnswer e = upload("/upload", null, UPLOAD);
        assertThat(e.body()).isEqualTo("early");
        assertThat(e.endStream()).isTrue();
        // This pod reads the body after its answer, so the upload may have ended by the answer's end.
        assertThat(e.reset()).as("NO_ERROR if the client was still sending, else none").isIn(null, Http2Error.NO_ERROR);
        servesTheNextStream("early");
    }

    @Test
    void anHttp1AnswerThatEndsWithItsConnectionEndsItTheSameWay() throws Exception {
        RawPod a = new RawPod(line -> RawPod.Reply.thenClose("HTTP/1.1 200 OK\r\n\r\nearly"), true);
        pods.add(a);
        start(SMALL_BUFFER, a.address(), "http1");
        H2StreamAnswer e = upload("/upload", null, UPLOAD);
        assertThat(e.body()).isEqualTo("early");
        assertThat(e.endStream()).as("the pod's close ends the answer, and the stream").isTrue();
        assertThat(e.reset()).as("NO_ERROR if the client was still sending, else none").isIn(null, Http2Error.NO_ERROR);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aRelayedCallAnsweredBeforeItsBodyEndedEndsItTheSameWay() throws Exception {
        ScriptedH2cPod a = h2cPod();
        start("", a.address(), "h2c");
        H2StreamAnswer e = upload("/early", "application/grpc", UPLOAD);
        assertThat(e.body()).isEqualTo("a:early");
        assertThat(e.endStream()).isTrue();
        assertThat(e.reset()).isEqualTo(Http2Error.NO_ERROR);
        servesTheNextStream("a:ok");
    }

    @Test
    void sluicesOwnAnswerBeforeTheBodyEndedEndsItTheSameWay() throws Exception {
        ScriptedH2cPod a = h2cPod();
        start(SMALL_BUFFER, a.address(), "h2c");
        Http2StreamChannel held = open(new CompletableFuture<>());
        held.writeAndFlush(new DefaultHttp2HeadersFrame(get("/hold"), true));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.current() == 1);
        // The pod's one slot is taken: the upload queues (its body held back) until the queue
        // timeout, 300 ms, answers it 503 while the client still has most of its body to send.
        H2StreamAnswer e = upload("/queued", null, UPLOAD);
        assertThat(e.status()).isEqualTo("503");
        assertThat(e.endStream()).isTrue();
        assertThat(e.reset()).isEqualTo(Http2Error.NO_ERROR);
        a.release();
    }

    /**
     * A POST of {@code size} bytes to {@code path} (its {@code content-type} if not null), all of
     * it handed to the client's stream at once (the flow control paces it); returns how the
     * stream ended.
     */
    private H2StreamAnswer upload(String path, String contentType, int size) throws Exception {
        CompletableFuture<H2StreamAnswer> ending = new CompletableFuture<>();
        Http2StreamChannel stream = open(ending);
        Http2Headers h = new DefaultHttp2Headers().method("POST").path(path).scheme("http").authority("model.test")
                .setInt("content-length", size);
        if (contentType != null) {
            h.set("content-type", contentType);
        }
        stream.write(new DefaultHttp2HeadersFrame(h, false));
        byte[] chunk = new byte[16 * 1024];
        for (int sent = 0; sent < size; sent += chunk.length) {
            int n = Math.min(chunk.length, size - sent);
            stream.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(chunk, 0, n), sent + n == size));
        }
        stream.flush();
        return ending.get(20, TimeUnit.SECONDS);
    }

    /** After the early answer, the slot is free and the same connection serves the next stream. */
    private void servesTheNextStream(String body) throws Exception {
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        CompletableFuture<H2StreamAnswer> next = new CompletableFuture<>();
        open(next).writeAndFlush(new DefaultHttp2HeadersFrame(get("/next"), true));
        H2StreamAnswer e = next.get(20, TimeUnit.SECONDS);
        assertThat(e.body()).isEqualTo(body);
        assertThat(e.reset()).isNull();
    }

    private Http2StreamChannel open(CompletableFuture<H2StreamAnswer> ending) throws Exception {
        return new Http2StreamChannelBootstrap(connection).handler(H2StreamAnswer.recorder(ending)).open().sync().getNow();
    }

    private static Http2Headers get(String path) {
        return new DefaultHttp2Headers().method("GET").path(path).scheme("http").authority("model.test");
    }
}
