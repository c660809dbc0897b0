package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.proxy.FrameWriterDifferential.Data;
import dev.sluice.server.proxy.FrameWriterDifferential.Headers;
import dev.sluice.server.proxy.FrameWriterDifferential.Op;
import dev.sluice.server.proxy.FrameWriterDifferential.Other;
import dev.sluice.server.proxy.FrameWriterDifferential.Setting;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
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
 * {@link WholeFrameWriter} against Netty's writer ({@link FrameWriterDifferential}) over random
 * runs of HEADERS of any size, with and without padding or priority, DATA of any size, the other
 * frames, and changes of the peer's frame size, header table size and header list size; and a
 * header block longer than a frame, read back frame by frame. {@code WholeFrameWriterFuzzTest}
 * drives the same comparison from Jazzer's inputs.
 */
class WholeFrameWriterTest {

    @Property(tries = 300)
    void writesWhatNettysWriterWrites(@ForAll("ops") List<Op> ops) {
        FrameWriterDifferential both = new FrameWriterDifferential();
        for (Op op : ops) {
            both.check(op);
        }
        both.finish();
    }

    @Test
    void aHeaderBlockLongerThanAFrameGoesOnInContinuationFrames() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter());
        ChannelHandlerContext ctx = channel.pipeline().firstContext();
        WholeFrameWriter writer = new WholeFrameWriter(Http2HeadersEncoder.NEVER_SENSITIVE, false);
        Http2Headers h = new DefaultHttp2Headers().status("200").add("x-big", "v".repeat(40_000));
        ChannelFuture written = writer.writeHeaders(ctx, 3, h, 0, true, ctx.newPromise());
        channel.flush();
        ByteBuf out = channel.readOutbound();
        assertThat(written.isSuccess()).isTrue();
        assertThat((Object) channel.readOutbound()).as("one buffer").isNull();
        byte[] wire = ByteBufUtil.getBytes(out);
        out.release();
        int at = 0;
        int frames = 0;
        int block = 0;
        while (at < wire.length) {
            int length = (wire[at] & 0xff) << 16 | (wire[at + 1] & 0xff) << 8 | wire[at + 2] & 0xff;
            int flags = wire[at + 4];
            assertThat(length).isLessThanOrEqualTo(16_384);
            assertThat(wire[at + 3]).as("type").isEqualTo(frames == 0 ? (byte) 0x1 : (byte) 0x9); // HEADERS, CONTINUATION
            assertThat(flags & 0x1).as("END_STREAM on the HEADERS frame alone").isEqualTo(frames == 0 ? 1 : 0);
            assertThat(wire[at + 5] << 24 | (wire[at + 6] & 0xff) << 16 | (wire[at + 7] & 0xff) << 8 | wire[at + 8] & 0xff)
                    .as("stream").isEqualTo(3);
            at += 9 + length;
            block += length;
            frames++;
            assertThat(flags & 0x4).as("END_HEADERS on the last frame alone").isEqualTo(at == wire.length ? 4 : 0);
        }
        assertThat(frames).isGreaterThanOrEqualTo(2);
        assertThat(block).isGreaterThan(16_384);
        assertThat(channel.finishAndReleaseAll()).isFalse();
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

    private static Arbitrary<Integer> paddings() {
        return Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(1, 255))); // 256: Netty 4.2.18 fails its own padding buffer
    }

    private static Arbitrary<Op> headers() {
        Arbitrary<String> names = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of(":status", ":method", ":path", ":scheme", ":authority",
                        "content-type", "content-length", "date", "server", "grpc-status", "x-request-id")),
                Tuple.of(2, Arbitraries.strings().withCharRange('a', 'z').withChars('-').ofMinLength(1).ofMaxLength(30)));
        Arbitrary<String> values = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("200", "GET", "/", "http", "application/grpc", "nginx", "0")),
                Tuple.of(6, Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(200)),
                Tuple.of(1, Arbitraries.strings().withCharRange(' ', '~').ofMinLength(4000).ofMaxLength(24_000)));
        Arbitrary<List<String>> fields = Combinators.combine(names, values).as(List::of);
        return Combinators.combine(streams(), fields.list().ofMaxSize(12), paddings(),
                Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true))),
                Arbitraries.of(true, false))
                .as(Headers::new);
    }

    private static Arbitrary<Op> data() {
        Arbitrary<Integer> sizes = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(0, 64)),
                Tuple.of(3, Arbitraries.integers().between(WholeFrameWriter.COPY_LIMIT - 2, WholeFrameWriter.COPY_LIMIT + 2)),
                Tuple.of(2, Arbitraries.integers().between(0, 40_000)));
        return Combinators.combine(streams(), sizes, paddings(), Arbitraries.of(true, false)).as(Data::new);
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
