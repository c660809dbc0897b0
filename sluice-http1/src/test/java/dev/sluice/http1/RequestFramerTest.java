package dev.sluice.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCounted;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The request framer's conformance: the head it writes for the pod (hop-by-hop headers
 * removed, forwarding headers appended, RFC 9110 §7.6.1), body framing (RFC 9112 §6), and the
 * requests it refuses, with which status. Every wire case is fed whole, split at every byte,
 * and byte by byte: what comes out must not depend on how the reads fall. Every buffer it
 * passes on is released by the test, and every input buffer must end up released.
 */
class RequestFramerTest {

    /** Collects what the framer passes on. */
    static final class Collector implements RequestFramer.Sink {
        final List<Object> messages = new ArrayList<>();

        @Override
        public void head(RequestHead head) {
            messages.add(head);
        }

        @Override
        public void body(RequestBody body) {
            messages.add(body);
        }

        @Override
        public boolean tunnelling() {
            return false;
        }

        @Override
        public void tunnelBytes(ByteBuf bytes) {
            messages.add(bytes);
        }
    }

    private static final String GET = "GET /a?b=c HTTP/1.1\r\nHost: model.test\r\nSluice-Revision: default/model\r\n\r\n";

    /** What came out of the framer, with consecutive body parts joined: one line per event. */
    private static List<String> transcript(List<Object> messages) {
        List<String> out = new ArrayList<>();
        StringBuilder body = null;
        for (Object m : messages) {
            if (m instanceof RequestBody b) {
                if (body == null) {
                    body = new StringBuilder();
                }
                if (b.error != null) {
                    // What went before is moot (the exchange fails), and depends on how reads fell.
                    out.add("malformed body: " + b.error);
                    body = null;
                } else {
                    body.append(b.content().toString(StandardCharsets.ISO_8859_1));
                    if (b.last) {
                        out.add("body: " + body);
                        body = null;
                    }
                }
            } else if (m instanceof RequestHead h) {
                if (body != null) {
                    out.add("body (unfinished): " + body);
                    body = null;
                }
                out.add(h.refused() ? "refused " + h.errorStatus + ": " + h.error : "head " + describe(h) + "\n"
                        + h.content().toString(StandardCharsets.ISO_8859_1));
            } else {
                out.add("bytes: " + ((ByteBuf) m).toString(StandardCharsets.ISO_8859_1));
            }
        }
        if (body != null) {
            out.add("body (so far): " + body);
        }
        return out;
    }

    private static String describe(RequestHead h) {
        return "rev=" + h.revision + " ns=" + h.knativeNamespace + " kr=" + h.knativeRevision + " host=" + h.host
                + (h.headMethod ? " HEAD" : "") + (h.http11 ? " 1.1" : " 1.0") + (h.keepAlive ? " keep" : " close")
                + (h.hasBody ? " body" : "") + (h.upgrade == null ? "" : " upgrade=" + h.upgrade);
    }

    /** Feeds {@code wire} in the given pieces; returns the messages (released) as a transcript. */
    private static List<String> feed(List<String> pieces) {
        Collector sink = new Collector();
        RequestFramer framer = new RequestFramer(null, sink);
        List<ByteBuf> inputs = new ArrayList<>();
        for (String p : pieces) {
            ByteBuf in = Unpooled.directBuffer(p.length()).writeBytes(p.getBytes(StandardCharsets.ISO_8859_1));
            inputs.add(in);
            framer.feed(in, ByteBufAllocator.DEFAULT);
        }
        List<String> t = transcript(sink.messages);
        sink.messages.forEach(m -> ((ReferenceCounted) m).release());
        ByteBuf kept = framer.detach();
        if (kept != null) {
            kept.release();
        }
        assertThat(inputs).as("every read buffer released").allMatch(b -> b.refCnt() == 0);
        return t;
    }

    /** The transcript of {@code wire}, checked to be the same however the reads fall. */
    private static List<String> frame(String wire) {
        List<String> whole = feed(List.of(wire));
        for (int i = 1; i < wire.length(); i++) {
            assertThat(feed(List.of(wire.substring(0, i), wire.substring(i)))).as("split at %d", i).isEqualTo(whole);
        }
        List<String> bytes = new ArrayList<>();
        for (char c : wire.toCharArray()) {
            bytes.add(String.valueOf(c));
        }
        assertThat(feed(bytes)).as("byte by byte").isEqualTo(whole);
        return whole;
    }

