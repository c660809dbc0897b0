package dev.sluice.benchmarks.http1;

import dev.sluice.http1.RequestBody;
import dev.sluice.http1.RequestFramer;
import dev.sluice.http1.RequestHead;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCounted;
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
 * A client's request turned into the bytes the pod gets, one request per operation, on one
 * thread without I/O: Netty's decoder, the hop-by-hop strip and forwarding headers on the
 * header map, and Netty's encoder (the path before the eighth session) against
 * {@link RequestFramer}, which writes the pod's head as it parses. Both run in an
 * {@link EmbeddedChannel} (the framer behind an adapter like sluice-server's {@code RequestDecoder}) on the pooled allocator, as the launcher runs the proxy, and release
 * what they produce. {@code wrk}: the load runs' request; {@code browser}: a GET with eleven
 * headers, cookies and an earlier hop's X-Forwarded-For; {@code post}: a JSON POST with a 1 KB
 * body.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Dio.netty.allocator.type=pooled",
        "-Dio.netty.allocator.useCacheForAllThreads=true"})
public class RequestPathBenchmark {

    @Param({"wrk", "browser", "post"})
    public String request;

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final String IP = "10.1.2.3";
    private static final String FOR = "for=10.1.2.3;proto=http";

    private ByteBuf wire;
    private EmbeddedChannel decoder;
    private EmbeddedChannel encoder;
    private EmbeddedChannel framer;

    @Setup(Level.Trial)
    public void setUp() {
        String text = switch (request) {
            case "wrk" -> "GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nSluice-Revision: default/fast\r\n\r\n";
            case "browser" -> "GET /v1/models/llama-3-8b?stream=false HTTP/1.1\r\nHost: models.example.com\r\n"
                    + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36\r\n"
                    + "Accept: application/json, text/plain, */*\r\nAccept-Language: en-GB,en;q=0.9\r\n"
                    + "Accept-Encoding: gzip, deflate, br\r\nCookie: session=7f3a9c2e11b04d6f; theme=dark\r\n"
                    + "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl\r\n"
                    + "X-Forwarded-For: 203.0.113.7\r\n"
                    + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
                    + "Connection: keep-alive\r\nSluice-Revision: default/llama\r\n\r\n";
            default -> "POST /v1/completions HTTP/1.1\r\nHost: models.example.com\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1024\r\nSluice-Revision: default/llama\r\n\r\n"
                    + "{\"prompt\":\"" + "x".repeat(1024 - 13) + "\"}";
        };
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        wire = ALLOC.directBuffer(bytes.length).writeBytes(bytes);
        decoder = new EmbeddedChannel(new HttpRequestDecoder(NettyHeadPath.decoderConfig()));
        encoder = new EmbeddedChannel(new HttpRequestEncoder());
        framer = new EmbeddedChannel(new Decoder());
        decoder.config().setAllocator(ALLOC);
        encoder.config().setAllocator(ALLOC);
        framer.config().setAllocator(ALLOC);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wire.release();
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
        framer.finishAndReleaseAll();
    }

    /** The framer in a pipeline, as sluice-server's RequestDecoder puts it there. */
    static final class Decoder extends ChannelInboundHandlerAdapter implements RequestFramer.Sink {
        private RequestFramer framer;
        private ChannelHandlerContext ctx;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (framer == null) {
                framer = new RequestFramer(ctx.channel().remoteAddress(), this);
            }
            this.ctx = ctx;
            framer.feed((ByteBuf) msg, ctx.alloc());
        }

        @Override
        public void head(RequestHead head) {
            ctx.fireChannelRead(head);
        }

        @Override
        public void body(RequestBody body) {
            ctx.fireChannelRead(body);
        }

        @Override
        public boolean tunnelling() {
            return false;
        }

        @Override
        public void tunnelBytes(ByteBuf bytes) {
            ctx.fireChannelRead(bytes);
        }
    }

    /** Decode into a header map, strip hop-by-hop headers, add the forwarding headers, encode. */
    @Benchmark
    public void nettyDecodeEncode(Blackhole bh) {
        decoder.writeInbound(wire.retainedDuplicate());
        HttpRequest head = decoder.readInbound();
        String host = head.headers().get(HttpHeaderNames.HOST);
        bh.consume(head.headers().get("Sluice-Revision"));
        NettyHeadPath.stripHopByHop(head.headers());
        NettyHeadPath.addForwarding(head.headers(), IP, FOR, host);
        HttpUtil.setKeepAlive(head, true);
        Object part = decoder.readInbound();
        Object more = decoder.readInbound();
        if (more == null && part instanceof LastHttpContent last) {
            // The whole request in one read: one message, as the exchange wrote it.
            encoder.writeOutbound(new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                    last.content(), head.headers(), last.trailingHeaders()));
        } else {
            encoder.writeOutbound(head);
            encoder.writeOutbound(part);
            for (; more instanceof HttpContent; more = decoder.readInbound()) {
                encoder.writeOutbound(more);
            }
        }
        for (ByteBuf out = encoder.readOutbound(); out != null; out = encoder.readOutbound()) {
            bh.consume(out.readableBytes());
            out.release();
        }
    }

    /** The framer: parse, write the pod's head, slice the body through. */
    @Benchmark
    public void framer(Blackhole bh) {
        framer.writeInbound(wire.retainedDuplicate());
        for (Object m = framer.readInbound(); m != null; m = framer.readInbound()) {
            if (m instanceof RequestHead h) {
                bh.consume(h.revision);
            }
            bh.consume(((ByteBufHolder) m).content().readableBytes());
            ((ReferenceCounted) m).release();
        }
    }
}
