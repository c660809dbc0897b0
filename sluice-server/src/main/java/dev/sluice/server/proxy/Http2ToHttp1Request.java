package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * An HTTP/2 stream's request, written as the HTTP/1.1 request it means (RFC 9113 §8.3.1,
 * RFC 9112), for the HTTP/1.1 pipeline behind it: {@code :method :path HTTP/1.1}, {@code Host}
 * from {@code :authority}, the fields as they came (the {@code cookie} crumbs joined), then the
 * body: as it came when {@code content-length} says its length, else chunked, each DATA frame
 * a chunk, and trailers, if the client sends them, as the chunked body's trailer section. The
 * request framer behind reads these bytes like any client's, so every rule of the HTTP/1.1
 * way (routing, refusals, the head forwarded to the pod) applies to HTTP/2 as well.
 *
 * <p>It also tells the stream's {@link ClientHandler} what HTTP/2 alone carries: a gRPC call's
 * {@code grpc-timeout} bounds its queue wait ({@link Grpc#timeoutNanos}), its body is streamed
 * rather than buffered first (a bidirectional call needs answers before it sends more), and the response
 * adapter learns that a HEAD request's answer has no body.
 *
 * <h2>Implementation notes</h2>
 * On the stream channel's event loop only (the connection's). DATA frames' bytes pass on
 * without a copy; a frame is "consumed" for flow control when the stream channel reads it, so
 * a stream held back by the {@link Relay} stops its window and the client waits.
 */
final class Http2ToHttp1Request extends Http2StreamReader {

    private static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");

    private final ClientHandler client;
    private final Http1ToHttp2Response response;

    Http2ToHttp1Request(ClientHandler client, Http1ToHttp2Response response) {
        this.client = client;
        this.response = response;
    }

    /** Closes this stream's channel when the connection closes (see {@link #handlerAdded}). */
    private ChannelFutureListener closeWithConnection;

    /**
     * A stream's channel that Sluice holds back (its request waits for a pod) reads nothing, and
     * so would not hear that its stream or connection ended until it read again (Netty delivers
     * a stream's end in order, after its data). Both must free the slot at once: a client's
     * RST_STREAM comes as an event, which closes the channel here, and the connection's close
     * closes it too.
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Channel stream = ctx.channel();
        Channel connection = stream.parent();
        if (connection != null) {
            closeWithConnection = f -> stream.close();
            connection.closeFuture().addListener(closeWithConnection);
            stream.closeFuture().addListener(f -> connection.closeFuture().removeListener(closeWithConnection));
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            ended = true;
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }


    @Override
    void head(ChannelHandlerContext ctx, Http2Headers h, boolean endStream) {
        headSent = true;
        ended = endStream;
        if (!fieldsValid(h)) {
            // A CR or LF would end the field early in HTTP/1.1: refused, as RFC 9113 §8.2.1 asks.
            ended = true;
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
            return;
        }
        CharSequence method = h.method();
        CharSequence path = h.path();
        CharSequence authority = h.authority();
        ByteBuf out = ctx.alloc().buffer(256);
        out.writeCharSequence(method == null ? "GET" : method, StandardCharsets.US_ASCII);
        out.writeByte(' ');
        out.writeCharSequence(path == null || path.length() == 0 ? "/" : path, StandardCharsets.UTF_8);
        ByteBufUtil.writeAscii(out, " HTTP/1.1\r\n");
        if (authority != null) {
            field(out, "host", authority);
        }
        boolean hasLength = false;
        StringBuilder cookie = null;
        for (Map.Entry<CharSequence, CharSequence> f : h) {
            CharSequence name = f.getKey();
            if (name.length() == 0 || name.charAt(0) == ':') {
                continue;
            }
            if (AsciiString.contentEqualsIgnoreCase(name, "cookie")) {
                cookie = cookie == null ? new StringBuilder(f.getValue()) : cookie.append("; ").append(f.getValue());
                continue;
            }
            if (AsciiString.contentEqualsIgnoreCase(name, "host") && authority != null) {
                continue; // :authority wins (RFC 9113 §8.3.1)
            }
            if (AsciiString.contentEqualsIgnoreCase(name, "expect")) {
                continue; // Sluice reads the body first; nobody waits for a 100 on HTTP/2
            }
            if (AsciiString.contentEqualsIgnoreCase(name, "content-length")) {
                hasLength = true;
            }
            if (AsciiString.contentEqualsIgnoreCase(name, "content-type") && Grpc.isCall(f.getValue())) {
                client.streamBody();
            }
            if (AsciiString.contentEqualsIgnoreCase(name, GRPC_TIMEOUT)) {
                long t = Grpc.timeoutNanos(f.getValue());
                if (t > 0) {
                    client.queueLimit(t);
                }
            }
            field(out, name, f.getValue());
        }
        if (cookie != null) {
            field(out, "cookie", cookie);
        }
        if (!endStream && !hasLength) {
            chunked = true;
            ByteBufUtil.writeAscii(out, "transfer-encoding: chunked\r\n");
        }
        out.writeBytes(CRLF);
        if (method != null && AsciiString.contentEquals(method, "HEAD")) {
            response.headRequest();
        }
        ctx.fireChannelRead(out);
    }

    @Override
    void data(ChannelHandlerContext ctx, ByteBuf content, boolean endStream) {
        ended = endStream;
        if (!chunked) {
            if (content.isReadable()) {
                ctx.fireChannelRead(content.retain());
            }
            return;
        }
        int n = content.readableBytes();
        if (n > 0) {
            ByteBuf size = ctx.alloc().buffer(10);
            ByteBufUtil.writeAscii(size, Integer.toHexString(n));
            size.writeBytes(CRLF);
            ctx.fireChannelRead(size);
            ctx.fireChannelRead(content.retain());
            ctx.fireChannelRead(ctx.alloc().buffer(2).writeBytes(CRLF));
        }
        if (endStream) {
            ctx.fireChannelRead(ctx.alloc().buffer(5).writeBytes(LAST_CHUNK).writeBytes(CRLF));
        }
    }

    @Override
    void trailers(ChannelHandlerContext ctx, Http2Headers h) {
        ended = true;
        if (!fieldsValid(h)) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
            ctx.close();
            return;
        }
        if (!chunked) {
            return; // a body of known length ends by its length; HTTP/1.1 has nowhere to put them
        }
        lastChunk(ctx, h);
    }

    /** No CR, LF or NUL in any field value (names are checked by the codec). */
    static boolean fieldsValid(Http2Headers h) {
        for (Map.Entry<CharSequence, CharSequence> f : h) {
            CharSequence v = f.getValue();
            for (int i = 0, n = v.length(); i < n; i++) {
                char c = v.charAt(i);
                if (c == '\r' || c == '\n' || c == 0) {
                    return false;
                }
            }
        }
        return true;
    }
}
