package io.netty.handler.codec.http2;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link WriterChains} against Netty's builders: the handler it builds over a frame writer must
 * have the encoder and decoder chains (their limits), the reader's limits, the header validation
 * and the stream limit of the handler the builder builds on its own, for a server (Sluice's
 * client connections) and for a client with streams buffered over the peer's limit (its pod
 * connections), with both of Netty's builders. A Netty upgrade that changes the builder's chain
 * fails here.
 */
class WriterChainsTest {

    private static final Http2Settings SETTINGS = Http2Settings.defaultSettings().maxConcurrentStreams(250);

    @Test
    void aServersFrameCodecIsTheBuilders() throws Exception {
        Http2FrameCodec builders = Http2FrameCodecBuilder.forServer().initialSettings(SETTINGS).build();
        Http2FrameCodec ours = WriterChains.build(new Http2FrameCodecBuilder() { }.initialSettings(SETTINGS).gracefulShutdownTimeoutMillis(0),
                new DefaultHttp2Connection(true), new DefaultHttp2FrameWriter(), false);
        assertSameChain(ours, builders);
        assertThat(ours.connection().remote().maxActiveStreams()).isEqualTo(250);
    }

    @Test
    void aClientsFrameCodecIsTheBuilders() throws Exception {
        Http2FrameCodec builders = Http2FrameCodecBuilder.forClient().initialSettings(SETTINGS)
                .encoderEnforceMaxConcurrentStreams(true).build();
        Http2FrameCodec ours = WriterChains.build(new Http2FrameCodecBuilder() { }.initialSettings(SETTINGS).gracefulShutdownTimeoutMillis(0),
                new DefaultHttp2Connection(false), new DefaultHttp2FrameWriter(), true);
        assertSameChain(ours, builders);
    }

    @Test
    void aClientsConnectionHandlerIsTheBuilders() throws Exception {
        Http2FrameListener listener = new Http2EventAdapter();
        Http2ConnectionHandler builders = new Http2ConnectionHandlerBuilder().frameListener(listener)
                .initialSettings(SETTINGS).encoderEnforceMaxConcurrentStreams(true).server(false).build();
        Http2ConnectionHandler ours = WriterChains.build(new Http2ConnectionHandlerBuilder().frameListener(listener)
                .initialSettings(SETTINGS), new DefaultHttp2Connection(false), new DefaultHttp2FrameWriter(), true);
        assertSameChain(ours, builders);
        assertThat(ours.decoder().frameListener()).isSameAs(listener);
    }

    private static void assertSameChain(Http2ConnectionHandler ours, Http2ConnectionHandler builders)
            throws Exception {
        assertThat(chain(ours.encoder(), DecoratingHttp2ConnectionEncoder.class))
                .isEqualTo(chain(builders.encoder(), DecoratingHttp2ConnectionEncoder.class))
                .contains(Http2ControlFrameLimitEncoder.class);
        assertThat(chain(ours.decoder(), DecoratingHttp2ConnectionDecoder.class))
                .isEqualTo(chain(builders.decoder(), DecoratingHttp2ConnectionDecoder.class));
        DefaultHttp2ConnectionDecoder a = innermost(ours.decoder());
        DefaultHttp2ConnectionDecoder b = innermost(builders.decoder());
        for (String f : List.of("validateHeaders", "validateRequiredPseudoHeaders", "autoAckPing")) {
            assertThat(field(a, DefaultHttp2ConnectionDecoder.class, f)).as(f)
                    .isEqualTo(field(b, DefaultHttp2ConnectionDecoder.class, f));
        }
        DefaultHttp2FrameReader ra = (DefaultHttp2FrameReader) field(a, DefaultHttp2ConnectionDecoder.class, "frameReader");
        DefaultHttp2FrameReader rb = (DefaultHttp2FrameReader) field(b, DefaultHttp2ConnectionDecoder.class, "frameReader");
        assertThat(ra.configuration().headersConfiguration().maxHeaderListSizeGoAway())
                .isEqualTo(rb.configuration().headersConfiguration().maxHeaderListSizeGoAway());
        assertThat(ra.configuration().headersConfiguration().maxHeaderListSize())
                .isEqualTo(rb.configuration().headersConfiguration().maxHeaderListSize());
        assertThat(field(ra, DefaultHttp2FrameReader.class, "maxSmallContinuationFrames"))
                .isEqualTo(field(rb, DefaultHttp2FrameReader.class, "maxSmallContinuationFrames"));
        assertThat(ours.gracefulShutdownTimeoutMillis()).isEqualTo(builders.gracefulShutdownTimeoutMillis());
    }

    private static List<Class<?>> chain(Object top, Class<?> decorating) throws Exception {
        List<Class<?>> classes = new ArrayList<>();
        for (Object o = top; o != null; o = decorating.isInstance(o) ? field(o, decorating, "delegate") : null) {
            classes.add(o.getClass());
        }
        return classes;
    }

    private static DefaultHttp2ConnectionDecoder innermost(Http2ConnectionDecoder d) throws Exception {
        Object o = d;
        while (o instanceof DecoratingHttp2ConnectionDecoder) {
            o = field(o, DecoratingHttp2ConnectionDecoder.class, "delegate");
        }
        return (DefaultHttp2ConnectionDecoder) o;
    }

    private static Object field(Object o, Class<?> declaring, String name) throws Exception {
        Field f = declaring.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }
}
