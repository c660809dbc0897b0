package dev.sluice.server.platform;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;

/**
 * The event-loop transport. {@code auto} takes io_uring where the kernel offers it, then epoll,
 * then NIO: io_uring submits a loop's reads and writes in one system call, which measured ~10%
 * less CPU per proxied request than epoll (docs/benchmarks.md, "the io_uring transport").
 */
public record Transport(String name, IoHandlerFactory ioHandler, Class<? extends ServerChannel> serverChannel,
        Class<? extends Channel> clientChannel) {

    /** The names {@link #named} accepts. */
    public static final List<String> NAMES = List.of("auto", "io_uring", "epoll", "nio");

    /** The fastest transport this machine offers. */
    public static Transport best() {
        if (IoUring.isAvailable()) {
            return ioUring();
        }
        return Epoll.isAvailable() ? epoll() : nio();
    }

    /**
     * The transport by name ({@link #NAMES}).
     *
     * @throws IllegalArgumentException for an unknown name, or a transport this machine lacks (with why)
     */
    public static Transport named(String name) {
        return switch (name) {
            case "auto" -> best();
            case "io_uring" -> {
                if (!IoUring.isAvailable()) {
                    throw unavailable(name, IoUring.unavailabilityCause());
                }
                yield ioUring();
            }
            case "epoll" -> {
                if (!Epoll.isAvailable()) {
                    throw unavailable(name, Epoll.unavailabilityCause());
                }
                yield epoll();
            }
            case "nio" -> nio();
            default -> throw new IllegalArgumentException("unknown transport '" + name + "' (expected one of "
                    + String.join(", ", NAMES) + ")");
        };
    }

    private static IllegalArgumentException unavailable(String name, Throwable cause) {
        return new IllegalArgumentException("transport " + name + " is not available on this machine: "
                + (cause == null ? "unknown reason" : cause.getMessage()) + " (use auto, or nio)");
    }

    private static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class);
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class);
    }

    public static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    public MultiThreadIoEventLoopGroup newGroup(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandler);
    }
}
