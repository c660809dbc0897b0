package dev.sluice.server;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The test service's methods for grpc-java, without generated code: messages are UTF-8
 * strings marshalled as their bytes.
 */
public final class GrpcCalls {

    public static final MethodDescriptor.Marshaller<String> STRING = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** {@code grpc.health.v1.Health/Check}, its messages as their protobuf bytes. */
    public static final MethodDescriptor<byte[], byte[]> HEALTH_CHECK = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("grpc.health.v1.Health/Check")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    public static final MethodDescriptor<String, String> UNARY = method(MethodDescriptor.MethodType.UNARY, "Unary");
    public static final MethodDescriptor<String, String> SERVER_STREAM =
            method(MethodDescriptor.MethodType.SERVER_STREAMING, "Stream");
    public static final MethodDescriptor<String, String> CLIENT_STREAM =
            method(MethodDescriptor.MethodType.CLIENT_STREAMING, "Collect");
    public static final MethodDescriptor<String, String> BIDI = method(MethodDescriptor.MethodType.BIDI_STREAMING, "Chat");

    private GrpcCalls() {
    }

    private static MethodDescriptor<String, String> method(MethodDescriptor.MethodType type, String name) {
        return MethodDescriptor.<String, String>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Echo", name))
                .setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();
    }
}
