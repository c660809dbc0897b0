package dev.sluice.server.proxy;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A lower CPU priority (a higher nice value) for the JVM's JIT compiler threads.
 *
 * <p>Why: on a machine whose cores are all busy (the 2-core load runs: the proxy, its load
 * generator and the pods), C2 recompiles hot methods whenever the traffic changes shape, and
 * its threads then take 80-750 ms of CPU in a 10 s run from the cores the I/O thread needs
 * ({@code /proc/<tid>/schedstat}). At nice 10 the scheduler gives a compiler thread about a
 * tenth of an I/O thread's share while both want a core; with idle cores it runs as before.
 * Measured in docs/benchmarks.md ("JIT threads' priority").
 *
 * <p>How: the compiler threads are found by name in {@code /proc/self/task/<tid>/comm}
 * ({@code C1 CompilerThre…}, {@code C2 CompilerThre…}) and given the nice value with
 * {@code setpriority(PRIO_PROCESS, tid, nice)}, then read back with {@code getpriority}. A
 * thread the JVM adds later is started by a compiler thread and inherits its nice value.
 * Raising a nice value needs no privilege, so this works for non-root users too (HotSpot's own
 * {@code -XX:CompilerThreadPriority} needs {@code -XX:ThreadPriorityPolicy=1}, which warns at
 * start-up unless run as root). Never throws: it is a latency tuning, not a condition for serving.
 *
 * <h2>Implementation notes</h2>
 * Stateless; each call lists the threads afresh. Concurrent calls race only in the kernel,
 * where the last {@code setpriority} wins and both ask for the same value.
 */
public final class JitThreadNice {

    /** The nice values accepted: 0 leaves the threads as they are; 19 is Linux's lowest priority. */
    public static final int MAX = 19;

    /** What {@code auto} parses to; {@link #resolve} turns it into a nice value. */
    public static final int AUTO = -1;

    /** The nice value {@code auto} gives while the I/O threads leave a core free. */
    public static final int AUTO_NICE = 10;

    private static final long PRIO_PROCESS = 0;

    /** What {@link #apply} did: the threads set, and why not, for those that were not (null: all were). */
    public record Outcome(int threads, String notSet) {
    }

    private JitThreadNice() {
    }

    /**
     * Parses a nice value for the compiler threads: a whole number 0..19, or {@code auto}
     * ({@link #AUTO}, resolved by {@link #resolve}).
     *
     * @throws IllegalArgumentException saying what was wrong
     */
    public static int parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.equalsIgnoreCase("auto")) {
            return AUTO;
        }
        int n;
        try {
            n = Integer.parseInt(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a nice value: expected auto or a whole number"
                    + " from 0 (leave the JIT threads as they are) to " + MAX);
        }
        if (n < 0 || n > MAX) {
            throw new IllegalArgumentException("nice " + n + " is outside 0.." + MAX + " (the JIT threads can only be"
                    + " given a lower priority, never a higher one)");
        }
        return n;
    }

    /**
     * The nice value to use: {@code parsed} itself, or for {@link #AUTO} {@link #AUTO_NICE} while
     * the I/O threads leave at least one core free, else 0. With every core running an I/O thread
     * under load, a reniced compiler gets almost no CPU and the JIT does not finish compiling:
     * with 2 I/O threads on 2 cores it still used 2.9-3.9 s of CPU in a 10 s run after the
     * warm-up, at nice 0 37-206 ms (docs/benchmarks.md, "Sixth session", fix 4).
     */
    public static int resolve(int parsed, int ioThreads, int cores) {
        if (parsed != AUTO) {
            return parsed;
        }
        return ioThreads < cores ? AUTO_NICE : 0;
    }

    /** Gives every JIT compiler thread of this JVM the nice value {@code nice} (1..19). */
    public static Outcome apply(int nice) {
        if (nice < 1 || nice > MAX) {
            return new Outcome(0, "nice " + nice + " is outside 1.." + MAX);
        }
        if (LinuxSyscall.UNAVAILABLE != null) {
            return new Outcome(0, LinuxSyscall.UNAVAILABLE);
        }
        List<Long> tids = compilerThreads(Path.of("/proc/self/task"));
        if (tids.isEmpty()) {
            return new Outcome(0, "no JIT compiler threads found in /proc/self/task");
        }
        int set = 0;
        String why = null;
        for (long tid : tids) {
            String r = renice(tid, nice);
            if (r == null) {
                set++;
            } else if (why == null) {
                why = r;
            }
        }
        return new Outcome(set, why);
    }

    /** The ids of the threads under {@code taskDir} named as HotSpot names its C1 and C2 compiler threads. */
    static List<Long> compilerThreads(Path taskDir) {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(taskDir)) {
            for (Path task : tasks) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm")).trim();
                } catch (IOException gone) {
                    continue; // the thread ended while we listed
                }
                if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
                    out.add(Long.parseLong(task.getFileName().toString()));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
        return out;
    }

    private static String renice(long tid, int nice) {
        try {
            long before = niceOf(tid);
            if (before == Long.MIN_VALUE) {
                return "getpriority failed for thread " + tid;
            }
            if (before >= nice) {
                return null; // already as low or lower: never raise a priority
            }
            if (LinuxSyscall.call(LinuxSyscall.SETPRIORITY, PRIO_PROCESS, tid, nice, 0L) != 0) {
                return "setpriority was refused for thread " + tid + " (a seccomp profile?)";
            }
            long after = niceOf(tid);
            return after == nice ? null : "thread " + tid + " reports nice " + after + " after setpriority";
        } catch (Throwable t) {
            return "the call failed: " + t;
        }
    }

    /** The thread's nice value, or Long.MIN_VALUE if it cannot be read. */
    private static long niceOf(long tid) throws Throwable {
        // The raw system call answers 20 - nice (1..40), unlike libc's wrapper; -1 is a failure.
        long raw = LinuxSyscall.call(LinuxSyscall.GETPRIORITY, PRIO_PROCESS, tid, 0L, 0L);
        return raw < 1 ? Long.MIN_VALUE : 20 - raw;
    }
}
