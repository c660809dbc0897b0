package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.throttle.ZeroPodListener;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RouteOwnerTest {

    private final AtomicInteger told = new AtomicInteger();
    private final RouteOwner owner = new RouteOwner(new ZeroPodListener() {
        @Override
        public void queuedWithNoPod() {
            told.incrementAndGet();
        }

        @Override
        public void podsRoutable() {
        }
    });

    @Test
    void aForwardAtZeroPodsIsToldToTheScalerSignalAndOneWithPodsIsNot() {
        owner.forwardingAtZeroPods(3);
        assertThat(told).hasValue(0);
        owner.forwardingAtZeroPods(0);
        owner.forwardingAtZeroPods(0);
        assertThat(told).as("each forward at zero pods; the signal itself keeps only the edge").hasValue(2);
    }
}
