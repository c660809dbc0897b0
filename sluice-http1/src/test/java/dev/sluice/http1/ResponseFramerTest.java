package dev.sluice.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The response framer's conformance: framing (RFC 9112 §6), the hop-by-hop rewrite (RFC 9110
 * §7.6.1), the smuggling and limit cases it refuses. Every wire case is fed whole, split at
 * every byte, and byte by byte: the output must not depend on how the reads fall.
 */
class ResponseFramerTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    /** What the sink saw, in order. */
    static final class Recorder implements ResponseFramer.Sink {
        final StringBuilder client = new StringBuilder();
        final List<String> events = new ArrayList<>();
        int buffers;

        @Override
        public void responseHead(int status, boolean clientMustClose) {
            events.add("head " + status + (clientMustClose ? " close" : ""));
        }

        @Override
        public void clientBytes(ByteBuf bytes) {
            buffers++;
            client.append(bytes.toString(StandardCharsets.ISO_8859_1));
            bytes.release();
        }

        @Override
        public void responseEnd(boolean podReusable) {
            events.add("end" + (podReusable ? " reusable" : ""));
        }

        @Override
        public void switched() {
            events.add("switched");
        }

        @Override
        public void malformed(String why) {
            events.add("malformed: " + why);
        }
    }

    /** One configuration of the request side. */
    private record Req(boolean head, boolean keepAlive, boolean http11, String upgrade) {
    }

    private static final Req PLAIN = new Req(false, true, true, null);

    private static final class Run {
        final Recorder sink = new Recorder();
        final ResponseFramer framer = new ResponseFramer();

        Run(Req r) {
            framer.expect(r.head, r.keepAlive, r.http11, r.upgrade);
        }

        void feed(String part) {
            ByteBuf b = ALLOC.buffer();
            b.writeBytes(part.getBytes(StandardCharsets.ISO_8859_1));
            framer.feed(b, ALLOC, sink);
            assertThat(b.refCnt()).as("the caller's buffer stays the caller's").isEqualTo(1);
            b.release();
        }
    }

    /** Feeds {@code wire} in every way; each must give the same client bytes and events. */
    private static Recorder frame(Req req, String wire) {
        Run whole = new Run(req);
        whole.feed(wire);
        for (int split = 1; split < wire.length(); split++) {
            Run r = new Run(req);
            r.feed(wire.substring(0, split));
            r.feed(wire.substring(split));
            assertThat(r.sink.client.toString()).as("split at %d", split).isEqualTo(whole.sink.client.toString());
            assertThat(r.sink.events).as("split at %d", split).isEqualTo(whole.sink.events);
        }
        Run bytes = new Run(req);
        for (int i = 0; i < wire.length(); i++) {
            bytes.feed(wire.substring(i, i + 1));
        }
        assertThat(bytes.sink.client.toString()).as("byte by byte").isEqualTo(whole.sink.client.toString());
        assertThat(bytes.sink.events).as("byte by byte").isEqualTo(whole.sink.events);
        return whole.sink;
    }

    @Test
    void aContentLengthResponseGoesThroughInOneBufferWithHopByHopHeadersRemoved() {
        Recorder r = frame(PLAIN, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nConnection: keep-alive\r\n"
                + "Keep-Alive: timeout=5\r\nX-Trace: a\r\n\r\nok\n");
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\n"
                + "X-Trace: a\r\n\r\nok\n");
        assertThat(r.events).containsExactly("head 200", "end reusable");
        Run whole = new Run(PLAIN);
        whole.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
        assertThat(whole.sink.buffers).as("head and body in one write").isEqualTo(1);
    }

    @Test
    void headersTheConnectionHeaderNamesAreRemovedToo() {
        Recorder r = frame(PLAIN, "HTTP/1.1 200 OK\r\nX-Secret: s\r\nConnection: x-secret, Close\r\nTE: trailers\r\n"
                + "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nTrailer: x\r\nContent-Length: 0\r\n\r\n");
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(r.events).as("Connection: close from the pod: not reused").containsExactly("head 200", "end");
    }

    @Test
    void aClientThatIsNotKeptAliveIsToldTheConnectionCloses() {
        Recorder r = frame(new Req(false, false, true, null), "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 204 No Content\r\nX-A: 1\r\nconnection: close\r\n\r\n");
        assertThat(r.events).containsExactly("head 204 close", "end reusable");
    }

    @Test
    void anHttp10ResponseToAKeptAliveClientSaysKeepAlive() {
        Recorder r = frame(PLAIN, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(r.client.toString()).as("Sluice's version, kept alive as HTTP/1.1 is by default")
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(r.events).containsExactly("head 200", "end reusable");
        Recorder client10 = frame(new Req(false, true, false, null), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(client10.client.toString()).as("an HTTP/1.0 client is told it is kept alive")
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: keep-alive\r\n\r\nhi");
        Recorder later = frame(PLAIN, "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(later.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(later.events).containsExactly("head 200", "end reusable");
        Recorder plain10 = frame(PLAIN, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(plain10.events).as("HTTP/1.0 without keep-alive: the pod closes").containsExactly("head 200", "end");
    }

    @Test
    void aChunkedBodyPassesThroughCanonicallyWithItsTrailers() {
        String body = "5;ext=1\r\nhello\r\n6 ;a=\"b c\"\r\n world\r\n0\r\nX-Checksum: 9\r\n\r\n";
        Recorder r = frame(PLAIN, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 9\r\n\r\n");
        assertThat(r.events).containsExactly("head 200", "end reusable");
    }

    @Test
    void aChunkedBodyToAnHttp10ClientIsDechunkedAndTheClientClosed() {
        Recorder r = frame(new Req(false, true, false, null),
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello");
        assertThat(r.events).containsExactly("head 200 close", "end reusable");
    }

    @Test
    void transferEncodingWinsOverContentLengthAndTheConnectionIsNotReused() {
        Recorder r = frame(PLAIN, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2\r\nhi\r\n0\r\n\r\n");
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
        assertThat(r.events).containsExactly("head 200", "end");
        Recorder head = frame(new Req(true, true, true, null), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n");
        assertThat(head.client.toString()).as("to HEAD too").isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(head.events).containsExactly("head 200", "end");
    }

    @Test
    void aBodyWithoutLengthEndsAtCloseAndTheClientIsClosedAfterIt() {
        Run run = new Run(PLAIN);
        run.feed("HTTP/1.0 200 OK\r\nServer: x\r\n\r\npart one ");
        run.feed("part two");
        assertThat(run.sink.events).containsExactly("head 200 close");
        assertThat(run.framer.closed(run.sink)).isTrue();
        assertThat(run.sink.events).containsExactly("head 200 close", "end");
        assertThat(run.sink.client.toString()).as("ends at close, and says so in HTTP/1.1")
                .isEqualTo("HTTP/1.1 200 OK\r\nServer: x\r\nconnection: close\r\n\r\npart one part two");
        assertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nzzz", "a Transfer-Encoding other than chunked");
        assertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", "a Transfer-Encoding other than chunked");
    }

    @Test
    void aCutShortBodyIsNotAnEnd() {
        Run run = new Run(PLAIN);
        run.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        assertThat(run.framer.closed(run.sink)).isFalse();
        assertThat(run.sink.events).containsExactly("head 200");
    }

    @Test
    void noBodyAfterHeadOr204Or304WhateverTheHeadersSay() {
        Recorder head = frame(new Req(true, true, true, null), "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        assertThat(head.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        assertThat(head.events).containsExactly("head 200", "end reusable");
        Recorder notModified = frame(PLAIN, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(notModified.events).containsExactly("head 304", "end reusable");
        assertThat(notModified.client.toString()).isEqualTo("HTTP/1.1 304 Not Modified\r\n\r\n");
        Recorder noContent = frame(PLAIN, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX: y\r\n\r\n");
        assertThat(noContent.client.toString()).as("no Content-Length with 204 or 304")
                .isEqualTo("HTTP/1.1 204 No Content\r\nX: y\r\n\r\n");
        Recorder etag = frame(PLAIN, "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\nContent-Length: 1234\r\n\r\n");
        assertThat(etag.client.toString()).isEqualTo("HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n");
        Recorder early = frame(PLAIN, "HTTP/1.1 103 Early Hints\r\nContent-Length: 0\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
        assertThat(early.client.toString()).isEqualTo("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    }

    @Test
    void informationalResponsesGoToHttp11ClientsOnly() {
        String wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
        Recorder r11 = frame(PLAIN, wire);
        assertThat(r11.client.toString()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                + "Link: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
        assertThat(r11.events).containsExactly("head 200", "end reusable");
        Recorder r10 = frame(new Req(false, true, false, null), wire);
        assertThat(r10.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nconnection: keep-alive\r\n\r\nx");
    }

    @Test
    void aSwitchAskedForBecomesATunnel() {
        Recorder r = frame(new Req(false, true, true, "websocket"),
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: abc\r\n\r\n\u0081\u0002hi");
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: abc\r\n"
                + "connection: upgrade\r\nupgrade: websocket\r\n\r\n\u0081\u0002hi");
        assertThat(r.events).containsExactly("switched");
        Recorder notAsked = frame(PLAIN, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
        assertThat(notAsked.events).containsExactly("malformed: 101 Switching Protocols to a request that asked for no upgrade");
        assertThat(notAsked.client.toString()).isEmpty();
    }

    @Test
    void bytesAfterTheResponseMeanTheConnectionIsNotReused() {
        Run run = new Run(PLAIN);
        run.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n");
        assertThat(run.sink.events).containsExactly("head 200", "end");
        assertThat(run.sink.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(run.framer.expecting()).isFalse();
    }

    @Test
    void identicalContentLengthsAreOneLength() {
        Recorder r = frame(PLAIN, "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok");
        assertThat(r.events).containsExactly("head 200", "end reusable");
        assertThat(r.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        Recorder twoLines = frame(PLAIN, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\nContent-Length: 2\r\n\r\nok");
        assertThat(twoLines.client.toString()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nX: y\r\n\r\nok");
    }

    @Test
    void whatCannotBeForwardedSafelyIsRefused() {
        assertRefused("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "Content-Length values disagree");
        assertRefused("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok", "Content-Length values disagree");
        assertRefused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length is not a number");
        assertRefused("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", "Content-Length is not a number");
        assertRefused("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "Content-Length is not a number");
        assertRefused("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "obsolete line folding");
        assertRefused("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", "whitespace before the colon");
        assertRefused("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a colon");
        assertRefused("HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "empty name");
        assertRefused("HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\n\r\n", "control character in a header value");
        assertRefused("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", "control character in a header value");
        assertRefused("HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x status line");
        assertRefused("HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1.x status line");
        assertRefused("HTTP/1.1 20x OK\r\n\r\n", "three digits");
        assertRefused("HTTP/1.1 700 Odd\r\n\r\n", "outside 100-599");
        assertRefused("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line");
        assertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size");
        assertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n", "chunk data not followed by CRLF");
        assertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", "invalid chunk size");
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assertRefused(chunked + "2\nhi\r\n0\r\n\r\n", "a chunk-size line not ended by CRLF");
        assertRefused(chunked + "2  \r\nhi\r\n0\r\n\r\n", "whitespace after the chunk size");
        assertRefused(chunked + "2;x=\u0007\r\nhi\r\n0\r\n\r\n", "not a token or quoted-string");
        assertRefused(chunked + "2\r\nhi\n0\r\n\r\n", "chunk data not followed by CRLF");
        assertRefused(chunked + "2\r\nhi\r\n0\r\nX: 1\n\r\n", "a trailer line not ended by CRLF");
        assertRefused(chunked + "2\r\nhi\r\n0\r\nHTTP/1.1 200 OK\r\n\r\n", "not a header field");
        assertRefused(chunked + "2\r\nhi\r\n0\r\nX: 1\r\n\tfolded\r\n\r\n", "obsolete line folding in the trailers");
        assertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "more than one Transfer-Encoding header");
        assertRefused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
                "chunked applied more than once");
    }

    @Test
    void headsOverTheLimitAreRefusedWithoutWaitingForTheirEnd() {
        String big = "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(ResponseFramer.MAX_HEAD) + "\r\n\r\n";
        Run run = new Run(PLAIN);
        run.feed(big.substring(0, ResponseFramer.MAX_HEAD + 10));
        assertThat(run.sink.events).containsExactly("malformed: response head over " + ResponseFramer.MAX_HEAD + " bytes");
        Run line = new Run(PLAIN);
        line.feed("HTTP/1.1 200 " + "a".repeat(ResponseFramer.MAX_STATUS_LINE));
        assertThat(line.sink.events).containsExactly("malformed: status line over " + ResponseFramer.MAX_STATUS_LINE + " bytes");
        Run justUnder = new Run(PLAIN);
        justUnder.feed("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(8000) + "\r\nContent-Length: 0\r\n\r\n");
        assertThat(justUnder.sink.events).containsExactly("head 200", "end reusable");
    }

    @Test
    void aLargeBodyIsSlicedNotCopiedAndKeepsItsBytes() {
        byte[] body = new byte[100_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        Run run = new Run(PLAIN);
        ByteBuf wire = Unpooled.buffer();
        wire.writeBytes(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        wire.writeBytes(body, 0, 50_000);
        run.framer.feed(wire, ALLOC, run.sink);
        wire.release();
        ByteBuf rest = Unpooled.wrappedBuffer(body, 50_000, 50_000);
        run.framer.feed(rest, ALLOC, run.sink);
        rest.release();
        assertThat(run.sink.events).containsExactly("head 200", "end reusable");
        String out = run.sink.client.toString();
        assertThat(out.substring(out.indexOf("\r\n\r\n") + 4)).isEqualTo(new String(body, StandardCharsets.ISO_8859_1));
    }

    @Test
    void theFramerIsReusedForTheNextResponseOnTheConnection() {
        Run run = new Run(PLAIN);
        run.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
        run.framer.expect(false, true, true, null);
        run.feed("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n");
        assertThat(run.sink.events).containsExactly("head 200", "end reusable", "head 404", "end reusable");
    }

    private static void assertRefused(String wire, String why) {
        Run run = new Run(PLAIN);
        run.feed(wire);
        assertThat(run.sink.events).as(wire).anySatisfy(e -> assertThat(e).startsWith("malformed: ").contains(why));
        assertThat(run.sink.events.get(run.sink.events.size() - 1)).as(wire).startsWith("malformed: ");
        assertThat(run.framer.expecting()).isFalse();
        run.feed("more bytes after the refusal");
        assertThat(run.sink.events.stream().filter(e -> e.startsWith("malformed")).count()).isEqualTo(1);
    }
}
