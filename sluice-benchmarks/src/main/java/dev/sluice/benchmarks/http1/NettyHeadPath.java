package dev.sluice.benchmarks.http1;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The head rewrite as Sluice did it on Netty's header maps before the framers replaced it, for
 * the benchmarks' baselines: a header map that stores values as {@link AsciiString} (Netty's
 * encoder copies those with one memory copy, a {@code String} one char at a time), the
 * hop-by-hop strip and the forwarding headers.
 */
final class NettyHeadPath {

    private static final DefaultHttpHeadersFactory DEFAULTS = DefaultHttpHeadersFactory.headersFactory();
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString FORWARDED = AsciiString.cached("forwarded");

    private NettyHeadPath() {
    }

    /** The decoders' configuration: Netty's default limits, values stored as AsciiString. */
    static HttpDecoderConfig decoderConfig() {
        return new HttpDecoderConfig().setHeadersFactory(new HttpHeadersFactory() {
            @Override
            public HttpHeaders newHeaders() {
                return new AsciiValued(16);
            }

            @Override
            public HttpHeaders newEmptyHeaders() {
                return new AsciiValued(2);
            }
        });
    }

    /** The hop-by-hop headers the framers remove (their ForwardingHeaders.HOP_BY_HOP). */
    private static final List<AsciiString> HOP_BY_HOP = List.of(HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
            AsciiString.cached("proxy-connection"), HttpHeaderNames.PROXY_AUTHENTICATE,
            HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE);

    static AsciiString ascii(String s) {
        return new AsciiString(s.getBytes(StandardCharsets.ISO_8859_1), false);
    }

    /** Removes hop-by-hop headers, including those the Connection header names. */
    static void stripHopByHop(HttpHeaders h) {
        String connection = h.get(HttpHeaderNames.CONNECTION);
        if (connection != null) {
            for (String token : connection.split(",")) {
                String name = token.trim();
                if (!name.isEmpty() && !name.equalsIgnoreCase("close") && !name.equalsIgnoreCase("keep-alive")) {
                    h.remove(name);
                }
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            h.remove(name);
        }
    }

    /** Appends the client to X-Forwarded-For and Forwarded. */
    static void addForwarding(HttpHeaders h, String ip, String forElement, String host) {
        String xff = h.get(X_FORWARDED_FOR);
        h.set(X_FORWARDED_FOR, ascii(xff == null ? ip : xff + ", " + ip));
        String element = host == null ? forElement : forElement + ";host=\"" + host + "\"";
        String fwd = h.get(FORWARDED);
        h.set(FORWARDED, ascii(fwd == null ? element : fwd + ", " + element));
    }

    private static final class AsciiValued extends DefaultHttpHeaders {
        AsciiValued(int sizeHint) {
            super(DEFAULTS.getNameValidator(), DEFAULTS.getValueValidator(), sizeHint);
        }

        @Override
        public HttpHeaders add(CharSequence name, Object value) {
            return super.add(name, value instanceof String s ? ascii(s) : value);
        }

        @Override
        public HttpHeaders add(String name, Object value) {
            return super.add(name, value instanceof String s ? ascii(s) : value);
        }
    }
}
