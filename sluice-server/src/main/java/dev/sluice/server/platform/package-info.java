/**
 * Operating-system and JVM tuning for the proxy's event loops, kept apart from the data plane
 * so that {@code proxy} reads as the request's way alone. Start with {@link
 * dev.sluice.server.platform.Transport} (io_uring, epoll or NIO, chosen at start-up); then
 * {@link dev.sluice.server.platform.SchedulerSlice}, the shorter Linux scheduler slice each I/O
 * thread asks for, which reaches the kernel through {@code LinuxSyscall} (the Foreign Function
 * API by reflection, JDK 22+; on JDK 17 it says why it did nothing). Nothing here is needed to
 * serve: each tuning reports why it was not applied and the proxy runs on.
 */
package dev.sluice.server.platform;
