package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;

/**
 * An h2c pod's answer on one stream, written as the HTTP/1.1 response it means for the
 * {@link UpstreamHandler} behind (its {@link dev.sluice.http1.ResponseFramer} then frames it as
 * it frames any pod's): the status line, the fields, then the body chunked, each DATA frame a
 * chunk, the pod's trailers (gRPC's {@code grpc-status}) as the chunked body's trailer section;
 * a HEADERS frame that ends the stream (gRPC's trailers-only answer) is a head with
 * {@code content-length: 0}.
 *
 * <p>A stream the pod refused unprocessed (RST_STREAM {@code REFUSED_STREAM}, or a GOAWAY whose
 * last stream is below it, RFC 9113 §8.7) is reported to the exchange as
 * {@link #UNPROCESSED}: the request never reached the pod's application, so it may be sent
 * again whatever its method ({@link PodLink}).
 *
 * <h2>Implementation notes</h2>
 * Inbound, on the pod stream channel's event loop (the client's) only.
 */
final class Http2ToHttp1Response extends Http2StreamReader {

    /** The pod refused the stream before processing it. Stackless: a marker, not a failure to trace. */
    static final Exception UNPROCESSED = new Exception("the pod refused the stream unprocessed", null, false, false) {
    };

    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");



    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        boolean refused = !headSent && (evt instanceof Http2ResetFrame r
                && r.errorCode() == Http2Error.REFUSED_STREAM.code() || evt instanceof Http2GoAwayFrame);
        ReferenceCountUtil.release(evt);
        if (refused) {
            ctx.fireExceptionCaught(UNPROCESSED);
        }
    }

    @Override
    void head(ChannelHandlerContext ctx, Http2Headers h, boolean endStream) {
        CharSequence statusText = h.status();
        int status = statusText == null ? 502 : Integer.parseInt(statusText.toString());
        if (status < 200) {
            return; // informational: the final head follows
        }
        headSent = true;
        ended = endStream;
        if (!Http2ToHttp1Request.fieldsValid(h)) {
            ended = true;
            ctx.fireExceptionCaught(new IllegalStateException("a field value of the pod's HTTP/2 response has a CR,"
                    + " LF or NUL"));
            return;
        }
        ByteBuf out = ctx.alloc().buffer(256);
        HttpResponseStatus st = HttpResponseStatus.valueOf(status);
        ByteBufUtil.writeAscii(out, "HTTP/1.1 ");
        ByteBufUtil.writeAscii(out, st.codeAsText());
        out.writeByte(' ');
        ByteBufUtil.writeAscii(out, st.reasonPhrase());
        out.writeBytes(CRLF);
        boolean hasLength = false;
        for (Map.Entry<CharSequence, CharSequence> f : h) {
            CharSequence name = f.getKey();
            if (name.length() == 0 || name.charAt(0) == ':') {
                continue;
            }
            if (AsciiString.contentEqualsIgnoreCase(name, CONTENT_LENGTH)) {
                hasLength = true;
            }
            field(out, name, f.getValue());
        }
        if (endStream && !hasLength) {
            ByteBufUtil.writeAscii(out, "content-length: 0\r\n");
        } else if (!endStream && !hasLength) {
            ByteBufUtil.writeAscii(out, "transfer-encoding: chunked\r\n");
        }
        out.writeBytes(CRLF);
        chunked = !endStream && !hasLength;
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
        ByteBuf out = ctx.alloc().buffer(n + 16);
        if (n > 0) {
            ByteBufUtil.writeAscii(out, Integer.toHexString(n));
            out.writeBytes(CRLF).writeBytes(content, content.readerIndex(), n).writeBytes(CRLF);
        }
        if (endStream) {
            out.writeBytes(LAST_CHUNK).writeBytes(CRLF);
        }
        if (out.isReadable()) {
            ctx.fireChannelRead(out);
        } else {
            out.release();
        }
    }

    @Override
    void trailers(ChannelHandlerContext ctx, Http2Headers h) {
        ended = true;
        if (!chunked) {
            return; // a body of known length has nowhere for them in HTTP/1.1
        }
        lastChunk(ctx, h);
    }
}
