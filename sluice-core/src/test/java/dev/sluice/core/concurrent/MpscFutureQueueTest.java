package dev.sluice.core.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The queue's contract on one thread, and many producers' order and count against the one consumer. */
class MpscFutureQueueTest {

    static final class Item extends MpscFutureQueue.Node<Object> {
        final int producer;
        final int seq;

        Item(int producer, int seq) {
            this.producer = producer;
            this.seq = seq;
        }
    }

    @Test
    void firstInFirstOutAndEmptyWhenDrained() {
        MpscFutureQueue<Item> q = new MpscFutureQueue<>();
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.poll()).isNull();
        Item a = new Item(0, 1);
        Item b = new Item(0, 2);
        q.offer(a);
        q.offer(b);
        assertThat(q.isEmpty()).isFalse();
        assertThat(q.poll()).isSameAs(a);
        assertThat(q.poll()).isSameAs(b);
        assertThat(q.poll()).isNull();
        assertThat(q.isEmpty()).isTrue();
        Item c = new Item(0, 3);
        q.offer(c);
        assertThat(q.poll()).isSameAs(c);
    }

    @Test
    void everyNodeOfFourProducersArrivesOnceAndInEachProducersOrder() throws Exception {
        int producers = 4;
        int each = 50_000;
        MpscFutureQueue<Item> q = new MpscFutureQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int id = p;
            Thread t = new Thread(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                for (int i = 0; i < each; i++) {
                    q.offer(new Item(id, i));
                }
            });
            t.start();
            threads.add(t);
        }
        start.countDown();
        int[] next = new int[producers];
        int taken = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (taken < producers * each && System.nanoTime() < deadline) {
            Item item = q.poll();
            if (item == null) {
                Thread.onSpinWait();
                continue;
            }
            assertThat(item.seq).as("producer %d's order", item.producer).isEqualTo(next[item.producer]);
            next[item.producer]++;
            taken++;
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        assertThat(taken).isEqualTo(producers * each);
        assertThat(q.poll()).isNull();
        assertThat(q.isEmpty()).isTrue();
    }
}
