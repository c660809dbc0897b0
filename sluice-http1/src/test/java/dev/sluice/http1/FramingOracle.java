package dev.sluice.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The invariant the differential property tests and the fuzz targets check, for any bytes
 * and any way the reads fall: whatever a framer forwards, read by {@link StrictParser}, is
 * the same sequence of messages the framer saw (the same boundaries, start lines, framing and
 * {@code Host}), and nothing is left unreleased. A framer may refuse what it is given; what it
 * forwarded before the refusal must still be canonical.
 */
final class FramingOracle {

    private FramingOracle() {
    }

    /** One request as the framer saw it. */
    record SeenRequest(RequestHead head, int length, boolean complete) {
    }

    /** What a run of the request framer produced. */
    record RequestRun(byte[] forwarded, List<SeenRequest> seen, String refusal, StrictParser.Parse strict) {
    }

    /** Feeds {@code wire} cut at {@code cuts} (ascending, inside the wire) to a request framer, and checks the invariant. */
    static RequestRun requests(byte[] wire, int[] cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        List<Object> out = new ArrayList<>();
        RequestFramer framer = new RequestFramer(null, new RequestFramer.Sink() {
            @Override
            public void head(RequestHead head) {
                out.add(head);
            }

            @Override
            public void body(RequestBody body) {
                out.add(body);
            }

            @Override
            public boolean tunnelling() {
                return false;
            }

            @Override
            public void tunnelBytes(ByteBuf bytes) {
                out.add(bytes);
            }
        });
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : wire.length;
            framer.feed(alloc.wrap(wire, from, to), alloc);
            from = to;
        }
        ByteBuf kept = framer.detach();
        if (kept != null) {
            kept.release();
        }

        ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
        List<SeenRequest> seen = new ArrayList<>();
        String refusal = null;
        RequestHead current = null;
        int length = 0;
        for (Object m : out) {
            assertThat(refusal).as("nothing after a refusal").isNull();
            if (m instanceof RequestHead h) {
                assertThat(current).as("a head while a body was open").isNull();
                if (h.refused()) {
                    refusal = h.errorStatus + " " + h.error;
                } else {
                    byte[] bytes = bytes(h.content());
                    forwarded.writeBytes(bytes);
                    if (h.hasBody) {
                        current = h;
                        length = bytes.length;
                    } else {
                        seen.add(new SeenRequest(h, bytes.length, true));
                    }
                }
            } else if (m instanceof RequestBody b) {
                assertThat(current).as("a body part without a head").isNotNull();
                if (b.error != null) {
                    refusal = "400 body: " + b.error;
                    seen.add(new SeenRequest(current, length, false));
                    current = null;
                } else {
                    byte[] bytes = bytes(b.content());
                    forwarded.writeBytes(bytes);
                    length += bytes.length;
                    if (b.last) {
                        seen.add(new SeenRequest(current, length, true));
                        current = null;
                    }
                }
            } else {
                throw new AssertionError("tunnel bytes without a tunnel");
            }
        }
        if (current != null) {
            seen.add(new SeenRequest(current, length, false));
        }
        out.forEach(m -> ((ReferenceCounted) m).release());
        assertThat(alloc.unreleased()).as("buffers not released").isEmpty();

