package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AsciiValuedHeadersTest {

    private static final String HEAD = "GET /a?b=c HTTP/1.1\r\n"
            + "Host: model.test\r\n"
            + "X-Obs-Text: caf\u00e9 \u00ff end\r\n" // obs-text: bytes 0xE9 and 0xFF, allowed in values
            + "Accept: */*\r\n"
            + "\r\n";

    @Test
    void aDecodedHeadIsEncodedByteForByteAsItArrived() {
        byte[] in = HEAD.getBytes(StandardCharsets.ISO_8859_1);
        EmbeddedChannel decoder = new EmbeddedChannel(new HttpRequestDecoder(AsciiValuedHeaders.decoderConfig()));
        decoder.writeInbound(Unpooled.wrappedBuffer(in));
        HttpRequest request = decoder.readInbound();
        LastHttpContent end = decoder.readInbound();
        end.release();

        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.headers().getAsString("x-obs-text")).isEqualTo("caf\u00e9 \u00ff end");
        assertThat(request.headers().get("host")).isEqualTo("model.test");
        request.headers().iteratorCharSequence()
                .forEachRemaining(e -> assertThat(e.getValue()).isInstanceOf(AsciiString.class));

        EmbeddedChannel encoder = new EmbeddedChannel(new HttpRequestEncoder());
        encoder.writeOutbound(request, LastHttpContent.EMPTY_LAST_CONTENT);
        ByteBuf out = Unpooled.buffer();
        for (ByteBuf b; (b = encoder.readOutbound()) != null; b.release()) {
            out.writeBytes(b);
        }
        byte[] written = new byte[out.readableBytes()];
        out.readBytes(written);
        assertThat(written).isEqualTo(in);
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
    }

    @Test
    void valuesAddedByHandAreStoredAsAsciiAndReadBackAsStrings() {
        var headers = AsciiValuedHeaders.FACTORY.newHeaders();
        headers.add("x-forwarded-for", "10.0.0.1");
        headers.add("forwarded", AsciiString.of("for=10.0.0.1"));
        assertThat(headers.get("x-forwarded-for")).isEqualTo("10.0.0.1");
        assertThat(headers.get("forwarded")).isEqualTo("for=10.0.0.1");
        assertThat(headers.iteratorCharSequence().next().getValue()).isInstanceOf(AsciiString.class);
    }
}
