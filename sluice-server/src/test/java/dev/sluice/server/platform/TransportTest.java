package dev.sluice.server.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

class TransportTest {

    @Test
    void autoTakesTheFastestTheMachineOffers() {
        String expected = IoUring.isAvailable() ? "io_uring" : Epoll.isAvailable() ? "epoll" : "nio";
        assertThat(Transport.named("auto").name()).isEqualTo(expected);
        assertThat(Transport.best().name()).isEqualTo(expected);
    }

    @Test
    void eachNamedTransportIsThatOneOrSaysWhyNot() {
        for (String name : Transport.NAMES.subList(1, Transport.NAMES.size())) {
            boolean available = switch (name) {
                case "io_uring" -> IoUring.isAvailable();
                case "epoll" -> Epoll.isAvailable();
                default -> true;
            };
            if (available) {
                assertThat(Transport.named(name).name()).isEqualTo(name);
            } else {
                assertThatThrownBy(() -> Transport.named(name)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageStartingWith("transport " + name + " is not available on this machine: ");
            }
        }
    }

    @Test
    void anUnknownNameListsTheChoices() {
        assertThatThrownBy(() -> Transport.named("kqueue")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown transport 'kqueue' (expected one of auto, io_uring, epoll, nio)");
    }
}
