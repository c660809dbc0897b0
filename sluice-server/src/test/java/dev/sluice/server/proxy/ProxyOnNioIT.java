package dev.sluice.server.proxy;

import dev.sluice.server.platform.Transport;

/** Every {@link ProxyIT} on the NIO transport, the one every platform has. */
class ProxyOnNioIT extends ProxyIT {

    @Override
    Transport transport() {
        return Transport.nio();
    }
}
