package dev.sluice.http1;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The oracle of the framing tests: an independent, deliberately narrow HTTP/1.1 parser for
 * what Sluice forwards (RFC 9112), written from the grammar and sharing no code with the
 * framers. It accepts only the canonical form: every line ends in CRLF, field lines are
 * {@code token ":" OWS value OWS} without control characters or folding, one Content-Length
 * of digits or one Transfer-Encoding that is exactly {@code chunked} (never both), chunk-size
 * lines of hexadecimal digits alone, trailers that are field lines. Anything else is an
 * {@link Parse#error}. A message cut short at the end of the bytes is reported incomplete,
 * not as an error: a framer that refused mid-message forwarded a prefix.
 */
final class StrictParser {

    /** One message as a strict recipient reads it. */
    static final class Message {
        String startLine;
        final List<String[]> headers = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final List<String[]> trailers = new ArrayList<>();
        /** Bytes of the wire it spans, head included. */
        int length;
        boolean complete;

        String header(String name) {
            String v = null;
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    v = v == null ? h[1] : v + "," + h[1];
                }
            }
            return v;
        }

        int count(String name) {
            return (int) headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).count();
        }

        int status() {
            return Integer.parseInt(startLine.substring(9, 12));
        }
    }

    /** The messages found, in order; {@code error} if the bytes are not canonical HTTP/1.1. */
    static final class Parse {
        final List<Message> messages = new ArrayList<>();
        String error;
    }

    private static final class Broken extends RuntimeException {
        Broken(String why) {
            super(why, null, false, false);
        }
    }

    /** Incomplete input: the bytes end inside a message. */
    private static final class Short extends RuntimeException {
        Short() {
            super(null, null, false, false);
        }
    }

    private final byte[] b;
    private int pos;

    private StrictParser(byte[] b) {
        this.b = b;
    }

    /** Requests, pipelined, as a pod reads what Sluice forwards. */
    static Parse requests(byte[] wire) {
        StrictParser p = new StrictParser(wire);
        Parse out = new Parse();
        while (p.pos < wire.length) {
            Message m = new Message();
            out.messages.add(m);
            int start = p.pos;
            try {
                m.startLine = p.line();
                if (!m.startLine.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+ [\\x21-\\x7e\\x80-\\xff]+ HTTP/1\\.[01]")) {
                    throw new Broken("request line: " + m.startLine);
                }
                p.fields(m.headers);
                boolean http11 = m.startLine.endsWith("1.1");
                if (http11 && m.count("host") != 1) {
                    throw new Broken("an HTTP/1.1 request needs exactly one Host");
                }
                p.body(m, false, false);
                m.complete = true;
            } catch (Short s) {
                m.length = wire.length - start;
                return out;
            } catch (Broken e) {
                out.error = "message " + out.messages.size() + ": " + e.getMessage();
                return out;
            }
            m.length = p.pos - start;
        }
        return out;
    }

    /**
     * The responses to one request, as a client reads what Sluice forwards: interim (1xx)
     * responses, then the final one. {@code headRequest}: the final one has no body.
     * {@code closeEnds}: the bytes end where the connection closed (a body without length
     * ends there).
     */
    static Parse responses(byte[] wire, boolean headRequest, boolean closeEnds) {
        StrictParser p = new StrictParser(wire);
        Parse out = new Parse();
        while (p.pos < wire.length) {
            Message m = new Message();
            out.messages.add(m);
            int start = p.pos;
            try {
                m.startLine = p.line();
                if (!m.startLine.matches("HTTP/1\\.1 [1-5][0-9][0-9] [\\t\\x20-\\x7e\\x80-\\xff]*")) {
                    throw new Broken("status line: " + m.startLine);
                }
                p.fields(m.headers);
                int status = m.status();
                boolean noBody = headRequest || status < 200 || status == 204 || status == 304;
                if (noBody && (status < 200 || status == 204 || status == 304) && m.count("content-length") > 0) {
                    throw new Broken("Content-Length on a " + status);
                }
                p.body(m, noBody, closeEnds);
                m.complete = true;
                m.length = p.pos - start;
                if (status == 101) {
                    return out; // what follows is the tunnel's
                }
                if (status >= 200) {
                    if (p.pos < wire.length) {
                        throw new Broken("bytes after the final response");
                    }
                    return out;
                }
            } catch (Short s) {
                m.length = wire.length - start;
                return out;
            } catch (Broken e) {
                out.error = "message " + out.messages.size() + ": " + e.getMessage();
                return out;
            }
        }
        return out;
    }

    private void body(Message m, boolean noBody, boolean closeEnds) {
        int lengths = m.count("content-length");
        int codings = m.count("transfer-encoding");
        if (lengths > 1 || codings > 1 || lengths == 1 && codings == 1) {
            throw new Broken("framing headers: " + lengths + " Content-Length, " + codings + " Transfer-Encoding");
        }
        if (codings == 1 && !m.header("transfer-encoding").equalsIgnoreCase("chunked")) {
            throw new Broken("Transfer-Encoding other than chunked: " + m.header("transfer-encoding"));
        }
        if (lengths == 1 && !m.header("content-length").matches("[0-9]{1,18}")) {
            throw new Broken("Content-Length: " + m.header("content-length"));
        }
        if (noBody) {
            return;
        }
        if (codings == 1) {
            while (true) {
                String size = line();
                if (!size.matches("[0-9a-fA-F]{1,15}")) {
                    throw new Broken("chunk-size line: " + size);
                }
                long n = Long.parseLong(size, 16);
                if (n == 0) {
                    fields(m.trailers);
                    return;
                }
                take(m, n);
                if (pos + 2 > b.length) {
                    throw new Short();
                }
                if (b[pos] != '\r' || b[pos + 1] != '\n') {
                    throw new Broken("chunk data not followed by CRLF");
                }
                pos += 2;
            }
        } else if (lengths == 1) {
            take(m, Long.parseLong(m.header("content-length")));
        } else if (m.startLine.startsWith("HTTP/")) {
            take(m, b.length - pos); // a response body delimited by the close
            if (!closeEnds) {
                throw new Short(); // not closed yet: there may be more
            }
        }
    }

    private void take(Message m, long n) {
        if (b.length - pos < n) {
            m.body.write(b, pos, b.length - pos);
            pos = b.length;
            throw new Short();
        }
        m.body.write(b, pos, (int) n);
        pos += (int) n;
    }

    /** Field lines up to the empty line: {@code token ":" OWS value OWS CRLF}. */
    private void fields(List<String[]> into) {
        while (true) {
            String l = line();
            if (l.isEmpty()) {
                return;
            }
            int colon = l.indexOf(':');
            if (colon <= 0 || !l.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                throw new Broken("field line: " + l);
            }
            String value = l.substring(colon + 1).replaceAll("^[ \\t]+|[ \\t]+$", "");
            for (char c : value.toCharArray()) {
                if (c < 0x20 && c != '\t' || c == 0x7f) {
                    throw new Broken("control character in a field value: " + l);
                }
            }
            into.add(new String[] {l.substring(0, colon).toLowerCase(Locale.ROOT), value});
        }
    }

    /** The next line, which must end in CRLF and hold no other CR or LF. */
    private String line() {
        for (int i = pos; i < b.length; i++) {
            if (b[i] == '\n') {
                if (i == pos || b[i - 1] != '\r') {
                    throw new Broken("a line not ended by CRLF");
                }
                String l = new String(b, pos, i - 1 - pos, StandardCharsets.ISO_8859_1);
                if (l.indexOf('\r') >= 0) {
                    throw new Broken("a bare CR in a line");
                }
                pos = i + 1;
                return l;
            }
        }
        throw new Short();
    }
}
