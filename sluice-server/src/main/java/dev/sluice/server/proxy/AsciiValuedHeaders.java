package dev.sluice.server.proxy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * The header map Sluice's decoders fill: it stores each value as an {@link AsciiString}.
 * Netty's decoder hands every value over as a {@code String}, and its encoder then copies a
 * {@code String} into the outgoing buffer one char at a time ({@code HttpHeadersEncoder
 * .writeAscii}: 3.5% of the proxy's CPU samples, since every head is decoded once and encoded
 * again); an {@code AsciiString} goes out with one memory copy, and is validated byte by byte.
 * The conversion is lossless: the decoder builds values from bytes as ISO-8859-1, so every
 * char is below 256. Validation stays Netty's default.
 */
final class AsciiValuedHeaders extends DefaultHttpHeaders {

    private static final DefaultHttpHeadersFactory DEFAULTS = DefaultHttpHeadersFactory.headersFactory();

    /** For the decoders' configuration. */
    static final HttpHeadersFactory FACTORY = new HttpHeadersFactory() {
        @Override
        public HttpHeaders newHeaders() {
            return new AsciiValuedHeaders(16);
        }

        @Override
        public HttpHeaders newEmptyHeaders() {
            return new AsciiValuedHeaders(2);
        }
    };

    private AsciiValuedHeaders(int sizeHint) {
        super(DEFAULTS.getNameValidator(), DEFAULTS.getValueValidator(), sizeHint);
    }

    /** A decoder configuration with Netty's default limits and this header map. */
    static HttpDecoderConfig decoderConfig() {
        return new HttpDecoderConfig().setHeadersFactory(FACTORY);
    }

    /** {@code s} as an AsciiString (chars above 255 become '?', as Netty's encoder would write them). */
    static AsciiString ascii(String s) {
        return new AsciiString(s.getBytes(StandardCharsets.ISO_8859_1), false);
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
