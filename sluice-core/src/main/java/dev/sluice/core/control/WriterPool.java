package dev.sluice.core.control;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The writer threads: a small fixed pool, each thread with its own ready queue of batches to
 * run. It knows nothing of revisions: a {@link RevisionMailbox} is pinned to one worker by
 * {@link #assign()} and hands that worker its batch with {@link #schedule}.
 *
 * <h2>Implementation notes</h2>
 * A ready queue is a {@link LinkedBlockingQueue}: many producers (whoever schedules a
 * mailbox), one consumer (its worker). The put/take pair is the happens-before edge from the
 * thread that scheduled a batch to the worker that runs it. The pool promises no more than
 * that: keeping a revision's batches from running concurrently is the mailbox's job (it is
 * scheduled at most once at a time, always on the same worker).
 *
 * <p>{@link #shutdown()} sets a volatile {@code stopping} flag and interrupts each worker; a
 * worker that sees it runs what is still queued (the revisions' close operations) without
 * blocking, then ends. There is never a thread per revision: thousands of revisions share the
 * pool.
 */
final class WriterPool {

    private static final System.Logger LOG = System.getLogger(WriterPool.class.getName());
    private static final long JOIN_MILLIS = TimeUnit.SECONDS.toMillis(10);

    private final Worker[] workers;
    private final AtomicInteger nextWorker = new AtomicInteger();

    WriterPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("workerThreads must be >= 1, was " + threads);
        }
        workers = new Worker[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Worker("sluice-writer-" + i);
            workers[i].start();
        }
    }

    /** The worker a new revision is pinned to, round robin. */
    int assign() {
        return Math.floorMod(nextWorker.getAndIncrement(), workers.length);
    }

    /** Queues a batch on a worker. The caller makes sure one batch is never queued twice at once. */
    void schedule(int worker, Runnable batch) {
        workers[worker].ready.add(batch);
    }

    /**
     * Lets every worker finish what is queued, then waits for it to end (up to 10 s each).
     *
     * @return false if the calling thread was interrupted while waiting (its flag is set again)
     */
    boolean shutdown() {
        for (Worker worker : workers) {
            worker.stopAfterQueue();
        }
        for (Worker worker : workers) {
            try {
                worker.join(JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** One writer thread and its queue of batches. */
    private static final class Worker extends Thread {
        final LinkedBlockingQueue<Runnable> ready = new LinkedBlockingQueue<>();
        private volatile boolean stopping;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void stopAfterQueue() {
            stopping = true;
            interrupt();
        }

        @Override
        public void run() {
            for (;;) {
                Runnable batch;
                if (stopping) {
                    batch = ready.poll();
                    if (batch == null) {
                        return;
                    }
                } else {
                    try {
                        batch = ready.take();
                    } catch (InterruptedException e) {
                        continue; // stopping was set; drain what is left
                    }
                }
                try {
                    batch.run();
                } catch (RuntimeException | Error e) {
                    // A batch handles its own failures; this only keeps the thread alive.
                    LOG.log(System.Logger.Level.ERROR, getName() + " failed outside a batch", e);
                }
            }
        }
    }
}
