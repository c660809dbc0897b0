package dev.sluice.server.proxy;

import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;

/**
 * Flushes once per event-loop turn what the relayed HTTP/2 streams wrote during it: every
 * connection written to asks for a flush ({@link Target#flushSoon}), and one task, run by the
 * loop after the turn's reads, flushes each of them once. So the answers of many streams that
 * one pod read brings, and the requests one client read brings, leave in one write per
 * connection rather than one per stream.
 *
 * <h2>Implementation notes</h2>
 * One per event loop (in its {@link UpstreamPool}), used by that loop's thread only: plain
 * fields. A target remembers that it is queued, so it is queued once per turn; the task is
 * submitted once per turn (in the loop, no wake-up).
 */
final class LoopFlusher implements Runnable {

    /** A connection (or the context writes to it go through) that flushes through this flusher. */
    static final class Target {
        private final LoopFlusher flusher;
        private final ChannelOutboundInvoker out;
        private boolean queued;

        Target(LoopFlusher flusher, ChannelOutboundInvoker out) {
            this.flusher = flusher;
            this.out = out;
        }

        /** Flushes at the end of this loop turn. */
        void flushSoon() {
            if (!queued) {
                queued = true;
                flusher.add(this);
            }
        }

        private void flushNow() {
            queued = false;
            out.flush();
        }
    }

    private final EventLoop loop;
    private final List<Target> due = new ArrayList<>(16);
    private boolean scheduled;

    LoopFlusher(EventLoop loop) {
        this.loop = loop;
    }

    private void add(Target t) {
        due.add(t);
        if (!scheduled) {
            scheduled = true;
            loop.execute(this);
        }
    }

    @Override
    public void run() {
        for (int i = 0; i < due.size(); i++) {
            due.get(i).flushNow();
        }
        due.clear();
        scheduled = false;
    }
}
