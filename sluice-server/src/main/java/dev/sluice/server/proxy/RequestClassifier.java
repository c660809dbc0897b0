package dev.sluice.server.proxy;

import dev.sluice.http1.RequestHead;
import dev.sluice.server.config.Queueing;
import dev.sluice.server.config.Queueing.QueueRule;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A request's priority class and tenant, by its revision's {@link Queueing}: the rules first
 * (host, path prefix, header value; the first rule that sets a class decides the class, the
 * first that sets a tenant the tenant), then the priority and tenant headers, then the
 * revision's default class and the shared tenant. A header that names a class the operator did
 * not define counts as none: clients choose only among the defined classes. Runs once per
 * request, on its event loop, and only for a revision with a {@code queueing} section
 * ({@link Queueing#plain()} requests are not looked at). An HTTP/1.1 head is read in place
 * ({@link HeadBytes}), an HTTP/2 request's fields as they came (a relayed stream's); either
 * way only a value that is used is copied out.
 */
final class RequestClassifier {

    /**
     * Each header name's search key, made once: the names come from the operator's
     * configuration (never from a request), so the map stays as small as the configuration.
     */
    private static final ConcurrentHashMap<String, byte[]> KEYS = new ConcurrentHashMap<>();
    /** The same names lowered, as HTTP/2 fields are looked up. */
    private static final ConcurrentHashMap<String, AsciiString> LOWER = new ConcurrentHashMap<>();
    private static final AsciiString HOST = AsciiString.cached("host");

    private RequestClassifier() {
    }

    /** What the rules read of a request, whichever protocol brought it. */
    private interface Fields {
        /** The {@code Host} (HTTP/2: {@code :authority}), or null. */
        String host();

        boolean pathStartsWith(String prefix);

        /** The value of the first field called {@code name} (trimmed), or null. */
        String header(String name);
    }

    /** The request's class index. */
    static int classOf(Queueing q, RequestHead req) {
        return q.plain() ? q.defaultClass() : classOf(q, new Head(req));
    }

    /** An HTTP/2 request's class index (its fields as the client sent them). */
    static int classOf(Queueing q, Http2Headers h) {
        return q.plain() ? q.defaultClass() : classOf(q, new H2(h));
    }

    /** The request's tenant, or null for the shared tenant. */
    static String tenantOf(Queueing q, RequestHead req) {
        return q.plain() ? null : tenantOf(q, new Head(req));
    }

    /** An HTTP/2 request's tenant, or null for the shared tenant. */
    static String tenantOf(Queueing q, Http2Headers h) {
        return q.plain() ? null : tenantOf(q, new H2(h));
    }

    private static int classOf(Queueing q, Fields req) {
        for (QueueRule r : q.rules()) {
            if (r.cls() >= 0 && matches(r, req)) {
                return r.cls();
            }
        }
        if (q.priorityHeader() != null) {
            String v = req.header(q.priorityHeader());
            if (v != null) {
                int c = q.classIndex(v);
                if (c >= 0) {
                    return c;
                }
            }
        }
        return q.defaultClass();
    }

    private static String tenantOf(Queueing q, Fields req) {
        for (QueueRule r : q.rules()) {
            if (r.tenant() != null && matches(r, req)) {
                return r.tenant();
            }
        }
        if (q.tenantHeader() != null) {
            String v = req.header(q.tenantHeader());
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return null;
    }

    private static boolean matches(QueueRule r, Fields req) {
        String host = req.host();
        if (r.host() != null && (host == null || !hostOf(host).equalsIgnoreCase(hostOf(r.host())))) {
            return false;
        }
        if (r.pathPrefix() != null && !req.pathStartsWith(r.pathPrefix())) {
            return false;
        }
        if (r.header() != null) {
            String v = req.header(r.header());
            return v != null && (r.value() == null || r.value().equals(v));
        }
        return true;
    }

    /** An HTTP/1.1 head, read in place. */
    private record Head(RequestHead req) implements Fields {
        @Override
        public String host() {
            return req.host;
        }

        @Override
        public boolean pathStartsWith(String prefix) {
            return startsWithPath(req.content(), prefix);
        }

        @Override
        public String header(String name) {
            return RequestClassifier.header(req.content(), name);
        }
    }

    /** An HTTP/2 request's fields (names in lower case, as HTTP/2 has them). */
    private record H2(Http2Headers h) implements Fields {
        @Override
        public String host() {
            CharSequence a = h.authority();
            if (a == null) {
                a = h.get(HOST);
            }
            return a == null ? null : a.toString();
        }

        @Override
        public boolean pathStartsWith(String prefix) {
            CharSequence p = h.path();
            if (p == null || p.length() < prefix.length()) {
                return false;
            }
            for (int k = 0; k < prefix.length(); k++) {
                if (p.charAt(k) != prefix.charAt(k)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String header(String name) {
            CharSequence v = h.get(LOWER.computeIfAbsent(name, n -> AsciiString.of(n.toLowerCase(Locale.ROOT))));
            return v == null ? null : v.toString().strip();
        }
    }

    private static String hostOf(String host) {
        int colon = host.lastIndexOf(':');
        return colon > 0 && host.indexOf(']') < colon ? host.substring(0, colon) : host;
    }

    /** Whether the request line's target starts with {@code prefix}. */
    private static boolean startsWithPath(ByteBuf head, String prefix) {
        int i = head.readerIndex();
        int end = head.writerIndex();
        while (i < end && head.getByte(i) != ' ') {
            i++;
        }
        i++;
        if (i + prefix.length() > end) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (head.getByte(i + k) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** The value of the first field called {@code name} (trimmed), or null. */
    private static String header(ByteBuf head, String name) {
        int v = HeadBytes.valueOf(head, KEYS.computeIfAbsent(name, HeadBytes::key));
        if (v < 0) {
            return null;
        }
        int e = v;
        while (e < head.writerIndex() && head.getByte(e) != '\r' && head.getByte(e) != '\n') {
            e++;
        }
        while (e > v && (head.getByte(e - 1) == ' ' || head.getByte(e - 1) == '\t')) {
            e--;
        }
        return head.toString(v, e - v, StandardCharsets.US_ASCII);
    }
}
