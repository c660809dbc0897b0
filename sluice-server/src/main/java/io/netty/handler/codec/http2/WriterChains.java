package io.netty.handler.codec.http2;

/**
 * Netty's connection handler, built as its builders build it but over a frame writer given
 * (Sluice's {@code WholeFrameWriter}). A builder takes a writer only inside an encoder given
 * whole ({@code codec(decoder, encoder)}), and then leaves out the encoder's limits that its own
 * chain has: the queue of control frames a peer makes it answer ({@link Http2ControlFrameLimitEncoder})
 * and, on a server, the rate of the RST_STREAM frames a peer makes it send
 * ({@link Http2MaxRstFrameLimitEncoder}). Both are package-private, so this class sits in
 * Netty's package (a split package on the class path; Sluice runs on the class path) and makes
 * the same chain as {@code AbstractHttp2ConnectionHandlerBuilder.buildFromConnection} in Netty
 * 4.2.18: reader, encoder, its limits, the stream-buffering encoder of a client, decoder; the
 * builder then adds the decoder's limits and makes the handler. {@code WriterChainsTest} checks
 * the chain against the builder's own.
 *
 * <h2>Implementation notes</h2>
 * Stateless; called while a channel's pipeline is set up.
 */
public final class WriterChains {

    /** The builders' default limit on the RST_STREAM frames a server sends per window. */
    static final int MAX_RST_FRAMES_SENT = 200;
    /** ... and that window, in seconds. */
    static final int RST_WINDOW_SECONDS = 30;

    private WriterChains() {
    }

    /**
     * The handler {@code builder} makes for {@code connection}, writing through {@code writer}.
     * The builder must not have been given a connection, a codec, the server flag, a frame logger,
     * header validation, a sensitivity detector (the writer holds it) or the stream buffering
     * ({@code bufferStreamsOverLimit} says it): those are this method's to set.
     *
     * @param bufferStreamsOverLimit a client's streams past the peer's
     *     {@code SETTINGS_MAX_CONCURRENT_STREAMS} wait in the encoder ({@link StreamBufferingEncoder})
     */
    public static <T extends Http2ConnectionHandler, B extends AbstractHttp2ConnectionHandlerBuilder<T, B>> T build(
            B builder, Http2Connection connection, Http2FrameWriter writer, boolean bufferStreamsOverLimit) {
        if (bufferStreamsOverLimit && connection.isServer()) {
            throw new IllegalArgumentException("a server's streams cannot wait in the encoder");
        }
        Http2Settings settings = builder.initialSettings();
        Long maxStreams = settings.maxConcurrentStreams();
        if (maxStreams != null) {
            connection.remote().maxActiveStreams((int) Math.min(maxStreams, Integer.MAX_VALUE));
        }
        Long maxHeaderListSize = settings.maxHeaderListSize();
        boolean validate = builder.isValidateHeaders();
        Http2FrameReader reader = new DefaultHttp2FrameReader(new DefaultHttp2HeadersDecoder(validate,
                maxHeaderListSize == null ? Http2CodecUtil.DEFAULT_HEADER_LIST_SIZE : maxHeaderListSize, -1),
                builder.decoderEnforceMaxSmallContinuationFrames());
        Http2ConnectionEncoder encoder = new DefaultHttp2ConnectionEncoder(connection, writer);
        int maxQueuedControlFrames = builder.encoderEnforceMaxQueuedControlFrames();
        if (maxQueuedControlFrames != 0) {
            encoder = new Http2ControlFrameLimitEncoder(encoder, maxQueuedControlFrames);
        }
        if (connection.isServer()) {
            encoder = new Http2MaxRstFrameLimitEncoder(encoder, MAX_RST_FRAMES_SENT, RST_WINDOW_SECONDS);
        }
        if (bufferStreamsOverLimit) {
            encoder = new StreamBufferingEncoder(encoder);
        }
        Http2ConnectionDecoder decoder = new DefaultHttp2ConnectionDecoder(connection, encoder, reader,
                builder.promisedRequestVerifier(), builder.isAutoAckSettingsFrame(), builder.isAutoAckPingFrame(),
                validate, builder.isValidateRequiredPseudoHeaders());
        if (!connection.isServer()) {
            // The builders' default for a client: none. The server flag stays unset (a codec given
            // excludes it), and unset the builder would take a server's limit on the RST_STREAM
            // frames it receives, and so close a pod's connection after its 200th reset stream.
            builder.decoderEnforceMaxRstFramesPerWindow(0, 0);
        }
        builder.codec(decoder, encoder);
        return builder.build();
    }
}
