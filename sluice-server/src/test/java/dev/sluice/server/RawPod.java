package dev.sluice.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A pod that writes exactly the bytes a test scripts, for the wire cases a real HTTP server
 * would never send (no length, conflicting lengths, 1xx, a chunked body to an HTTP/1.0
 * client). It reads each request's head (and a Content-Length body), answers its readiness
 * probe at {@code /healthz}, and otherwise writes {@code script.apply(requestLine)}; a reply
 * marked {@code close} ends the connection after it.
 */
public final class RawPod implements AutoCloseable {

    /** What the pod writes for one request. */
    public record Reply(String bytes, boolean close) {
        public static Reply keep(String bytes) {
            return new Reply(bytes, false);
        }

        public static Reply thenClose(String bytes) {
            return new Reply(bytes, true);
        }
    }

    private final ServerSocket server;
    private final Function<String, Reply> script;
    private final boolean answerFirst;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<String> requestLines = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    public RawPod(Function<String, Reply> script) throws IOException {
        this(script, false);
    }

    /**
     * {@code answerFirst}: each request is answered as soon as its head came, and its body read
     * (and dropped) only after, as a server that answers without reading the body does; a reply
     * marked {@code close} then shuts the connection's output before the body is read.
     */
    public RawPod(Function<String, Reply> script, boolean answerFirst) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.script = script;
        this.answerFirst = answerFirst;
        this.acceptor = new Thread(this::accept, "raw-pod-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** Connections accepted, the readiness probe's included. */
    public int connections() {
        return connections.get();
    }

    /** Request lines of the requests that were not readiness probes, in arrival order. */
    public List<String> requestLines() {
        return requestLines;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                open.add(s);
                Thread t = new Thread(() -> serve(s), "raw-pod-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String requestLine = head.substring(0, head.indexOf("\r\n"));
                int length = contentLength(head);
                if (!answerFirst) {
                    in.readNBytes(length);
                }
                Reply r;
                if (requestLine.contains(" /healthz ")) {
                    r = Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                } else {
                    requestLines.add(requestLine);
                    r = script.apply(requestLine);
                }
                out.write(r.bytes().getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (answerFirst && r.close()) {
                    s.shutdownOutput(); // the answer ends here; the body is read after it (no reset)
                }
                if (answerFirst) {
                    in.readNBytes(length);
                }
                if (r.close()) {
                    return;
                }
            }
        } catch (IOException gone) {
            // the proxy closed the connection
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            b.write(c);
            state = c == '\r' && (state == 0 || state == 2) ? state + 1 : c == '\n' && (state == 1 || state == 3) ? state + 1 : 0;
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                return Integer.parseInt(line.substring(colon + 1).trim());
            }
        }
        return 0;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
