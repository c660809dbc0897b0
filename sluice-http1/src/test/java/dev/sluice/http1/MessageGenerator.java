package dev.sluice.http1;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * HTTP/1.1 messages for the differential tests: heads with the headers that matter to framing
 * and routing, in their canonical and their odd-but-valid spellings, bodies by Content-Length
 * (one value, a list of it, repeated lines) or chunked (sizes in either case, leading zeros,
 * extensions, trailers), pipelined; and the non-canonical forms the framers must refuse (bare
 * LF, whitespace after a chunk size, control characters in extensions, trailers that are not
 * field lines, Transfer-Encoding twice). {@link Generated#valid} says whether every choice was
 * one a framer must accept, and then {@link Generated#bodies} holds each message's body.
 * {@link #mutate} then breaks a message at random bytes, after which anything may happen
 * except a broken invariant.
 */
final class MessageGenerator {

    /** A generated wire: its bytes, whether a framer must accept it whole, and each message's body. */
    record Generated(byte[] wire, boolean valid, List<String> bodies, List<Integer> statuses) {
    }

    private final Random r;
    private boolean valid = true;

    MessageGenerator(long seed) {
        this.r = new Random(seed);
    }

    private <T> T pick(List<T> options) {
        return options.get(r.nextInt(options.size()));
    }

    private boolean chance(int percent) {
        return r.nextInt(100) < percent;
    }

    /** An invalid choice, {@code percent} of the time; marks the message invalid when taken. */
    private boolean broken(int percent) {
        if (chance(percent)) {
            valid = false;
            return true;
        }
        return false;
    }

    private static final List<String> EXTRA = List.of("Accept: */*", "User-Agent: gen/1.0",
            "X-Forwarded-For: 10.0.0.1", "Forwarded: for=10.0.0.2", "Connection: keep-alive", "Keep-Alive: 5",
            "Sluice-Revision: default/model", "X-Empty:", "Cookie: a=b; c=d", "TE: trailers", "Trailer: X-T",
            "Connection: x-drop", "X-Drop: gone", "Upgrade: websocket", "x-tab:\tv\t");

    /** One to three pipelined requests. */
    Generated requests() {
        ByteArrayOutputStream w = new ByteArrayOutputStream();
        List<String> bodies = new ArrayList<>();
        for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
            String method = pick(List.of("GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "OPTIONS"));
            String version = chance(80) ? "1.1" : chance(50) ? "1.0" : pick(List.of("1.2", "1.9"));
            boolean http11 = !version.equals("1.0");
            StringBuilder head = new StringBuilder(method + " " + pick(List.of("/", "/a?b=c", "/v1/x%20y", "*"))
                    + " HTTP/" + version + "\r\n");
            if (http11 ? !broken(3) : chance(50)) {
                head.append(pick(List.of("Host: h", "host:  h.example:80 ", "HOST: x"))).append("\r\n");
            }
            for (int k = r.nextInt(4); k > 0; k--) {
                head.append(pick(EXTRA)).append("\r\n");
            }
            StringBuilder body = new StringBuilder();
            int kind = r.nextInt(3);
            if (kind == 1) {
                String data = "x".repeat(r.nextInt(40));
                body.append(data);
                int len = data.length();
                head.append(pick(List.of("Content-Length: " + len + "\r\n", "Content-Length: " + len + ", " + len + "\r\n",
                        "Content-Length: " + len + "\r\ncontent-length: " + len + "\r\n",
                        "Content-Length: 0" + len + "\r\n")));
                if (broken(3)) {
                    head.append("Content-Length: ").append(len + 1).append("\r\n");
                }
                w.writeBytes(bytes(head.append("\r\n").append(data)));
            } else if (kind == 2 && (http11 || broken(30))) {
                head.append(codings()).append("\r\n");
                w.writeBytes(bytes(head));
                w.writeBytes(bytes(chunks(body)));
            } else {
                w.writeBytes(bytes(head.append("\r\n")));
            }
            bodies.add(body.toString());
        }
        return new Generated(w.toByteArray(), valid, bodies, List.of());
    }

    /** A response, after zero to two interim ones, to a request that did not ask for an upgrade. */
    Generated response(boolean headRequest) {
        StringBuilder w = new StringBuilder();
        List<Integer> statuses = new ArrayList<>();
        for (int k = chance(20) ? 1 + r.nextInt(2) : 0; k > 0; k--) {
            int status = pick(List.of(100, 102, 103));
            statuses.add(status);
            w.append("HTTP/1.1 ").append(status).append(" Interim\r\n")
                    .append(chance(30) ? "Link: </a>\r\n" : "").append(chance(10) ? "Content-Length: 0\r\n" : "").append("\r\n");
        }
        int status = pick(List.of(200, 200, 201, 204, 304, 404, 500));
        statuses.add(status);
        String version = chance(80) ? "1.1" : chance(70) ? "1.0" : "1.2";
        w.append("HTTP/").append(version).append(' ').append(status).append(chance(90) ? " Reason\r\n" : "\r\n");
        for (int k = r.nextInt(3); k > 0; k--) {
            w.append(pick(List.of("Server: gen", "Connection: keep-alive", "Connection: close", "Keep-Alive: 5",
                    "Set-Cookie: a=b", "Connection: x-drop", "X-Drop: gone", "Proxy-Authenticate: Basic"))).append("\r\n");
        }
        StringBuilder body = new StringBuilder();
        boolean noBody = headRequest || status == 204 || status == 304;
        int kind = r.nextInt(3);
        if (kind == 1) {
            String data = "y".repeat(r.nextInt(40));
            w.append(pick(List.of("Content-Length: " + data.length(), "Content-Length: " + data.length() + ","
                    + data.length()))).append("\r\n\r\n");
            if (!noBody) {
                w.append(data);
                body.append(data);
            }
        } else if (kind == 2) {
            w.append(codings()).append("\r\n");
            if (!noBody) {
                w.append(chunks(body));
            }
        } else {
            w.append("\r\n");
            if (!noBody) {
                String data = "z".repeat(r.nextInt(20));
                w.append(data);
                body.append(data);
            }
        }
        return new Generated(bytes(w), valid, List.of(body.toString()), statuses);
    }

    private String codings() {
        if (broken(8)) {
            return pick(List.of("Transfer-Encoding: chunked, chunked\r\n", "Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n",
                    "Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: gzip\r\n"));
        }
        return pick(List.of("Transfer-Encoding: chunked\r\n", "transfer-encoding: Chunked\r\n",
                "Transfer-Encoding:  chunked \t\r\n", "Transfer-Encoding: ,chunked\r\n"));
    }

    /** A chunked body whose data is appended to {@code data}. */
    private String chunks(StringBuilder data) {
        StringBuilder c = new StringBuilder();
        for (int k = r.nextInt(4); k > 0; k--) {
            String part = "d".repeat(1 + r.nextInt(30));
            data.append(part);
            String size = Integer.toHexString(part.length());
            c.append(chance(20) ? size.toUpperCase() : size);
            if (chance(10)) {
                c.insert(c.length() - size.length(), "00");
            }
            c.append(extension()).append(lineEnd()).append(part).append(lineEnd());
        }
        c.append(chance(10) ? "000" : "0").append(extension()).append(lineEnd());
        for (int k = chance(30) ? 1 + r.nextInt(2) : 0; k > 0; k--) {
            c.append(broken(5) ? pick(List.of("GET /smuggled HTTP/1.1", "no colon", " folded", "X-A\u0001: b", "X-B: \u0000"))
                    : pick(List.of("X-Checksum: 9", "x-t:", "X-Long: " + "v".repeat(20))));
            c.append(lineEnd());
        }
        return c.append(lineEnd()).toString();
    }

    private String extension() {
        if (chance(80)) {
            return "";
        }
        if (broken(15)) {
            return pick(List.of(" ", "\t", ";a=\u0001", ";", ";a=\"b", "; a ", ";a\u0000"));
        }
        return pick(List.of(";a", ";a=b", " ;a=\"q\\\"d\"", ";x=1;y", "\t;\tn\t=\tv"));
    }

    private String lineEnd() {
        return broken(2) ? "\n" : "\r\n";
    }

    /** Breaks {@code wire} at one to four random places: a byte replaced, inserted or removed. */
    byte[] mutate(byte[] wire) {
        byte[] alphabet = "\r\n \t:;,0aF\"\u0000\u007f/1.HTTP".getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = wire;
        for (int k = 1 + r.nextInt(4); k > 0 && b.length > 0; k--) {
            int at = r.nextInt(b.length);
            byte c = chance(90) ? alphabet[r.nextInt(alphabet.length)] : (byte) r.nextInt(256);
            out.reset();
            out.write(b, 0, at);
            switch (r.nextInt(3)) {
                case 0 -> {
                    out.write(c);
                    out.write(b, at + 1, b.length - at - 1);
                }
                case 1 -> {
                    out.write(c);
                    out.write(b, at, b.length - at);
                }
                default -> out.write(b, at + 1, b.length - at - 1);
            }
            b = out.toByteArray();
        }
        return b;
    }

    /** Up to five ascending cut points strictly inside a wire of {@code length} bytes. */
    int[] cuts(int length) {
        if (length < 2) {
            return new int[0];
        }
        return r.ints(r.nextInt(6), 1, length).distinct().sorted().toArray();
    }

    private static byte[] bytes(CharSequence s) {
        return s.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
