package dev.sluice.http1;

import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What changes about headers between hops (RFC 9110 §7.6.1): the hop-by-hop headers both
 * framers remove, and the client's part of {@code X-Forwarded-For} and {@code Forwarded},
 * which {@link RequestFramer} appends. End-to-end headers ({@code traceparent} and the rest)
 * pass unchanged.
 */
final class ForwardingHeaders {

    static final List<AsciiString> HOP_BY_HOP = List.of(AsciiString.cached("connection"),
            AsciiString.cached("keep-alive"), AsciiString.cached("proxy-connection"),
            AsciiString.cached("proxy-authenticate"), AsciiString.cached("proxy-authorization"), AsciiString.cached("te"),
            AsciiString.cached("trailer"), AsciiString.cached("upgrade"));

    private ForwardingHeaders() {
    }

    /**
     * One client connection's forwarding values: its address is the same for every request on
     * it, so the bytes are made once per connection, not once per request.
     */
    static final class ForClient {
        private final byte[] ip;
        private final byte[] forElement;

        ForClient(SocketAddress client) {
            String addr = client instanceof InetSocketAddress isa && isa.getAddress() != null
                    ? isa.getAddress().getHostAddress() : "unknown";
            this.ip = addr.getBytes(StandardCharsets.ISO_8859_1);
            this.forElement = ("for=" + (addr.indexOf(':') >= 0 ? "\"[" + addr + "]\"" : addr) + ";proto=http")
                    .getBytes(StandardCharsets.ISO_8859_1);
        }

        /** The client's address, as X-Forwarded-For lists it. */
        byte[] ip() {
            return ip;
        }

        /** The client's Forwarded element without its host parameter: {@code for=…;proto=http}. */
        byte[] forElement() {
            return forElement;
        }
    }
}
