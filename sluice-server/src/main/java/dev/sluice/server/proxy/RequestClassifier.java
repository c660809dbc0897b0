package dev.sluice.server.proxy;

import dev.sluice.http1.RequestHead;
import dev.sluice.server.config.Queueing;
import dev.sluice.server.config.Queueing.QueueRule;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A request's priority class and tenant, by its revision's {@link Queueing}: the rules first
 * (host, path prefix, header value; the first rule that sets a class decides the class, the
 * first that sets a tenant the tenant), then the priority and tenant headers, then the
 * revision's default class and the shared tenant. A header that names a class the operator did
 * not define counts as none: clients choose only among the defined classes. Runs once per
 * request, on its event loop, and only for a revision with a {@code queueing} section
 * ({@link Queueing#plain()} requests are not looked at). Reads the head in place
 * ({@link HeadBytes}); only a value that is used is copied out.
 */
final class RequestClassifier {

    /**
     * Each header name's search key, made once: the names come from the operator's
     * configuration (never from a request), so the map stays as small as the configuration.
     */
    private static final ConcurrentHashMap<String, byte[]> KEYS = new ConcurrentHashMap<>();

    private RequestClassifier() {
    }

    /** The request's class index. */
    static int classOf(Queueing q, RequestHead req) {
        if (q.plain()) {
            return q.defaultClass();
        }
        for (QueueRule r : q.rules()) {
            if (r.cls() >= 0 && matches(r, req)) {
                return r.cls();
            }
        }
        if (q.priorityHeader() != null) {
            String v = header(req.content(), q.priorityHeader());
            if (v != null) {
                int c = q.classIndex(v);
                if (c >= 0) {
                    return c;
                }
            }
        }
        return q.defaultClass();
    }

    /** The request's tenant, or null for the shared tenant. */
    static String tenantOf(Queueing q, RequestHead req) {
        if (q.plain()) {
            return null;
        }
        for (QueueRule r : q.rules()) {
            if (r.tenant() != null && matches(r, req)) {
                return r.tenant();
            }
        }
        if (q.tenantHeader() != null) {
            String v = header(req.content(), q.tenantHeader());
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return null;
    }

    static boolean matches(QueueRule r, RequestHead req) {
        if (r.host() != null && (req.host == null || !hostOf(req.host).equalsIgnoreCase(hostOf(r.host())))) {
            return false;
        }
        if (r.pathPrefix() != null && !startsWithPath(req.content(), r.pathPrefix())) {
            return false;
        }
        if (r.header() != null) {
            String v = header(req.content(), r.header());
            return v != null && (r.value() == null || r.value().equals(v));
        }
        return true;
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
