package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameWriter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

/**
 * {@link WholeFrameWriter} against Netty's {@link DefaultHttp2FrameWriter}, differentially: the
 * same operations (HEADERS of any size, with and without padding or priority, DATA of any size,
 * the other frames, changes of the peer's frame size, header table size and header list size)
 * sent to both, each with its own HPACK encoder, must put the same bytes on the wire, complete or
 * fail their promises alike, and release every DATA buffer; and the writer's own frames must be
 * one buffer each.
 */
class WholeFrameWriterTest {

    /** A writer and the channel its frames go to. */
    private static final class Side {
        final EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter());
        final ChannelHandlerContext ctx = channel.pipeline().firstContext();
        final Http2FrameWriter writer;

        Side(Http2FrameWriter writer) {
            this.writer = writer;
        }

        /** What the last operation put on the wire, and in how many buffers. */
        Wire take() {
            channel.flush();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int buffers = 0;
            for (ByteBuf b = channel.readOutbound(); b != null; b = channel.readOutbound()) {
                buffers++;
                out.writeBytes(ByteBufUtil.getBytes(b));
                b.release();
            }
            return new Wire(out.toByteArray(), buffers);
        }
    }

    private record Wire(byte[] bytes, int buffers) {
    }

    /** One thing written, or a setting changed, on both sides. */
    sealed interface Op permits Headers, Data, Other, Setting {
    }

    record Headers(int stream, List<String[]> fields, int padding, boolean priority, boolean end) implements Op {
    }

    record Data(int stream, int size, int padding, boolean end) implements Op {
    }

    /** 0 RST_STREAM, 1 WINDOW_UPDATE, 2 PING, 3 SETTINGS ACK. */
    record Other(int kind, int stream) implements Op {
    }

    /** 0 max frame size, 1 header table size, 2 max header list size. */
    record Setting(int kind, long value) implements Op {
    }

    @Property(tries = 300)
    void writesWhatNettysWriterWrites(@ForAll("ops") List<Op> ops) throws Exception {
        Side netty = new Side(new DefaultHttp2FrameWriter(
                new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, false)));
        Side whole = new Side(new WholeFrameWriter(Http2HeadersEncoder.NEVER_SENSITIVE, false));
        for (Op op : ops) {
            if (op instanceof Setting s) {
                apply(netty.writer, s);
                apply(whole.writer, s);
                continue;
            }
            List<ByteBuf> given = new ArrayList<>();
            Written a = write(netty, op, given);
            Written b = write(whole, op, given);
            Wire expected = netty.take();
            Wire actual = whole.take();
            assertThat(actual.bytes()).as("%s", op).isEqualTo(expected.bytes());
            if (a.thrown() != null || b.thrown() != null) {
                assertThat(b.thrown()).as("%s", op).isNotNull().hasSameClassAs(a.thrown());
                continue;
            }
            assertThat(b.future().isDone()).as("%s", op).isEqualTo(a.future().isDone());
            assertThat(b.future().isSuccess()).as("%s: %s", op, b.future().cause()).isEqualTo(a.future().isSuccess());
            if (!a.future().isSuccess()) {
                assertThat(b.future().cause()).as("%s", op).hasSameClassAs(a.future().cause());
            } else if (op instanceof Headers h && h.padding() == 0 && !h.priority()
                    || op instanceof Data d && d.padding() == 0 && d.size() <= WholeFrameWriter.COPY_LIMIT) {
                assertThat(actual.buffers()).as("%s", op).isEqualTo(1);
            }
            for (ByteBuf g : given) {
                assertThat(g.refCnt()).as("%s: its data released", op).isZero();
            }
        }
        assertThat(netty.channel.finishAndReleaseAll()).isFalse();
        assertThat(whole.channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aHeaderBlockLongerThanAFrameGoesOnInContinuationFrames() throws Exception {
        Side whole = new Side(new WholeFrameWriter(Http2HeadersEncoder.NEVER_SENSITIVE, true));
        Http2Headers h = new DefaultHttp2Headers().status("200").add("x-big", "v".repeat(40_000));
        ChannelFuture written = whole.writer.writeHeaders(whole.ctx, 3, h, 0, true, whole.ctx.newPromise());
        byte[] wire = whole.take().bytes();
        assertThat(written.isSuccess()).isTrue();
        // HEADERS (END_STREAM, no END_HEADERS) with 16,384 bytes, then CONTINUATION frames, the last with END_HEADERS.
        assertThat(wire[3]).isEqualTo((byte) 0x1);
        assertThat(wire[4]).isEqualTo((byte) 0x1);
        int at = 0;
        int frames = 0;
        int block = 0;
        while (at < wire.length) {
            int length = (wire[at] & 0xff) << 16 | (wire[at + 1] & 0xff) << 8 | wire[at + 2] & 0xff;
            assertThat(length).isLessThanOrEqualTo(16_384);
            assertThat(wire[at + 3]).isEqualTo(frames == 0 ? (byte) 0x1 : (byte) 0x9);
            at += 9 + length;
            block += length;
            frames++;
            assertThat((wire[at - 9 - length + 4] & 0x4) != 0).isEqualTo(at == wire.length);
        }
        assertThat(frames).isGreaterThanOrEqualTo(3);
        assertThat(block).isGreaterThan(30_000); // Huffman-coded 'v's, but longer than two frames
    }

    private static void apply(Http2FrameWriter w, Setting s) throws Http2Exception {
        switch (s.kind()) {
            case 0 -> w.configuration().frameSizePolicy().maxFrameSize((int) s.value());
            case 1 -> w.configuration().headersConfiguration().maxHeaderTableSize(s.value());
            default -> w.configuration().headersConfiguration().maxHeaderListSize(s.value());
        }
    }

    /** What a write returned, or threw (Netty's writer throws on a bad stream id, say). */
    private record Written(ChannelFuture future, RuntimeException thrown) {
    }

    private static Written write(Side side, Op op, List<ByteBuf> given) {
        try {
            return new Written(send(side, op, given), null);
        } catch (RuntimeException e) {
            return new Written(null, e);
        }
    }

    private static ChannelFuture send(Side side, Op op, List<ByteBuf> given) {
        ChannelHandlerContext ctx = side.ctx;
        if (op instanceof Headers h) {
            Http2Headers headers = new DefaultHttp2Headers(false);
            for (String[] f : h.fields()) {
                headers.add(f[0], f[1]);
            }
            return h.priority()
                    ? side.writer.writeHeaders(ctx, h.stream(), headers, 0, (short) 16, false, h.padding(), h.end(),
                            ctx.newPromise())
                    : side.writer.writeHeaders(ctx, h.stream(), headers, h.padding(), h.end(), ctx.newPromise());
        }
        if (op instanceof Data d) {
            byte[] bytes = new byte[d.size()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (i * 31 + d.stream());
            }
            ByteBuf data = Unpooled.buffer(bytes.length).writeBytes(bytes); // never the shared empty buffer
            given.add(data);
            return side.writer.writeData(ctx, d.stream(), data, d.padding(), d.end(), ctx.newPromise());
        }
        Other o = (Other) op;
        return switch (o.kind()) {
            case 0 -> side.writer.writeRstStream(ctx, o.stream(), 8, ctx.newPromise());
            case 1 -> side.writer.writeWindowUpdate(ctx, o.stream(), 1000, ctx.newPromise());
            case 2 -> side.writer.writePing(ctx, false, o.stream(), ctx.newPromise());
            default -> side.writer.writeSettingsAck(ctx, ctx.newPromise());
        };
    }

    // ------------------------------------------------------------------ what is written

    @Provide
    Arbitrary<List<Op>> ops() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, headers()),
                Tuple.of(4, data()),
                Tuple.of(1, other()),
                Tuple.of(1, setting())).list().ofMinSize(1).ofMaxSize(40);
    }

    private static Arbitrary<Integer> streams() {
        return Arbitraries.frequencyOf(
                Tuple.of(20, Arbitraries.integers().between(1, 99)),
                Tuple.of(1, Arbitraries.of(0, -1, Integer.MAX_VALUE)));
    }

    private static Arbitrary<Op> headers() {
        Arbitrary<String> names = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of(":status", ":method", ":path", ":scheme", ":authority",
                        "content-type", "content-length", "date", "server", "grpc-status", "x-request-id")),
                Tuple.of(2, Arbitraries.strings().withCharRange('a', 'z').withChars('-')
                        .ofMinLength(1).ofMaxLength(30)));
        Arbitrary<String> values = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("200", "GET", "/", "http", "application/grpc", "nginx", "0")),
                Tuple.of(6, Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(200)),
                Tuple.of(1, Arbitraries.strings().withCharRange(' ', '~').ofMinLength(4000)
                        .ofMaxLength(24_000)));
        Arbitrary<String[]> fields = Combinators.combine(names, values).as((n, v) -> new String[] {n, v});
        return Combinators.combine(streams(), fields.list().ofMaxSize(12),
                Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just(0)),
                        Tuple.of(1, Arbitraries.integers().between(1, 256))),
                Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just(false)),
                        Tuple.of(1, Arbitraries.just(true))),
                Arbitraries.of(true, false))
                .as(Headers::new);
    }

    private static Arbitrary<Op> data() {
        Arbitrary<Integer> sizes = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(0, 64)),
                Tuple.of(3, Arbitraries.integers().between(WholeFrameWriter.COPY_LIMIT - 2,
                        WholeFrameWriter.COPY_LIMIT + 2)),
                Tuple.of(2, Arbitraries.integers().between(0, 40_000)));
        return Combinators.combine(streams(), sizes,
                Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just(0)),
                        Tuple.of(1, Arbitraries.integers().between(1, 256))),
                Arbitraries.of(true, false))
                .as(Data::new);
    }

    private static Arbitrary<Op> other() {
        return Combinators.combine(Arbitraries.integers().between(0, 3), streams()).as(Other::new);
    }

    private static Arbitrary<Op> setting() {
        return Arbitraries.oneOf(
                Arbitraries.of(16_384L, 16_385L, 20_000L, 16_777_215L).map(v -> new Setting(0, v)),
                Arbitraries.of(0L, 64L, 4096L, 65_536L).map(v -> new Setting(1, v)),
                Arbitraries.of(100L, 8192L, 1L << 20).map(v -> new Setting(2, v)));
    }
}
