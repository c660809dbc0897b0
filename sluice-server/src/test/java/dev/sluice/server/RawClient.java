package dev.sluice.server;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A client that writes raw bytes and reads until the server closes: the wire as it is. */
public final class RawClient {

    private RawClient() {
    }

    /**
     * Sends {@code request} to 127.0.0.1:{@code port} and returns every byte the server sends
     * until it closes the connection (so a test that gets an answer also proves the close).
     */
    public static String exchange(int port, String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
