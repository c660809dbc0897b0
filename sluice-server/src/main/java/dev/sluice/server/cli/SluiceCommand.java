package dev.sluice.server.cli;

import dev.sluice.server.config.ConfigException;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.Durations;
import dev.sluice.server.config.ListenAddress;
import dev.sluice.server.config.SluiceConfig;
import dev.sluice.server.demo.Demo;
import dev.sluice.server.platform.SchedulerSlice;
import dev.sluice.server.platform.Transport;
import dev.sluice.server.runtime.ConfigWatcher;
import dev.sluice.server.runtime.SluiceServer;
import dev.sluice.server.runtime.StartupException;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

/** {@code sluice}: an activator for serverless HTTP workloads. */
@Command(name = "sluice", mixinStandardHelpOptions = true, version = "sluice 0.1.0",
        description = "An activator for serverless HTTP workloads: holds requests until a pod has a free slot.",
        subcommands = {SluiceCommand.RunCommand.class, SluiceCommand.DemoCommand.class, SluiceCommand.ValidateCommand.class})
public final class SluiceCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(SluiceCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 2;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new SluiceCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    static SluiceConfig loadOrDefault(Path file) throws ConfigException {
        if (file != null) {
            return ConfigLoader.load(file);
        }
        Path local = Path.of("sluice.yaml");
        return Files.exists(local) ? ConfigLoader.load(local) : ConfigLoader.defaults();
    }

    /** Every problem of a refused configuration, one line each: file, field, reason. */
    static void printProblems(PrintWriter err, ConfigException e) {
        for (ConfigException p : e.problems()) {
            err.println("sluice: invalid configuration: " + p.getMessage());
        }
    }

    /** {@code sluice run}: serve until SIGTERM, then shut down gracefully. */
    @Command(name = "run", mixinStandardHelpOptions = true, description = {"Run Sluice.",
        "On SIGTERM or SIGINT: /readyz fails and the proxy serves on for shutdown.drainPeriod; then it stops"
            + " accepting, answers requests still waiting for a pod at once (503 shutting-down, Retry-After), and"
            + " gives those on a pod shutdown.gracePeriod to finish."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {
                "0:stopped, and every request on a pod at the signal finished",
                "1:could not start (a port in use, an unreadable token file, ...)",
                "2:invalid configuration or option",
                "3:stopped when the grace period ran out, with requests still on a pod (they were cut)"})
    static final class RunCommand implements Callable<Integer> {
        /** {@code sluice run}'s exit status after a graceful shutdown that cut requests in flight. */
        static final int EXIT_REQUESTS_CUT = 3;

        @Option(names = {"-c", "--config"}, defaultValue = "${env:SLUICE_CONFIG}",
                description = "sluice.yaml (env SLUICE_CONFIG; default ./sluice.yaml if present)")
        Path config;

        @Option(names = "--proxy-listen", defaultValue = "${env:SLUICE_PROXY_LISTEN}",
                description = "host:port for the proxy (overrides listen.proxy; env SLUICE_PROXY_LISTEN)")
        String proxyListen;

        @Option(names = "--control-listen", defaultValue = "${env:SLUICE_CONTROL_LISTEN}",
                description = "host:port for the control API (overrides listen.control; env SLUICE_CONTROL_LISTEN)")
        String controlListen;

        @Option(names = "--control-token-file", defaultValue = "${env:SLUICE_CONTROL_TOKEN_FILE}",
                description = "file with the control API's bearer token (overrides control.tokenFile)")
        Path tokenFile;

        @Option(names = "--io-threads", defaultValue = "0",
                description = "event-loop threads for the proxy (0 = one per core)")
        int ioThreads;

        @Option(names = "--transport", defaultValue = "${env:SLUICE_TRANSPORT:-auto}",
                description = "event-loop transport: auto (io_uring, else epoll, else nio), io_uring, epoll or nio"
                        + " (env SLUICE_TRANSPORT)")
        String transport;

        @Option(names = "--io-slice", defaultValue = "${env:SLUICE_IO_SLICE:-100us}",
                description = "Linux scheduler slice for the I/O threads (100us..100ms, or 0 for the kernel's"
                        + " default; needs Linux 6.12+ and JDK 22+; env SLUICE_IO_SLICE)")
        String ioSlice;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        /** One option's value parsed, or null once what was wrong with it is printed. */
        private static <T> T option(PrintWriter err, String name, String value, Function<String, T> parser) {
            try {
                return parser.apply(value);
            } catch (IllegalArgumentException e) {
                err.println("sluice: invalid option " + name + ": " + e.getMessage());
                return null;
            }
        }

        /** Flags and environment variables win over the file. */
        SluiceConfig withOverrides(SluiceConfig c) {
            return new SluiceConfig(
                    proxyListen == null ? c.proxyListen() : ListenAddress.parse(proxyListen),
                    controlListen == null ? c.controlListen() : ListenAddress.parse(controlListen),
                    tokenFile == null ? c.controlTokenFile() : tokenFile, c.allowedPodNetworks(), c.drainPeriod(),
                    c.gracePeriod(), c.kubernetes(), c.revisions(), c.client(), c.scalerListen(), c.cluster(),
                    c.readinessChecks(), c.queueing());
        }

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            SluiceConfig c;
            try {
                c = withOverrides(loadOrDefault(config));
            } catch (ConfigException e) {
                printProblems(err, e);
                return 2;
            } catch (IllegalArgumentException e) {
                err.println("sluice: invalid option: " + e.getMessage());
                return 2;
            }
            Transport chosen = option(err, "--transport", transport, Transport::named);
            Long sliceNanos = option(err, "--io-slice", ioSlice, SchedulerSlice::parse);
            if (chosen == null || sliceNanos == null) {
                return 2;
            }
            int cores = Runtime.getRuntime().availableProcessors();
            int threads = ioThreads > 0 ? ioThreads : cores;
            SluiceServer server;
            try {
                server = SluiceServer.builder(c).controlToken(System.getenv(SluiceServer.TOKEN_ENV)).ioThreads(threads)
                        .transport(chosen).ioSliceNanos(sliceNanos).start();
            } catch (StartupException e) {
                err.println("sluice: " + e.getMessage());
                return 1;
            }
            if (!PlatformDependent.hasUnsafe()) {
                // Netty 4.2 turns Unsafe off by default on Java 25+; its buffers then cost ~10% more
                // CPU per request (docs/benchmarks.md, "Seventh session").
                LOG.warn("Netty runs without sun.misc.Unsafe ({}): ~10% more CPU per request; on Java 24+"
                        + " start the JVM with --sun-misc-unsafe-memory-access=allow (the launcher and the image do)",
                        String.valueOf(PlatformDependent.getUnsafeUnavailabilityCause()));
            }
            // SIGTERM / SIGINT start a graceful shutdown and end with status 0, or 3 if the grace
            // period cut requests (a JVM ended by the signal itself would report 143); anything
            // else ending the JVM still runs it.
            Path watched = config != null ? config : Files.exists(Path.of("sluice.yaml")) ? Path.of("sluice.yaml") : null;
            ConfigWatcher watcher = null;
            if (watched != null) {
                try {
                    watcher = new ConfigWatcher(watched, next -> server.apply(withOverrides(next)));
                } catch (IOException e) {
                    err.println("sluice: cannot watch " + watched + " for changes (" + e.getMessage()
                            + "); changes need a restart");
                }
            }
            CountDownLatch signalled = new CountDownLatch(1);
            for (String name : new String[] {"TERM", "INT"}) {
                try {
                    Signal.handle(new Signal(name), sig -> signalled.countDown());
                } catch (IllegalArgumentException unsupported) {
                    // not on this platform: the shutdown hook below covers it
                }
            }
            Thread hook = new Thread(server::shutdown, "sluice-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                signalled.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (watcher != null) {
                watcher.close();
            }
            int left = server.shutdown();
            return left == 0 ? 0 : EXIT_REQUESTS_CUT;
        }
    }

    /** {@code sluice demo}: simulated pods, Sluice in front, load, a live table and a summary. */
    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = "Run simulated pods behind Sluice under load and show what happens.")
    static final class DemoCommand implements Callable<Integer> {
        @Option(names = "--pods", defaultValue = "4",
                description = "pods the KEDA stand-in starts from zero (default ${DEFAULT-VALUE})")
        int pods;

        @Option(names = "--cc", defaultValue = "2", description = "containerConcurrency: requests per pod at once (default ${DEFAULT-VALUE})")
        int cc;

        @Option(names = "--latency", defaultValue = "50ms", description = "median pod latency (default ${DEFAULT-VALUE})")
        String latency;

        @Option(names = "--clients", defaultValue = "16", description = "concurrent clients (default ${DEFAULT-VALUE})")
        int clients;

        @Option(names = "--duration", defaultValue = "20s", description = "how long to run (default ${DEFAULT-VALUE})")
        String duration;

        @Option(names = "--cold-start", defaultValue = "2s",
                description = "how long a pod takes to start once KEDA asks (default ${DEFAULT-VALUE})")
        String coldStart;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Demo.Options options;
            try {
                options = new Demo.Options(pods, cc, Durations.parse(latency), clients,
                        Durations.parse(duration), Durations.parse(coldStart));
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("sluice: invalid option: " + e.getMessage());
                return 2;
            }
            boolean ansi = System.console() != null;
            Demo.Summary s = new Demo(options, System.out, ansi).run();
            return s.clean() ? 0 : 1;
        }
    }

    /** {@code sluice validate FILE}: check a configuration and exit. */
    @Command(name = "validate", mixinStandardHelpOptions = true, description = "Check a sluice.yaml and exit.")
    static final class ValidateCommand implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "the configuration to check")
        Path file;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try {
                SluiceConfig c = ConfigLoader.load(file);
                spec.commandLine().getOut().println(file + ": valid (" + c.revisions().size() + " revision(s))");
                return 0;
            } catch (ConfigException e) {
                printProblems(spec.commandLine().getErr(), e);
                return 2;
            }
        }
    }
}
