package dev.sluice.benchmarks.http1;

import dev.sluice.http1.ResponseFramer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A pod's response turned into the client's bytes, one response per operation, on one thread
 * without I/O: Netty's decoder, the hop-by-hop rewrite on the header map and Netty's encoder
 * (the path before the fourth session) against {@link ResponseFramer}. Both run on the pooled
 * allocator, with its thread cache, and release what they produce. {@code nginx}: the fast scenario's pod answer
 * (nginx {@code return 200 "ok\n"}); {@code model}: a model server's JSON answer with ten
 * headers and 2 KB of body; {@code chunked}: a streamed answer in four chunks.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// As the launcher runs the proxy: no leak-detection sampling, and the pooled allocator's
// thread cache, which Netty 4.2 gives only its own threads unless told otherwise.
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled",
        "-Dio.netty.allocator.useCacheForAllThreads=true"})
public class ResponsePathBenchmark {

    @Param({"nginx", "model", "chunked"})
    public String response;

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private ByteBuf wire;
    private EmbeddedChannel decoder;
    private EmbeddedChannel encoder;
    private ResponseFramer framer;
    private BlackholeSink sink;

    /** Consumes the framer's output as the exchange would: writes (here: releases) it. */
    static final class BlackholeSink implements ResponseFramer.Sink {
        Blackhole bh;
        long bytes;

        @Override
        public void responseHead(int status, boolean clientMustClose) {
            bh.consume(status);
        }

        @Override
        public void clientBytes(ByteBuf b) {
            bytes += b.readableBytes();
            b.release();
        }

        @Override
        public void responseEnd(boolean podReusable) {
            bh.consume(podReusable);
        }

        @Override
        public void switched() {
        }

        @Override
        public void malformed(String why) {
            throw new IllegalStateException(why);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String text = switch (response) {
            case "nginx" -> "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 07:00:00 GMT\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n";
            case "model" -> "HTTP/1.1 200 OK\r\nServer: uvicorn\r\nDate: Tue, 01 Dec 2026 07:00:00 GMT\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 2048\r\nX-Request-Id: 4f1c2a9e-77d0-4b43-9a51-3c0e1f2b9d11\r\n"
                    + "X-Model: llama-3-8b\r\nX-Tokens: 512\r\nCache-Control: no-store\r\nVary: Accept-Encoding\r\n"
                    + "Keep-Alive: timeout=5\r\n\r\n" + "{\"text\":\"" + "x".repeat(2048 - 11) + "\"}";
            default -> "HTTP/1.1 200 OK\r\nServer: uvicorn\r\nContent-Type: text/event-stream\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + "10\r\ndata: token one\n\r\n" + "10\r\ndata: token two\n\r\n" + "12\r\ndata: token three\n\r\n"
                    + "0\r\n\r\n";
        };
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        wire = ALLOC.directBuffer(bytes.length).writeBytes(bytes);
        decoder = new EmbeddedChannel(new HttpResponseDecoder(NettyHeadPath.decoderConfig()));
        encoder = new EmbeddedChannel(new HttpResponseEncoder());
        framer = new ResponseFramer();
        sink = new BlackholeSink();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wire.release();
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
    }

    /** Decode into a header map, strip hop-by-hop headers, set keep-alive, encode. */
    @Benchmark
    public void nettyDecodeEncode(Blackhole bh) {
        decoder.writeInbound(wire.retainedDuplicate());
        HttpResponse head = decoder.readInbound();
        NettyHeadPath.stripHopByHop(head.headers());
        HttpUtil.setKeepAlive(head, true);
        Object part = decoder.readInbound();
        if (part instanceof LastHttpContent last && !(part instanceof HttpResponse)) {
            // The whole answer in one read: one message, as the exchange wrote it.
            encoder.writeOutbound(new DefaultFullHttpResponse(head.protocolVersion(), head.status(), last.content(),
                    head.headers(), last.trailingHeaders()));
        } else {
            encoder.writeOutbound(head);
            for (; part != null; part = decoder.readInbound()) {
                encoder.writeOutbound(part);
            }
        }
        for (ByteBuf out = encoder.readOutbound(); out != null; out = encoder.readOutbound()) {
            bh.consume(out.readableBytes());
            out.release();
        }
    }

    /** The framer: parse the framing, copy the kept lines and the body through. */
    @Benchmark
    public void framer(Blackhole bh) {
        sink.bh = bh;
        framer.expect(false, true, true, null);
        ByteBuf in = wire.retainedDuplicate();
        framer.feed(in, ALLOC, sink);
        in.release();
    }
}
