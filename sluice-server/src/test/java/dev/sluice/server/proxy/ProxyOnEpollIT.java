package dev.sluice.server.proxy;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.server.platform.Transport;
import io.netty.channel.epoll.Epoll;

/** Every {@link ProxyIT} on the epoll transport (Linux only; skipped elsewhere). */
class ProxyOnEpollIT extends ProxyIT {

    @Override
    Transport transport() {
        assumeTrue(Epoll.isAvailable(), "epoll is not available here");
        return Transport.named("epoll");
    }
}
