package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.metrics.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The forwarded marks of a head as the forwarding rule reads them: how many, and the last sender. */
class ForwardMarksTest {

    private final List<String> asked = new ArrayList<>();

    private final Forwarding forwarding = new Forwarding() {
        @Override
        public byte[] markLine() {
            return new byte[0];
        }

        @Override
        public boolean fromReplica(SocketAddress remote) {
            return true;
        }

        @Override
        public void received() {
        }

        @Override
        public String target(Route route, int hops, String sender) {
            asked.add(hops + " " + sender);
            return "owner:8080";
        }

        @Override
        public void forwarded(String owner, Outcome outcome, int code) {
        }

        @Override
        public void ownerUnreachable(String ownerAddress) {
        }
    };

    private static ByteBuf head(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Test
    void countsEveryMarkAndNamesTheLastSender() {
        ByteBuf h = head("GET /work HTTP/1.1\r\nhost: x\r\nSluice-Forwarded: c\r\nx-forwarded-for: 1.2.3.4\r\n"
                + "sluice-forwarded:  b \r\n\r\n");
        assertThat(ForwardMarks.next(forwarding, null, h)).isEqualTo("owner:8080");
        assertThat(asked).containsExactly("2 b");
    }

    @Test
    void oneMarkIsOneHop() {
        ForwardMarks.next(forwarding, null, head("GET / HTTP/1.1\r\nsluice-forwarded: a\r\n\r\n"));
        assertThat(asked).containsExactly("1 a");
    }

    @Test
    void aHeaderNamedAlikeIsNotAMark() {
        ForwardMarks.next(forwarding, null, head("GET / HTTP/1.1\r\nx-sluice-forwarded: z\r\nsluice-forwarded-by: y\r\n"
                + "sluice-forwarded: a\r\n\r\n"));
        assertThat(asked).containsExactly("1 a");
    }
}