    @Test
    void aPlainGetIsRewrittenForThePod() {
        assertThat(frame(GET)).containsExactly("head rev=default/model ns=null kr=null host=model.test 1.1 keep\n"
                + "GET /a?b=c HTTP/1.1\r\nHost: model.test\r\nSluice-Revision: default/model\r\n"
                + "x-forwarded-for: unknown\r\nforwarded: for=unknown;proto=http;host=\"model.test\"\r\n\r\n");
    }

    @Test
    void hopByHopHeadersGoAndEarlierForwardingValuesStay() {
        List<String> t = frame("POST / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret, Content-Length, Host\r\n"
                + "X-Secret: s\r\nKeep-Alive: 5\r\nTE: trailers\r\nTrailer: x\r\nProxy-Connection: y\r\n"
                + "X-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2, 10.0.0.3\r\nForwarded: for=10.0.0.1\r\n"
                + "Content-Length: 2\r\nX-Kept: yes\r\n\r\nhi");
        assertThat(t).containsExactly("head rev=null ns=null kr=null host=h 1.1 keep body\n"
                + "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX-Kept: yes\r\n"
                + "x-forwarded-for: 10.0.0.1, 10.0.0.2, 10.0.0.3, unknown\r\n"
                + "forwarded: for=10.0.0.1, for=unknown;proto=http;host=\"h\"\r\n\r\n", "body: hi");
    }

