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
import java.util.List;

/**
 * {@link WholeFrameWriter} and Netty's {@link DefaultHttp2FrameWriter} side by side, each with
 * its own HPACK encoder and channel: every operation goes to both, and must put the same bytes on
 * the wire, complete, fail or throw alike, and release the DATA buffer it was given; the writer's
 * own frames (a HEADERS frame without padding or priority, a DATA frame of at most
 * {@link WholeFrameWriter#COPY_LIMIT} bytes without padding) must be one buffer each. Used by the
 * property test and the fuzz target.
 */
final class FrameWriterDifferential {

    /** One thing written, or a setting changed, on both sides. */
    sealed interface Op permits Headers, Data, Other, Setting {
    }

    /** A HEADERS frame (with CONTINUATION frames when the block is long). */
    record Headers(int stream, List<List<String>> fields, int padding, boolean priority, boolean end) implements Op {
    }

    /** A DATA frame of {@code size} bytes. */
    record Data(int stream, int size, int padding, boolean end) implements Op {
    }

    /** 0 RST_STREAM, 1 WINDOW_UPDATE, 2 PING, 3 SETTINGS ACK. */
    record Other(int kind, int stream) implements Op {
    }

    /** 0 the peer's max frame size, 1 its header table size, 2 its max header list size. */
    record Setting(int kind, long value) implements Op {
    }

    private final Side netty = new Side(new DefaultHttp2FrameWriter(
            new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, false)));
    private final Side whole = new Side(new WholeFrameWriter(Http2HeadersEncoder.NEVER_SENSITIVE, false));

    /** Does {@code op} on both sides and checks that they did the same. */
    void check(Op op) {
        if (op instanceof Setting s) {
            Throwable a = apply(netty.writer, s);
            Throwable b = apply(whole.writer, s);
            assertThat(b == null ? null : b.getClass()).as("%s", op).isEqualTo(a == null ? null : a.getClass());
            return;
        }
        ByteBuf toNetty = data(op);
        ByteBuf toWhole = data(op);
        Written a = write(netty, op, toNetty);
        Written b = write(whole, op, toWhole);
        Wire expected = netty.take();
        Wire actual = whole.take();
        assertThat(actual.bytes()).as("%s", op).isEqualTo(expected.bytes());
        for (ByteBuf given : new ByteBuf[] {toNetty, toWhole}) {
            if (given != null) {
                assertThat(given.refCnt()).as("%s: its data released", op).isZero();
            }
        }
        if (a.thrown() != null || b.thrown() != null) {
            assertThat(b.thrown()).as("%s", op).isNotNull().hasSameClassAs(a.thrown());
            return;
        }
        assertThat(b.future().isDone()).as("%s", op).isEqualTo(a.future().isDone());
        assertThat(b.future().isSuccess()).as("%s: %s", op, b.future().cause()).isEqualTo(a.future().isSuccess());
        if (!a.future().isSuccess()) {
            assertThat(b.future().cause()).as("%s", op).hasSameClassAs(a.future().cause());
        } else if (op instanceof Headers h && h.padding() == 0 && !h.priority()
                || op instanceof Data d && d.padding() == 0 && d.size() <= WholeFrameWriter.COPY_LIMIT) {
            assertThat(actual.buffers()).as("%s", op).isEqualTo(1);
        }
    }

    /** Ends both channels: nothing may be left unread or unreleased. */
    void finish() {
        assertThat(netty.channel.finishAndReleaseAll()).isFalse();
        assertThat(whole.channel.finishAndReleaseAll()).isFalse();
    }

    // ------------------------------------------------------------------ internals

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

    /** What a write returned, or threw (Netty's writer throws on a bad stream id, say). */
    private record Written(ChannelFuture future, RuntimeException thrown) {
    }

    private static Throwable apply(Http2FrameWriter w, Setting s) {
        try {
            switch (s.kind()) {
                case 0 -> w.configuration().frameSizePolicy().maxFrameSize((int) s.value());
                case 1 -> w.configuration().headersConfiguration().maxHeaderTableSize(s.value());
                default -> w.configuration().headersConfiguration().maxHeaderListSize(s.value());
            }
            return null;
        } catch (Http2Exception | RuntimeException e) {
            return e;
        }
    }

    /** A DATA operation's payload (a buffer of its own, never the shared empty one), else null. */
    private static ByteBuf data(Op op) {
        if (!(op instanceof Data d)) {
            return null;
        }
        ByteBuf b = Unpooled.buffer(d.size());
        for (int i = 0; i < d.size(); i++) {
            b.writeByte(i * 31 + d.stream());
        }
        return b;
    }

    private static Written write(Side side, Op op, ByteBuf data) {
        try {
            return new Written(send(side, op, data), null);
        } catch (RuntimeException e) {
            return new Written(null, e);
        }
    }

    private static ChannelFuture send(Side side, Op op, ByteBuf data) {
        ChannelHandlerContext ctx = side.ctx;
        Http2FrameWriter w = side.writer;
        if (op instanceof Headers h) {
            Http2Headers headers = new DefaultHttp2Headers(false);
            for (List<String> f : h.fields()) {
                headers.add(f.get(0), f.get(1));
            }
            return h.priority()
                    ? w.writeHeaders(ctx, h.stream(), headers, 0, (short) 16, false, h.padding(), h.end(), ctx.newPromise())
                    : w.writeHeaders(ctx, h.stream(), headers, h.padding(), h.end(), ctx.newPromise());
        }
        if (op instanceof Data d) {
            return w.writeData(ctx, d.stream(), data, d.padding(), d.end(), ctx.newPromise());
        }
        Other o = (Other) op;
        return switch (o.kind()) {
            case 0 -> w.writeRstStream(ctx, o.stream(), 8, ctx.newPromise());
            case 1 -> w.writeWindowUpdate(ctx, o.stream(), 1000, ctx.newPromise());
            case 2 -> w.writePing(ctx, false, o.stream(), ctx.newPromise());
            default -> w.writeSettingsAck(ctx, ctx.newPromise());
        };
    }
}
