package dev.sluice.server.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/**
 * Header rewriting between hops: hop-by-hop headers are stripped (RFC 9110 §7.6.1), and the
 * client's address is added to {@code X-Forwarded-For} and {@code Forwarded}. End-to-end
 * headers ({@code traceparent} and the rest) pass unchanged. {@code Transfer-Encoding} stays:
 * Netty's codec re-frames chunked bodies on the next hop exactly as they arrived. For an
 * upgrade (WebSocket), the exchange puts {@code Connection: Upgrade} and {@code Upgrade} back.
 */
final class ForwardingHeaders {

    static final List<AsciiString> HOP_BY_HOP = List.of(HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE, AsciiString.cached("proxy-connection"), HttpHeaderNames.PROXY_AUTHENTICATE,
            HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE);
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString FORWARDED = AsciiString.cached("forwarded");

    private ForwardingHeaders() {
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

    /**
     * The forwarding headers for one client connection: its address is the same for every
     * request on it, so the strings are built once per connection (and once per distinct Host),
     * not once per request.
     */
    static final class ForClient {
        private final String ip;
        private final AsciiString ipValue;
        private final String forElement;
        private final AsciiString forValue;
        private String lastHost;
        private AsciiString lastForwarded;

        ForClient(SocketAddress client) {
            this.ip = client instanceof InetSocketAddress isa && isa.getAddress() != null
                    ? isa.getAddress().getHostAddress() : "unknown";
            this.ipValue = AsciiString.of(ip);
            this.forElement = "for=" + (ip.indexOf(':') >= 0 ? "\"[" + ip + "]\"" : ip) + ";proto=http";
            this.forValue = AsciiString.of(forElement);
        }

        /** Appends this client to X-Forwarded-For and Forwarded (values as AsciiString: see AsciiValuedHeaders). */
        void addTo(HttpHeaders h, String host) {
            String xff = h.get(X_FORWARDED_FOR);
            h.set(X_FORWARDED_FOR, xff == null ? ipValue : AsciiValuedHeaders.ascii(xff + ", " + ip));
            AsciiString element;
            if (host == null) {
                element = forValue;
            } else if (host.equals(lastHost)) {
                element = lastForwarded;
            } else {
                element = AsciiValuedHeaders.ascii(forElement + ";host=\"" + host + "\"");
                lastHost = host;
                lastForwarded = element;
            }
            String fwd = h.get(FORWARDED);
            h.set(FORWARDED, fwd == null ? element : AsciiValuedHeaders.ascii(fwd + ", " + element));
        }
    }
}
