package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link Http1ToFrames#fields}: an HTTP/1.1 head's field lines as HTTP/2 fields, read from the bytes. */
class Http1ToFramesTest {

    private static long fields(String lines, Http2Headers h) {
        byte[] b = lines.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf in = Unpooled.wrappedBuffer(b);
        try {
            return Http1ToFrames.fields(in, 0, b.length, h);
        } finally {
            in.release();
        }
    }

    @Test
    void namesAreLoweredValuesTrimmedAndConnectionSpecificFieldsLeftOut() {
        Http2Headers h = new DefaultHttp2Headers().method("POST");
        long length = fields("Host: model.test\r\nContent-Type:\tapplication/grpc \r\nConnection: keep-alive\r\n"
                + "Keep-Alive: timeout=5\r\nProxy-Connection: x\r\nUpgrade: h2c\r\nTE: trailers\r\nX-Empty:\r\n"
                + "Content-Length: 12\r\n\r\n", h);
        assertThat(length).isEqualTo(12);
        assertThat(h.authority()).hasToString("model.test");
        assertThat(h.get("content-type")).hasToString("application/grpc");
        assertThat(h.get("te")).hasToString("trailers");
        assertThat(h.get("x-empty")).hasToString("");
        assertThat(h.get("content-length")).hasToString("12");
        for (String gone : new String[] {"host", "connection", "keep-alive", "proxy-connection", "upgrade"}) {
            assertThat(h.contains(gone)).as(gone).isFalse();
        }
        h.forEach(f -> assertThat(f.getKey().toString()).isLowerCase());
    }

    @Test
    void chunkedWinsOverALengthAndTeOtherThanTrailersIsDropped() {
        Http2Headers h = new DefaultHttp2Headers().status("200");
        assertThat(fields("Transfer-Encoding: chunked\r\nContent-Length: 5\r\nTE: gzip\r\n\r\n", h))
                .isEqualTo(Http1ToFrames.CHUNKED);
        assertThat(h.contains("te")).isFalse();
        assertThat(h.contains("transfer-encoding")).isFalse();
        assertThat(fields("Server: x\r\n\r\n", new DefaultHttp2Headers().status("200")))
                .isEqualTo(Http1ToFrames.UNTIL_CLOSE);
    }

    @Test
    void aResponsesHostIsAFieldAndValueOctetsPassUnchanged() {
        Http2Headers h = new DefaultHttp2Headers().status("200");
        fields("Host: a\r\nX-Name: caf\u00e9\r\n\r\n", h);
        assertThat(h.authority()).as("only a request's Host is :authority").isNull();
        AsciiString v = (AsciiString) h.get("x-name");
        assertThat(v.array()[v.arrayOffset() + 3]).isEqualTo((byte) 0xE9);
    }
}
