package dev.sluice.server.platform;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Optional;

/**
 * libc's {@code syscall(2)} for the few scheduler calls the JDK has no API for
 * ({@link SchedulerSlice}), reached through the Foreign Function API
 * (JDK 22+) by reflection, so the jar still compiles for and runs on JDK 17, where
 * {@link #UNAVAILABLE} says why nothing can be called.
 *
 * <h2>Implementation notes</h2>
 * The downcall handle is built once, in this class's initialisation (the JVM's class-init lock
 * makes that thread-safe), and is itself immutable; {@link #withMemory} gives each call its own
 * native buffer in a confined arena, so calls from several threads share nothing mutable.
 */
final class LinuxSyscall {

    /** Null where calls can be made, else why not. */
    static final String UNAVAILABLE;

    /** System call numbers for this machine's architecture (-1 where {@link #UNAVAILABLE}). */
    static final long SCHED_SETATTR;
    static final long SCHED_GETATTR;

    private static final MethodHandle SYSCALL;
    private static final Method OF_CONFINED;
    private static final Method ALLOCATE;
    private static final Method ADDRESS;
    private static final Method AS_BYTE_BUFFER;

    /** A call that needs native memory: its address, and a view of it in native byte order. */
    @FunctionalInterface
    interface WithMemory<R> {
        R apply(long address, ByteBuffer view) throws Throwable;
    }

    private LinuxSyscall() {
    }

    static {
        String why = null;
        long[] numbers = {-1, -1};
        MethodHandle syscall = null;
        Method ofConfined = null;
        Method allocate = null;
        Method address = null;
        Method asByteBuffer = null;
        String arch = System.getProperty("os.arch", "");
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            why = "this is not Linux";
        } else if (arch.equals("amd64") || arch.equals("x86_64")) {
            numbers = new long[] {314, 315};
        } else if (arch.equals("aarch64")) {
            numbers = new long[] {274, 275};
        } else {
            why = "no system call numbers known for " + arch;
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
        SCHED_SETATTR = numbers[0];
        SCHED_GETATTR = numbers[1];
        SYSCALL = syscall;
        OF_CONFINED = ofConfined;
        ALLOCATE = allocate;
        ADDRESS = address;
        AS_BYTE_BUFFER = asByteBuffer;
    }

    /** {@code syscall(number, a, b, c, d)}: the raw result (-1 on failure; libc keeps errno). */
    static long call(long number, long a, long b, long c, long d) throws Throwable {
        return (long) SYSCALL.invokeWithArguments(number, a, b, c, d);
    }

    /** Runs {@code body} with {@code size} bytes of zeroed native memory, freed afterwards. */
    static <R> R withMemory(long size, WithMemory<R> body) throws Throwable {
        try (AutoCloseable arena = (AutoCloseable) OF_CONFINED.invoke(null)) {
            Object segment = ALLOCATE.invoke(arena, size, 8L);
            long addr = (long) ADDRESS.invoke(segment);
            ByteBuffer view = ((ByteBuffer) AS_BYTE_BUFFER.invoke(segment)).order(ByteOrder.nativeOrder());
            return body.apply(addr, view);
        }
    }
}
