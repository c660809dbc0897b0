package dev.sluice.core.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds a mailbox's worker in a read-only query until {@link #release()}: whatever is posted
 * meanwhile (to that mailbox or another on the same worker) waits in its inbox and is taken as
 * one batch afterwards. The query is a barrier to joining in its own mailbox only.
 */
final class HeldWriter {

    private final CountDownLatch release = new CountDownLatch(1);

    private HeldWriter() {
    }

    /** Holds {@code m}'s worker; returns once the worker is inside the query. */
    static HeldWriter hold(RevisionMailbox m) throws InterruptedException {
        HeldWriter h = new HeldWriter();
        CountDownLatch entered = new CountDownLatch(1);
        m.query(Operation.FLUSH, w -> {
            entered.countDown();
            try {
                h.release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        return h;
    }

    void release() {
        release.countDown();
    }
}
