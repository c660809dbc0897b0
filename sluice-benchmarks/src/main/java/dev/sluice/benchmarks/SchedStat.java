package dev.sluice.benchmarks;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A thread's scheduler statistics from Linux's {@code /proc/<pid>/task/<tid>/schedstat}: time
 * on a core and time runnable but waiting for one, in nanoseconds. A benchmark reads them
 * around its measured work to tell its threads' own work from their wait for a core. Elsewhere
 * (no such file) every figure is 0.
 */
final class SchedStat {

    private final Path file;

    private SchedStat(Path file) {
        this.file = file;
    }

    /** The calling thread's. */
    static SchedStat currentThread() {
        return new SchedStat(Path.of("/proc/thread-self/schedstat"));
    }

    /** The first thread of this process whose name starts with {@code prefix} (as the kernel keeps it: 15 characters). */
    static SchedStat threadNamed(String prefix) {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                if (Files.readString(task.resolve("comm")).strip().startsWith(prefix)) {
                    return new SchedStat(task.resolve("schedstat"));
                }
            }
        } catch (IOException e) {
            // not Linux, or no /proc: figures are 0
        }
        return new SchedStat(null);
    }

    /** {time on a core, time waiting for one}, in nanoseconds since the thread started. */
    long[] read() {
        if (file == null) {
            return new long[2];
        }
        try {
            String[] f = Files.readString(file).strip().split(" ");
            return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
        } catch (IOException | RuntimeException e) {
            return new long[2];
        }
    }
}
