package dev.sluice.server.proxy;

/** Every {@link ProxyTest} on the NIO transport, the one every platform has. */
class ProxyOnNioTest extends ProxyTest {

    @Override
    Transport transport() {
        return Transport.nio();
    }
}
