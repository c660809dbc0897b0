package dev.sluice.server.platform;

import java.util.Locale;

/**
 * A shorter Linux scheduler slice for the calling thread (EEVDF custom slice, Linux 6.12+).
 *
 * <p>Why: where the proxy shares its cores with other busy processes, a woken I/O thread that
 * cannot pre-empt the running task waits for the next scheduler tick (4 ms at HZ=250). On the
 * 2-core load runs that wait was the p99 of the fast scenario (a plateau at 4.4 ms); a 100 µs
 * slice lets the I/O thread's wake-ups pre-empt (docs/benchmarks.md, "scheduler slice").
 *
 * <p>How: {@code sched_getattr}/{@code sched_setattr} on thread 0 (the caller), keeping its policy
 * and nice value, then read back to confirm the kernel took it. The calls go through
 * {@link LinuxSyscall} (JDK 22+); on JDK 17 this reports why it did nothing. It never throws: a
 * slice is a latency tuning, not a condition for serving.
 *
 * <h2>Implementation notes</h2>
 * Stateless: each call works on its own 48-byte native buffer ({@link LinuxSyscall#withMemory}),
 * so calls from several threads share nothing mutable.
 */
public final class SchedulerSlice {

    /** The kernel clamps custom slices to this range; values outside it are refused here. */
    public static final long MIN_NANOS = 100_000L;
    public static final long MAX_NANOS = 100_000_000L;

    private static final int SCHED_OTHER = 0;
    private static final int SCHED_BATCH = 3;
    private static final int ATTR_SIZE = 48; // SCHED_ATTR_SIZE_VER0

    private SchedulerSlice() {
    }

    /**
     * Parses a slice: {@code 0} or {@code off} (leave the kernel's default), or a duration
     * {@code <n>us} / {@code <n>ms} between 100 µs and 100 ms.
     *
     * @return nanoseconds, 0 for "leave as is"
     * @throws IllegalArgumentException saying what was wrong
     */
    public static long parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("0") || t.equals("off")) {
            return 0;
        }
        long unit;
        String digits;
        if (t.endsWith("us")) {
            unit = 1_000L;
            digits = t.substring(0, t.length() - 2);
        } else if (t.endsWith("ms")) {
            unit = 1_000_000L;
            digits = t.substring(0, t.length() - 2);
        } else {
            throw new IllegalArgumentException("'" + text + "' is not a slice: expected 0, off, or a duration"
                    + " such as 100us or 1ms");
        }
        long n;
        try {
            n = Long.parseLong(digits.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a slice: '" + digits + "' is not a whole number");
        }
        if (n < MIN_NANOS / unit || n > MAX_NANOS / unit || n * unit < MIN_NANOS) {
            throw new IllegalArgumentException("slice " + text + " is outside what Linux accepts (100us to 100ms,"
                    + " or 0 to leave the default)");
        }
        return n * unit;
    }

    /**
     * Gives the calling thread a scheduler slice of {@code nanos}.
     *
     * @return null once the kernel confirms the slice, else why it was not set
     */
    public static String applyToCurrentThread(long nanos) {
        if (nanos < MIN_NANOS || nanos > MAX_NANOS) {
            return "slice " + nanos + " ns is outside 100us..100ms";
        }
        if (LinuxSyscall.UNAVAILABLE != null) {
            return LinuxSyscall.UNAVAILABLE;
        }
        try {
            return LinuxSyscall.withMemory(ATTR_SIZE, (addr, attr) -> {
                if (getattr(addr) != 0) {
                    return "sched_getattr failed";
                }
                int policy = attr.getInt(4);
                if (policy != SCHED_OTHER && policy != SCHED_BATCH) {
                    return "the thread runs under scheduling policy " + policy + ", which has no fair slice";
                }
                // Keep policy, nice and priority as read; set only the slice.
                attr.putInt(0, ATTR_SIZE).putLong(8, 0L).putLong(24, nanos).putLong(32, 0L).putLong(40, 0L);
                if (LinuxSyscall.call(LinuxSyscall.SCHED_SETATTR, 0L, addr, 0L, 0L) != 0) {
                    return "sched_setattr was refused (a seccomp profile or a missing permission)";
                }
                if (getattr(addr) != 0 || attr.getLong(24) != nanos) {
                    return "the kernel kept its own slice (custom slices need Linux 6.12 or newer)";
                }
                return null;
            });
        } catch (Throwable t) {
            return "the call failed: " + t;
        }
    }

    /** The current thread's slice as the kernel reports it, or -1 where it cannot be read. */
    public static long currentSliceNanos() {
        if (LinuxSyscall.UNAVAILABLE != null) {
            return -1;
        }
        try {
            return LinuxSyscall.withMemory(ATTR_SIZE, (addr, attr) -> getattr(addr) == 0 ? attr.getLong(24) : -1L);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** sched_getattr on the calling thread (id 0) into the buffer at {@code addr}. */
    private static long getattr(long addr) throws Throwable {
        return LinuxSyscall.call(LinuxSyscall.SCHED_GETATTR, 0L, addr, ATTR_SIZE, 0L);
    }
}
