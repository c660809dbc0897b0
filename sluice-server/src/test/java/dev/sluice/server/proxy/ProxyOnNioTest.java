package dev.sluice.server.proxy;

import dev.sluice.server.platform.Transport;

/** Every {@link ProxyTest} on the NIO transport, the one every platform has. */
class ProxyOnNioTest extends ProxyTest {

    @Override
    Transport transport() {
        return Transport.nio();
    }
}
