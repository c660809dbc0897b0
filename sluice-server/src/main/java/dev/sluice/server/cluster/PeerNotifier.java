package dev.sluice.server.cluster;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * One thread's (the scaler's {@code sluice-scaler-peers}) short HTTP/1.1 POSTs to the other
 * replicas' control APIs, each over a kept-alive socket of its own per peer, with
 * {@code TCP_NODELAY}: the activity notices, whose latency is KEDA's {@code true} on the other
 * replicas' streams.
 *
 * <p>Why not the JDK's {@code HttpClient}, which the rest of the cluster uses: it kept its
 * connection alive too, but each exchange crossed its selector thread and its executor, which on
 * the loaded 2-core machine cost ~3 ms from {@code sendAsync} to the peer's control loop reading
 * the request (a warm round trip 1.7-4 ms against under 0.1 ms on a plain socket; measured,
 * docs/benchmarks.md). A notice is one small request whose answer matters only as success or
 * failure, so a blocking socket on the thread that already exists for it is the shortest way.
 *
 * <h2>Implementation notes</h2>
 * Not thread-safe: one thread only (the caller's executor). {@link #post} writes the request to
 * every peer first and then reads each answer, so peers are told in parallel and a slow one
 * delays only the reading of the answers after it. A socket is opened on a peer's first notice
 * and kept; one that fails (write, read, a malformed or closed answer) is closed and, when it had
 * been used before (the peer may have closed it while idle), the request is sent once more on a
 * new one: a notice is idempotent. Sockets of peers no longer given are closed. Reads time out
 * after the cluster's health timeout.
 */
final class PeerNotifier implements AutoCloseable {

    private final Duration timeout;
    private final Map<String, Link> links = new HashMap<>();

    PeerNotifier(Duration timeout) {
        this.timeout = timeout;
    }

    /**
     * POSTs {@code body} to {@code path} on each control address ({@code host:port}); tells
     * {@code failed} of each that did not answer 200, with why. Blocks for at most about twice the
     * timeout.
     */
    void post(List<String> controls, String path, String bearer, String body, BiConsumer<String, String> failed) {
        for (Iterator<Link> it = links.values().iterator(); it.hasNext(); ) {
            Link l = it.next();
            if (!controls.contains(l.control)) {
                l.close();
                it.remove();
            }
        }
        byte[] request = request(path, bearer, body);
        List<Link> sent = new ArrayList<>();
        for (String control : controls) {
            Link l = links.computeIfAbsent(control, Link::new);
            String why = l.write(request);
            if (why == null) {
                sent.add(l);
            } else {
                failed.accept(control, why);
            }
        }
        for (Link l : sent) {
            String why = l.answer(request);
            if (why != null) {
                failed.accept(l.control, why);
            }
        }
    }

    private static byte[] request(String path, String bearer, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: sluice\r\nContent-Type: application/json\r\n"
                + (bearer == null ? "" : "Authorization: " + bearer + "\r\n")
                + "Content-Length: " + b.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[h.length + b.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(b, 0, out, h.length, b.length);
        return out;
    }

    @Override
    public void close() {
        for (Link l : links.values()) {
            l.close();
        }
        links.clear();
    }

    /** One peer's kept-alive connection. */
    private final class Link {
        final String control;
        Socket socket;
        InputStream in;
        OutputStream out;
        boolean reused;

        Link(String control) {
            this.control = control;
        }

        /** Writes the request, on a new socket if needed; null, or why not. */
        String write(byte[] request) {
            try {
                reused = socket != null;
                if (socket == null) {
                    open();
                }
                out.write(request);
                out.flush();
                return null;
            } catch (IOException e) {
                close();
                return reused ? retry(request) : String.valueOf(e);
            }
        }

        /** Reads the answer to the request written; null when it was 200, else why not. */
        String answer(byte[] request) {
            try {
                return status(readResponse());
            } catch (IOException e) {
                close();
                if (!reused) {
                    return String.valueOf(e);
                }
                String why = retry(request);
                return why != null ? why : answerOnce();
            }
        }

        private String answerOnce() {
            try {
                return status(readResponse());
            } catch (IOException e) {
                close();
                return String.valueOf(e);
            }
        }

        private String retry(byte[] request) {
            reused = false;
            try {
                open();
                out.write(request);
                out.flush();
                return null;
            } catch (IOException e) {
                close();
                return String.valueOf(e);
            }
        }

        private void open() throws IOException {
            int colon = control.lastIndexOf(':');
            String host = control.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = Integer.parseInt(control.substring(colon + 1));
            Socket s = new Socket();
            try {
                s.setTcpNoDelay(true);
                s.setKeepAlive(true);
                s.setSoTimeout((int) timeout.toMillis());
                s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
                in = new BufferedInputStream(s.getInputStream());
                out = s.getOutputStream();
                socket = s;
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }

        /** The status code and body of one HTTP/1.1 answer with a Content-Length (the control API's). */
        private String[] readResponse() throws IOException {
            String status = line();
            int length = -1;
            boolean close = false;
            for (String h = line(); !h.isEmpty(); h = line()) {
                int c = h.indexOf(':');
                String name = c < 0 ? h : h.substring(0, c).trim();
                String value = c < 0 ? "" : h.substring(c + 1).trim();
                if (name.equalsIgnoreCase("content-length")) {
                    length = Integer.parseInt(value);
                } else if (name.equalsIgnoreCase("connection") && value.equalsIgnoreCase("close")) {
                    close = true;
                }
            }
            if (length < 0) {
                throw new IOException("answer without Content-Length: " + status);
            }
            byte[] body = in.readNBytes(length);
            if (body.length < length) {
                throw new IOException("connection closed in the answer's body");
            }
            if (close) {
                close();
            }
            return new String[] {status, new String(body, StandardCharsets.UTF_8)};
        }

        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream(64);
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("connection closed before the answer ended");
                }
                if (c != '\r') {
                    b.write(c);
                }
            }
            return b.toString(StandardCharsets.ISO_8859_1);
        }

        private String status(String[] response) {
            String[] parts = response[0].split(" ", 3);
            if (parts.length >= 2 && parts[1].equals("200")) {
                return null;
            }
            return response[0] + ": " + response[1].strip();
        }

        void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing is all that was left to do with it
                }
            }
            socket = null;
            in = null;
            out = null;
        }
    }
}