    @Test
    void http10KeepsAliveOnlyWhenAskedAndThePodConnectionIsKeptAlive() {
        assertThat(frame("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).containsExactly(
                "head rev=null ns=null kr=null host=null 1.0 keep\nGET / HTTP/1.0\r\n"
                        + "x-forwarded-for: unknown\r\nforwarded: for=unknown;proto=http\r\nconnection: keep-alive\r\n\r\n");
        assertThat(frame("GET / HTTP/1.0\r\n\r\n").get(0)).startsWith("head rev=null ns=null kr=null host=null 1.0 close\n");
        assertThat(frame("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").get(0)).contains(" 1.1 close\n");
    }

    @Test
    void routingHeadersAreReadAndForwarded() {
        List<String> t = frame("HEAD / HTTP/1.1\r\nHost: x:80\r\nKnative-Serving-Namespace:  ns \r\n"
                + "knative-serving-revision: r\r\n\r\n");
        assertThat(t.get(0)).startsWith("head rev=null ns=ns kr=r host=x:80 HEAD 1.1 keep\n")
                .contains("Knative-Serving-Namespace:  ns \r\n");
    }

    @Test
    void aLengthBodyIsPassedOnAndAPipelinedRequestFollows() {
        String second = "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
        List<String> t = frame("PUT /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world" + second);
        assertThat(t).hasSize(3);
        assertThat(t.get(0)).startsWith("head rev=null ns=null kr=null host=h 1.1 keep body\nPUT /1 HTTP/1.1\r\n");
        assertThat(t.get(1)).isEqualTo("body: hello world");
        assertThat(t.get(2)).startsWith("head rev=null ns=null kr=null host=h 1.1 keep\nGET /2 HTTP/1.1\r\n");
    }

    @Test
    void aChunkedBodyIsForwardedCanonicallyTrailersIncluded() {
        String body = "5;ext=1\r\nhello\r\n6 ; a ; b = \"q\\\"\\t\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
        List<String> t = frame("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body + GET);
        assertThat(t).hasSize(3);
        assertThat(t.get(0)).contains("body\n").contains("Transfer-Encoding: chunked\r\n");
        assertThat(t.get(1)).as("extensions dropped").isEqualTo("body: 5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
        assertThat(t.get(2)).startsWith("head rev=default/model");
    }

    @Test
    void anUpgradeKeepsItsHeadersForThePod() {
        List<String> t = frame("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: k\r\n\r\n");
        assertThat(t).containsExactly("head rev=null ns=null kr=null host=h 1.1 keep upgrade=websocket\n"
                + "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nx-forwarded-for: unknown\r\n"
                + "forwarded: for=unknown;proto=http;host=\"h\"\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n");
        assertThat(frame("GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").get(0))
                .as("HTTP/1.0 has no upgrade (RFC 9110 §7.8)").doesNotContain("upgrade");
        assertThat(frame("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n").get(0))
                .as("Upgrade without Connection: upgrade is not an upgrade").doesNotContain("upgrade");
    }

    @Test
    void emptyLinesBeforeARequestAreSkipped() {
        assertThat(frame("\r\n\r\n" + GET)).hasSize(1);
    }

    @Test
    void malformedHeadsAreRefusedWithTheirStatusAndNothingMoreIsRead() {
        String[][] cases = {
            {"GET /\r\n\r\n", "400", "not a request line"},
            {"GET  / HTTP/1.1\r\n\r\n", "400", "not a request line"},
            {"G(T / HTTP/1.1\r\n\r\n", "400", "request method"},
            {"GET /a\u0001 HTTP/1.1\r\n\r\n", "400", "control character in the request target"},
            {"GET / HTTX/1.1\r\n\r\n", "400", "not an HTTP version"},
            {"GET / HTTP/2.0\r\n\r\n", "505", "HTTP/2.0 is not supported"},
            {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400", "more than one Host"},
            {"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "400", "Content-Length is not a number"},
            {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "400", "Content-Length values disagree"},
            {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400",
                "both Content-Length and Transfer-Encoding"},
            {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "400", "Transfer-Encoding in an HTTP/1.0 request"},
            {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "501", "last coding is not chunked"},
            {"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", "400", "obsolete line folding"},
            {"GET / HTTP/1.1\r\nX-A : 1\r\n\r\n", "400", "whitespace before the colon"},
            {"GET / HTTP/1.1\r\nX-A: \u0000\r\n\r\n", "400", "control character in a header value"},
        };
        for (String[] c : cases) {
            List<String> t = frame(c[0] + GET);
            assertThat(t).as(c[0]).hasSize(1);
            assertThat(t.get(0)).as(c[0]).startsWith("refused " + c[1] + ": ").contains(c[2]);
        }
    }

    @Test
    void overLongHeadsAre414And431() {
        List<String> line = feed(List.of("GET /" + "a".repeat(RequestFramer.MAX_REQUEST_LINE) + " HTTP/1.1\r\n\r\n"));
        assertThat(line).containsExactly("refused 414: request line over 4096 bytes");
        List<String> head = feed(List.of("GET / HTTP/1.1\r\n" + "X-A: b\r\n".repeat(2000)));
        assertThat(head).containsExactly("refused 431: request head over " + RequestFramer.MAX_HEAD + " bytes");
    }

    @Test
    void aBrokenChunkEndsTheBodyAsMalformed() {
        String head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        assertThat(frame(head + "zz\r\nhello\r\n0\r\n\r\n" + GET)).hasSize(2).last()
                .isEqualTo("malformed body: invalid chunk size");
        assertThat(frame(head + "5\r\nhelloXX0\r\n\r\n" + GET)).last().isEqualTo("malformed body: chunk data not followed by CRLF");
        List<String> t = feed(List.of(head + "5\r\nhello\r\n", "1".repeat(ChunkedBody.MAX_CHUNK_LINE + 1)));
        assertThat(t).hasSize(2).last().isEqualTo("malformed body: chunk-size line over 4096 bytes");
    }

    @Test
    void routingValuesAreTheSameStringsWhileTheyRepeat() {
        Collector sink = new Collector();
        new RequestFramer(null, sink).feed(Unpooled.copiedBuffer(GET + GET + GET.replace("default/model",
                "default/other"), StandardCharsets.ISO_8859_1), ByteBufAllocator.DEFAULT);
        assertThat(sink.messages).hasSize(3);
        RequestHead a = (RequestHead) sink.messages.get(0);
        RequestHead b = (RequestHead) sink.messages.get(1);
        RequestHead c = (RequestHead) sink.messages.get(2);
        assertThat(b.revision).isSameAs(a.revision).isEqualTo("default/model");
        assertThat(b.host).isSameAs(a.host);
        assertThat(c.revision).isEqualTo("default/other");
        a.release();
        b.release();
        c.release();
    }

    private static final String CHUNKED_POST = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

    @Test
    void chunkFramingThatIsNotCanonicalIsRefusedAsAMalformedBody() {
        String[][] cases = {
            {"5\nhello\r\n0\r\n\r\n", "a chunk-size line not ended by CRLF"},
            {"5 \r\nhello\r\n0\r\n\r\n", "whitespace after the chunk size"},
            {"5\t\r\nhello\r\n0\r\n\r\n", "whitespace after the chunk size"},
            {"5;a \r\nhello\r\n0\r\n\r\n", "whitespace at the end of a chunk-size line"},
            {"5;a=\u0001\r\nhello\r\n0\r\n\r\n", "a chunk extension whose value is not a token or quoted-string"},
            {"5;a=\"\u0001\"\r\nhello\r\n0\r\n\r\n", "a chunk extension whose value is not a token or quoted-string"},
            {"5;\r\nhello\r\n0\r\n\r\n", "a chunk extension without a name"},
            {"5;a\u0000\r\nhello\r\n0\r\n\r\n", "a chunk extension with a character that is not allowed"},
            {"5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF"},
            {"5\r\nhello\r\n0\r\nX-T: 1\n\r\n", "a trailer line not ended by CRLF"},
            {"5\r\nhello\r\n0\r\n\n", "a trailer line not ended by CRLF"},
            {"5\r\nhello\r\n0\r\nGET /smuggled HTTP/1.1\r\n\r\n", "a trailer line that is not a header field (name: value)"},
            {"5\r\nhello\r\n0\r\nno colon\r\n\r\n", "a trailer line that is not a header field (name: value)"},
            {"5\r\nhello\r\n0\r\nX-T: 1\r\n folded\r\n\r\n", "obsolete line folding in the trailers"},
            {"5\r\nhello\r\n0\r\nX-T: a\u0001\r\n\r\n", "control character in a trailer value"},
        };
        for (String[] c : cases) {
            List<String> t = frame(CHUNKED_POST + c[0] + GET);
            assertThat(t).as(c[0]).hasSize(2);
            assertThat(t.get(1)).as(c[0]).isEqualTo("malformed body: " + c[1]);
        }
    }

    @Test
    void contentLengthListsOfOneValueBecomeOneLine() {
        for (String lengths : List.of("Content-Length: 5, 5\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n",
                "Content-Length: 5,5\r\nX-A: b\r\ncontent-length: 5 , 5\r\n")) {
            List<String> t = frame("PUT / HTTP/1.1\r\nHost: h\r\n" + lengths + "\r\nhello" + GET);
            assertThat(t).as(lengths).hasSize(3);
            assertThat(t.get(0)).as(lengths).contains("Host: h\r\ncontent-length: 5\r\n")
                    .doesNotContainIgnoringCase("content-length: 5,").containsOnlyOnce("ength:");
            assertThat(t.get(1)).isEqualTo("body: hello");
        }
    }

    @Test
    void aTransferEncodingOtherThanChunkedAloneIsRefused() {
        String[][] cases = {
            {"Transfer-Encoding: chunked, chunked\r\n", "400", "chunked applied more than once"},
            {"Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n", "400", "more than one Transfer-Encoding"},
            {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "400", "more than one Transfer-Encoding"},
            {"Transfer-Encoding: gzip\r\n", "501", "last coding is not chunked"},
            {"Transfer-Encoding: gzip, chunked\r\n", "501", "a transfer coding other than chunked"},
        };
        for (String[] c : cases) {
            List<String> t = frame("POST / HTTP/1.1\r\nHost: h\r\n" + c[0] + "\r\n0\r\n\r\n");
            assertThat(t).as(c[0]).hasSize(1);
            assertThat(t.get(0)).as(c[0]).startsWith("refused " + c[1] + ": ").contains(c[2]);
        }
        List<String> listSyntax = frame("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , CHUNKED\r\n\r\n0\r\n\r\n");
        assertThat(listSyntax.get(0)).as("chunked after an empty element is chunked, written plainly")
                .contains("\r\ntransfer-encoding: chunked\r\n").doesNotContain("CHUNKED");
        assertThat(frame(CHUNKED_POST.replace("chunked", "Chunked \t") + "0\r\n\r\n").get(0))
                .contains("Transfer-Encoding: Chunked \t\r\n");
    }

    @Test
    void anHttp11RequestWithoutHostIsRefused() {
        assertThat(frame("GET / HTTP/1.1\r\nX-A: b\r\n\r\n" + GET))
                .containsExactly("refused 400: an HTTP/1.1 request without Host");
        assertThat(frame("GET / HTTP/1.0\r\n\r\n").get(0)).as("HTTP/1.0 needs none").startsWith("head ");
    }

    @Test
    void laterMinorVersionsAreHttp11AndMajorVersionsOtherThanOneAre505() {
        for (String v : List.of("1.2", "1.9")) {
            List<String> t = frame("GET / HTTP/" + v + "\r\nHost: h\r\n\r\n");
            assertThat(t).hasSize(1);
            assertThat(t.get(0)).contains(" 1.1 keep\nGET / HTTP/1.1\r\nHost: h\r\n");
        }
        for (String v : List.of("2.0", "3.0", "0.9")) {
            assertThat(frame("GET / HTTP/" + v + "\r\nHost: h\r\n\r\n")).containsExactly(
                    "refused 505: HTTP/" + v + " is not supported (HTTP/1.0 and HTTP/1.1 are)");
        }
    }
}
