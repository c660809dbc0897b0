package dev.sluice.server.proxy;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Optional;

/**
 * A shorter Linux scheduler slice for the calling thread (EEVDF custom slice, Linux 6.12+).
 *
 * <p>Why: where the proxy shares its cores with other busy processes, a woken I/O thread that
 * cannot pre-empt the running task waits for the next scheduler tick (4 ms at HZ=250). On the
 * 2-core load runs that wait was the p99 of the fast scenario (a plateau at 4.4 ms); a 100 µs
 * slice lets the I/O thread's wake-ups pre-empt (docs/benchmarks.md, "scheduler slice").
 *
 * <p>How: {@code sched_getattr}/{@code sched_setattr} on thread 0 (the caller), keeping its policy
 * and nice value, then read back to confirm the kernel took it. The calls go through the Foreign
 * Function API (JDK 22+) by reflection, so the jar still compiles for and runs on JDK 17, where
 * this reports why it did nothing. It never throws: a slice is a latency tuning, not a
 * condition for serving.
 *
 * <h2>Implementation notes</h2>
 * The downcall handle is built once, lazily, in {@link Native}'s class initialisation (the
 * JVM's class-init lock makes that thread-safe); each call allocates its own 48-byte buffer in
 * a confined arena, so calls from several threads share nothing mutable.
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
        if (Native.UNAVAILABLE != null) {
            return Native.UNAVAILABLE;
        }
        try {
            return Native.apply(nanos);
        } catch (Throwable t) {
            return "the call failed: " + t;
        }
    }

    /** The current thread's slice as the kernel reports it, or -1 where it cannot be read. */
    public static long currentSliceNanos() {
        if (Native.UNAVAILABLE != null) {
            return -1;
        }
        try {
            return Native.currentSlice();
        } catch (Throwable t) {
            return -1;
        }
    }

    /** The Foreign Function API reached by reflection; {@link #UNAVAILABLE} says why not. */
    private static final class Native {
        static final String UNAVAILABLE;
        private static final MethodHandle SYSCALL;
        private static final long NR_SETATTR;
        private static final long NR_GETATTR;
        private static final Method OF_CONFINED;
        private static final Method ALLOCATE;
        private static final Method ADDRESS;
        private static final Method AS_BYTE_BUFFER;

        static {
            String why = null;
            MethodHandle syscall = null;
            long set = -1;
            long get = -1;
            Method ofConfined = null;
            Method allocate = null;
            Method address = null;
            Method asByteBuffer = null;
            String arch = System.getProperty("os.arch", "");
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                why = "scheduler slices are a Linux feature";
            } else if (arch.equals("amd64") || arch.equals("x86_64")) {
                set = 314;
                get = 315;
            } else if (arch.equals("aarch64")) {
                set = 274;
                get = 275;
            } else {
                why = "no sched_setattr number known for " + arch;
            }
            if (why == null && Runtime.version().feature() < 22) {
                why = "needs JDK 22 or newer (Foreign Function API); this is JDK " + Runtime.version().feature();
            }
            if (why == null) {
                try {
                    Class<?> linkerC = Class.forName("java.lang.foreign.Linker");
                    Class<?> optionC = Class.forName("java.lang.foreign.Linker$Option");
                    Class<?> lookupC = Class.forName("java.lang.foreign.SymbolLookup");
                    Class<?> layoutC = Class.forName("java.lang.foreign.MemoryLayout");
                    Class<?> valueLayoutC = Class.forName("java.lang.foreign.ValueLayout");
                    Class<?> descriptorC = Class.forName("java.lang.foreign.FunctionDescriptor");
                    Class<?> segmentC = Class.forName("java.lang.foreign.MemorySegment");
                    Class<?> arenaC = Class.forName("java.lang.foreign.Arena");
                    Object linker = linkerC.getMethod("nativeLinker").invoke(null);
                    Object lookup = linkerC.getMethod("defaultLookup").invoke(linker);
                    Optional<?> symbol = (Optional<?>) lookupC.getMethod("find", String.class).invoke(lookup, "syscall");
                    if (symbol.isEmpty()) {
                        throw new IllegalStateException("libc has no syscall symbol");
                    }
                    // long syscall(long number, ...): the four arguments passed as variadic longs.
                    Object jLong = valueLayoutC.getField("JAVA_LONG").get(null);
                    Object args = Array.newInstance(layoutC, 5);
                    for (int i = 0; i < 5; i++) {
                        Array.set(args, i, jLong);
                    }
                    Object descriptor = descriptorC.getMethod("of", layoutC, args.getClass()).invoke(null, jLong, args);
                    Object options = Array.newInstance(optionC, 1);
                    Array.set(options, 0, optionC.getMethod("firstVariadicArg", int.class).invoke(null, 1));
                    syscall = (MethodHandle) linkerC.getMethod("downcallHandle", segmentC, descriptorC, options.getClass())
                            .invoke(linker, symbol.get(), descriptor, options);
                    ofConfined = arenaC.getMethod("ofConfined");
                    allocate = arenaC.getMethod("allocate", long.class, long.class);
                    address = segmentC.getMethod("address");
                    asByteBuffer = segmentC.getMethod("asByteBuffer");
                } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    why = "the Foreign Function API refused the call: " + c;
                }
            }
            UNAVAILABLE = why;
            SYSCALL = syscall;
            NR_SETATTR = set;
            NR_GETATTR = get;
            OF_CONFINED = ofConfined;
            ALLOCATE = allocate;
            ADDRESS = address;
            AS_BYTE_BUFFER = asByteBuffer;
        }

        static String apply(long nanos) throws Throwable {
            try (AutoCloseable arena = (AutoCloseable) OF_CONFINED.invoke(null)) {
                Object segment = ALLOCATE.invoke(arena, (long) ATTR_SIZE, 8L);
                long addr = (long) ADDRESS.invoke(segment);
                ByteBuffer attr = ((ByteBuffer) AS_BYTE_BUFFER.invoke(segment)).order(ByteOrder.nativeOrder());
                if (getattr(addr) != 0) {
                    return "sched_getattr failed";
                }
                int policy = attr.getInt(4);
                if (policy != SCHED_OTHER && policy != SCHED_BATCH) {
                    return "the thread runs under scheduling policy " + policy + ", which has no fair slice";
                }
                // Keep policy, nice and priority as read; set only the slice.
                attr.putInt(0, ATTR_SIZE).putLong(8, 0L).putLong(24, nanos).putLong(32, 0L).putLong(40, 0L);
                long r = (long) SYSCALL.invokeWithArguments(NR_SETATTR, 0L, addr, 0L, 0L);
                if (r != 0) {
                    return "sched_setattr was refused (a seccomp profile or a missing permission)";
                }
                if (getattr(addr) != 0 || attr.getLong(24) != nanos) {
                    return "the kernel kept its own slice (custom slices need Linux 6.12 or newer)";
                }
                return null;
            }
        }

        static long currentSlice() throws Throwable {
            try (AutoCloseable arena = (AutoCloseable) OF_CONFINED.invoke(null)) {
                Object segment = ALLOCATE.invoke(arena, (long) ATTR_SIZE, 8L);
                long addr = (long) ADDRESS.invoke(segment);
                ByteBuffer attr = ((ByteBuffer) AS_BYTE_BUFFER.invoke(segment)).order(ByteOrder.nativeOrder());
                return getattr(addr) == 0 ? attr.getLong(24) : -1;
            }
        }

        private static long getattr(long addr) throws Throwable {
            return (long) SYSCALL.invokeWithArguments(NR_GETATTR, 0L, addr, (long) ATTR_SIZE, 0L);
        }
    }
}