        byte[] fwd = forwarded.toByteArray();
        StrictParser.Parse strict = StrictParser.requests(fwd);
        assertThat(strict.error).as("what Sluice forwarded, read strictly:\n%s", text(fwd)).isNull();
        assertThat(strict.messages).as("messages in\n%s", text(fwd)).hasSameSizeAs(seen);
        for (int i = 0; i < seen.size(); i++) {
            SeenRequest s = seen.get(i);
            StrictParser.Message p = strict.messages.get(i);
            assertThat(p.length).as("message %d's length", i).isEqualTo(s.length);
            assertThat(p.complete).as("message %d complete", i).isEqualTo(s.complete);
            assertThat(p.startLine.endsWith("1.1")).as("message %d's version", i).isEqualTo(s.head.http11);
            String cl = p.header("content-length");
            boolean body = p.count("transfer-encoding") == 1 || cl != null && Long.parseLong(cl) > 0;
            assertThat(body).as("message %d has a body", i).isEqualTo(s.head.hasBody);
            assertThat(p.header("host")).as("message %d's Host", i).isEqualTo(s.head.host);
            assertThat(p.startLine.startsWith("HEAD ")).isEqualTo(s.head.headMethod);
        }
        return new RequestRun(fwd, seen, refusal, strict);
    }

    /** How the response's request was sent. */
    record Request(boolean head, boolean keepAlive, boolean http11, String upgrade) {

        /** The request a fuzz input's first byte describes (an HTTP/1.0 request asks for no upgrade: RequestFramer ignores it). */
        static Request of(int bits) {
            boolean http11 = (bits & 4) == 0;
            return new Request((bits & 1) != 0, (bits & 2) == 0, http11, http11 && (bits & 8) != 0 ? "websocket" : null);
        }
    }

    /** What a run of the response framer produced. */
    record ResponseRun(byte[] client, List<String> events, boolean ended, String malformed, StrictParser.Parse strict) {
    }

    /** Feeds {@code wire} cut at {@code cuts} to a response framer expecting the answer to {@code req}, then closes, and checks the invariant. */
    static ResponseRun response(Request req, byte[] wire, int[] cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        ByteArrayOutputStream client = new ByteArrayOutputStream();
        List<String> events = new ArrayList<>();
        boolean[] mustClose = {false};
        String[] malformed = {null};
        boolean[] ended = {false};
        boolean[] switched = {false};
        ResponseFramer.Sink sink = new ResponseFramer.Sink() {
            @Override
            public void responseHead(int status, boolean clientMustClose) {
                events.add("head " + status);
                mustClose[0] = clientMustClose;
            }

            @Override
            public void clientBytes(ByteBuf bytes) {
                client.writeBytes(bytes(bytes));
                bytes.release();
            }

            @Override
            public void responseEnd(boolean podReusable) {
                events.add("end");
                ended[0] = true;
            }

            @Override
            public void switched() {
                events.add("switched");
                switched[0] = true;
            }

            @Override
            public void malformed(String why) {
                events.add("malformed");
                malformed[0] = why;
            }
        };
        ResponseFramer framer = new ResponseFramer();
        framer.expect(req.head, req.keepAlive, req.http11, req.upgrade);
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : wire.length;
            ByteBuf in = alloc.wrap(wire, from, to);
            framer.feed(in, alloc, sink);
            assertThat(in.refCnt()).as("the caller's buffer stays the caller's").isEqualTo(1);
            in.release();
            from = to;
        }
        boolean closeEnded = !ended[0] && malformed[0] == null && !switched[0] && framer.closed(sink);
        framer.dispose();
        assertThat(alloc.unreleased()).as("buffers not released").isEmpty();

        byte[] out = client.toByteArray();
        StrictParser.Parse strict = StrictParser.responses(out, req.head, closeEnded || ended[0] && mustClose[0]);
        assertThat(strict.error).as("what Sluice forwarded, read strictly:\n%s", text(out)).isNull();
        List<StrictParser.Message> ms = strict.messages;
        if (!req.http11) {
            assertThat(ms).as("no 1xx to an HTTP/1.0 client").allMatch(m -> !m.complete || m.status() >= 200);
        }
        if (ended[0] || switched[0]) {
            assertThat(ms).as("a whole response in\n%s", text(out)).isNotEmpty().allMatch(m -> m.complete);
            StrictParser.Message last = ms.get(ms.size() - 1);
            assertThat(events.get(0)).isEqualTo(switched[0] ? "switched" : "head " + last.status());
            assertThat(switched[0]).isEqualTo(last.status() == 101);
            if (last.count("content-length") == 0 && last.count("transfer-encoding") == 0 && !req.head
                    && last.status() >= 200 && last.status() != 204 && last.status() != 304) {
                assertThat(mustClose[0]).as("a body that ends at close closes the client").isTrue();
                assertThat(last.header("connection")).isEqualTo("close");
            }
        } else {
            // Refused, or cut short: a prefix of canonical messages, the last one unfinished.
            assertThat(ms.stream().filter(m -> m.complete && m.status() >= 200).count())
                    .as("no final response completed\n%s", text(out)).isZero();
        }
        return new ResponseRun(out, events, ended[0] || closeEnded, malformed[0], strict);
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return a;
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1).replace("\r", "\\r").replace("\n", "\\n\n");
    }
}
