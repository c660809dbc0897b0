package dev.sluice.server.runtime;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.CheckScheduler;
import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.control.ReadinessCheck;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.core.throttle.ZeroPodListener;
import dev.sluice.kubernetes.WatchStatus;
import dev.sluice.scaler.ActivitySignals;
import dev.sluice.scaler.DemandSource;
import dev.sluice.scaler.ScalerServer;
import dev.sluice.scaler.ScalerService;
import dev.sluice.server.cluster.Cluster;
import dev.sluice.server.config.KubernetesConfig;
import dev.sluice.server.config.ReadinessChecks;
import dev.sluice.server.config.ReadinessProbe;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.config.SluiceConfig;
import dev.sluice.server.control.ControlServer;
import dev.sluice.server.control.H2ReadinessCheck;
import dev.sluice.server.control.HttpReadinessCheck;
import dev.sluice.server.control.PodAddressRule;
import dev.sluice.server.control.ProtocolReadinessCheck;
import dev.sluice.server.control.StaticTokenAuthenticator;
import dev.sluice.server.metrics.SluiceMetrics;
import dev.sluice.server.platform.SchedulerSlice;
import dev.sluice.server.platform.Transport;
import dev.sluice.server.proxy.ProxyContext;
import dev.sluice.server.proxy.ProxyServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.uring.IoUring;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Sluice: control path, proxy, control API and metrics, assembled from a
 * {@link SluiceConfig} by {@link #builder}. Start reading here; the parts it wires are
 * {@link RevisionRegistry} (the running revisions), {@link ConfigReconciler} (live changes),
 * {@link KubernetesWiring} (the cluster) and {@link Lifecycle} (readiness and shutdown).
 *
 * <h2>Implementation notes</h2>
 * Threads: one acceptor loop, {@code ioThreads} event loops shared by the proxy's client and
 * upstream connections (a request never leaves its loop), a loop for the control API that also
 * runs the control path's {@code tick()} every {@code tickInterval}, and the control path's
 * writer threads. Everything that reads time reads the one injected {@link NanoClock}; only
 * the shutdown's drain and grace periods are slept on the wall clock. Fields are assigned on
 * the starting thread before {@link Builder#start} returns.
 *
 * <p>With {@code listen.scaler}, KEDA's external scaler runs on gRPC's own threads (its shaded
 * Netty); the request path pushes its "active" messages through {@link ActivitySignals}, and
 * {@link ScalerWiring} runs the signals' tick on a thread of its own.
 */
public final class SluiceServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SluiceServer.class);
    public static final String TOKEN_ENV = "SLUICE_CONTROL_TOKEN";

    private final Options options;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final EventLoopGroup controlGroup;
    private final StateManager control;
    private final CheckScheduler checks;
    private final SluiceMetrics metrics;
    private final ProxyContext proxyContext;
    private final RevisionRegistry registry;
    private final Lifecycle lifecycle;
    private final ActivitySignals signals;
    /** Where the scaler reads demand: this replica's, or with a cluster the cluster-wide figure. */
    private volatile DemandSource scalerDemand;
    /** Told when a request queued here at zero pods turned its revision active (the cluster's notices). */
    private volatile Consumer<RevisionId> activatedHere = id -> { };
    private KubernetesWiring kubernetes;
    private ScalerWiring scaler;
    /** Volatile: the EndpointSlice watches read it (on their threads) to report appProtocols. */
    private volatile ConfigReconciler reconciler;
    private ProxyServer proxy;
    private ControlServer controlApi;
    private Cluster cluster;

    /** Options for {@link SluiceServer}; {@link #start()} starts it. */
    public static final class Builder {
        private final SluiceConfig config;
        private String envToken;
        private NanoClock clock = NanoClock.system();
        private Transport transport;
        private int ioThreads = Runtime.getRuntime().availableProcessors();
        private int writerThreads = 2;
        private long ioSliceNanos;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration readinessTimeout = Duration.ofSeconds(1);
        private Duration tickInterval = Duration.ofSeconds(1);
        private Duration scalerTickInterval = Duration.ofSeconds(1);
        private Duration scalerHeartbeat = Duration.ofSeconds(5);

        private Builder(SluiceConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /** The control token from {@value #TOKEN_ENV}, or null; {@code control.tokenFile} wins. */
        public Builder controlToken(String envToken) {
            this.envToken = envToken;
            return this;
        }

        /** The clock every timeout, sweep and backoff reads (default: the system's). */
        public Builder clock(NanoClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The event-loop transport (default: {@link Transport#best()}). */
        public Builder transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        /** Event loops for client and upstream connections (default: one per core). */
        public Builder ioThreads(int n) {
            this.ioThreads = positive(n, "ioThreads");
            return this;
        }

        /** The control path's writer threads (default 2). */
        public Builder writerThreads(int n) {
            this.writerThreads = positive(n, "writerThreads");
            return this;
        }

        /** A scheduler slice for each I/O thread (0, the default, leaves the kernel's; see {@link SchedulerSlice}). */
        public Builder ioSliceNanos(long nanos) {
            this.ioSliceNanos = nanos;
            return this;
        }

        /** How long a connection to a pod may take to open (default 5 s). */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = Objects.requireNonNull(d, "connectTimeout");
            return this;
        }

        /** How long a pod's readiness probe may take (default 1 s). */
        public Builder readinessTimeout(Duration d) {
            this.readinessTimeout = Objects.requireNonNull(d, "readinessTimeout");
            return this;
        }

        /** How often the control path sweeps (stale pods, retries) and discovery is polled (default 1 s). */
        public Builder tickInterval(Duration d) {
            this.tickInterval = Objects.requireNonNull(d, "tickInterval");
            return this;
        }

        /** How often the scaler re-reads demand: the grace's resolution (default 1 s). */
        public Builder scalerTickInterval(Duration d) {
            this.scalerTickInterval = Objects.requireNonNull(d, "scalerTickInterval");
            return this;
        }

        /** How often an open StreamIsActive is sent the current answer unchanged (default 5 s). */
        public Builder scalerHeartbeat(Duration d) {
            this.scalerHeartbeat = Objects.requireNonNull(d, "scalerHeartbeat");
            return this;
        }

        /**
         * Starts Sluice.
         *
         * @throws StartupException with a message a person can act on (port in use, no token…)
         */
        public SluiceServer start() throws StartupException {
            Transport t = transport == null ? Transport.best() : transport;
            return SluiceServer.start(new Options(config, envToken, clock, t, ioThreads, writerThreads, ioSliceNanos,
                    connectTimeout, readinessTimeout, tickInterval, scalerTickInterval, scalerHeartbeat));
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be at least 1, not " + n);
            }
            return n;
        }
    }

    /** What the builder was given, fixed at {@link Builder#start()}. */
    private record Options(SluiceConfig config, String envToken, NanoClock clock, Transport transport, int ioThreads,
            int writerThreads, long ioSliceNanos, Duration connectTimeout, Duration readinessTimeout,
            Duration tickInterval, Duration scalerTickInterval, Duration scalerHeartbeat) {
    }

    private static ReadinessProbe probe(RevisionConfig c) {
        return c == null ? null : c.readinessProbe();
    }

    /** Options for a Sluice running {@code config}. */
    public static Builder builder(SluiceConfig config) {
        return new Builder(config);
    }

    private SluiceServer(Options o) {
        this.options = o;
        Transport transport = o.transport();
        this.boss = transport.newGroup(1, "sluice-accept");
        this.workers = transport.newGroup(o.ioThreads(), "sluice-io");
        this.controlGroup = transport.newGroup(1, "sluice-control");
        // The registry is assigned below; these read it (through registry()) only once revisions run.
        this.metrics = new SluiceMetrics(() -> registry().throttlers(), this::watchStatus);
        // Each revision's pods are checked in their protocol (HTTP/1.1, or HTTP/2 for h2c pods),
        // and checks of every kind go through one scheduler: bounded in the process and per revision.
        ReadinessCheck byProtocol = new ProtocolReadinessCheck(
                new HttpReadinessCheck(workers, transport.clientChannel(), o.readinessTimeout(),
                        id -> registry().readinessPath(id)),
                new H2ReadinessCheck(controlGroup, transport.clientChannel(), o.readinessTimeout(),
                        id -> registry().readinessPath(id), id -> probe(registry().config(id))),
                id -> {
                    RevisionConfig c = registry().config(id);
                    return c != null && c.h2c();
                });
        ReadinessChecks bounds = o.config().readinessChecks();
        this.checks = new CheckScheduler(byProtocol, bounds.maxInFlight(), bounds.maxInFlightPerRevision());
        this.control = new StateManager(o.writerThreads(), o.clock(), checks, metrics);
        metrics.readinessChecks(checks::inFlight, checks::waiting);
        this.proxyContext = new ProxyContext(control, o.clock(), transport.clientChannel(),
                (int) o.connectTimeout().toMillis(), metrics::refused, o.config().client(), metrics);
        metrics.clientConnections(proxyContext::connections);
        this.scalerDemand = new RegistryDemand(this::registry);
        // Both read the fields when called: with a cluster, wire() swaps in its demand and its notices.
        this.signals = new ActivitySignals(id -> scalerDemand.find(id), o.clock(), o.scalerHeartbeat(),
                id -> activatedHere.accept(id));
        this.registry = new RevisionRegistry(control, proxyContext, metrics, o.clock(),
                o.config().scalerListen() == null ? id -> ZeroPodListener.NONE : signals::listenerFor);
        this.lifecycle = new Lifecycle(registry, proxyContext);
        lifecycle.started("the accept loop", () -> boss.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        lifecycle.started("the I/O loops",
                () -> workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        lifecycle.started("the control loop",
                () -> controlGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        lifecycle.started("the control path", control::close);
    }

    private static SluiceServer start(Options o) throws StartupException {
        SluiceConfig config = o.config();
        byte[] token = StartupChecks.token(config, o.envToken());
        KubernetesConfig k8s = config.kubernetes();
        boolean podTokens = k8s != null && k8s.tokenReview();
        if (token == null && !podTokens && !config.controlListen().isLoopback()) {
            throw new StartupException("refusing to start the control API on " + config.controlListen()
                    + " without a token: set control.tokenFile or " + TOKEN_ENV
                    + ", enable kubernetes.tokenReview, or listen on loopback (e.g. 127.0.0.1:8081)");
        }
        SluiceServer s = new SluiceServer(o);
        try {
            String sliceNotSet = o.ioSliceNanos() > 0 ? s.applySlice(o.ioSliceNanos()) : null;
            s.wire(token);
            s.logStarted(sliceNotSet);
        } catch (StartupException e) {
            s.close();
            throw e;
        } catch (Exception e) {
            s.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new StartupException("cannot start: " + e, e);
        }
        return s;
    }

    /** Connects the parts, opens the revisions, binds the sockets and starts the tick. */
    private void wire(byte[] token) throws Exception {
        SluiceConfig config = options.config();
        // The watches start with the revisions, once the reconciler below exists.
        kubernetes = KubernetesWiring.connect(config.kubernetes(), control, options.clock(),
                (id, appProtocol) -> reconciler.onAppProtocol(id, appProtocol));
        if (kubernetes != null) {
            lifecycle.started("the Kubernetes client", kubernetes);
        }
        PodAuthenticator podAuth = kubernetes == null ? null : kubernetes.podTokens();
        PodAuthenticator auth = token == null && podAuth == null ? null : new StaticTokenAuthenticator(token, podAuth);
        if (config.cluster() != null && token == null && podAuth != null) {
            throw new StartupException("cluster: the replicas authenticate their handoff reports to each other with"
                    + " the control token, and there is none: set control.tokenFile or " + TOKEN_ENV
                    + " (the same on every replica)");
        }
        if (config.cluster() != null) {
            cluster = new Cluster(config.cluster(), Cluster.self(config.cluster(), config.proxyListen().toString(),
                    config.controlListen().toString()), id -> registry().get(id), metrics.registry(),
                    options.clock(), token);
            lifecycle.started("the replica set", cluster);
            registry.cluster(cluster);
            proxyContext.forwarding(cluster);
            lifecycle.onDrain(cluster::leave);
            cluster.start(); // the first view, before the revisions get owners
            if (kubernetes != null && config.cluster().peers().isEmpty()) {
                kubernetes.watchPeers(cluster.membership()); // its first list gates /readyz
                cluster.peerWatch(kubernetes::peerWatchUp, kubernetes::peerWatchFailures);
            }
            if (config.scalerListen() != null) {
                Cluster c = cluster;
                scalerDemand = c.scaler(new RegistryDemand(this::registry), signals, controlGroup,
                        options.transport().clientChannel());
                activatedHere = c::activatedHere;
            }
        } else if (config.kubernetes() != null && config.kubernetes().peers() != null) {
            LOG.warn("kubernetes.peers is set but there is no cluster: section: this replica routes on its own");
        }
        reconciler = new ConfigReconciler(config, registry, control, proxyContext,
                kubernetes == null ? null : kubernetes.discovery());
        reconciler.start();
        if (kubernetes != null) {
            kubernetes.startCatalog(reconciler::onCatalog);
        }
        proxy = StartupChecks.listen(config.proxyListen(), "listen.proxy", () -> ProxyServer.start(
                config.proxyListen().toSocketAddress(), boss, workers, options.transport(), proxyContext));
        lifecycle.started("the proxy", proxy::stopAccepting);
        PodAddressRule addresses = new PodAddressRule(this::ownAddresses, config.allowedPodNetworks());
        controlApi = StartupChecks.listen(config.controlListen(), "listen.control", () -> ControlServer.start(
                config.controlListen().toSocketAddress(), controlGroup, options.transport(), new ControlServer.Backend(
                        control, registry::routes, metrics, lifecycle::readiness, auth, addresses, cluster)));
        lifecycle.started("the control API", controlApi::close);
        long tick = options.tickInterval().toNanos();
        ScheduledFuture<?> ticker = controlGroup.next().scheduleAtFixedRate(this::tick, tick, tick,
                TimeUnit.NANOSECONDS);
        lifecycle.started("the tick", () -> ticker.cancel(false));
        if (config.scalerListen() != null) {
            ScalerServer server = StartupChecks.listen(config.scalerListen(), "listen.scaler", () -> ScalerServer.start(
                    config.scalerListen().toSocketAddress(), new ScalerService(id -> scalerDemand.find(id), signals)));
            scaler = new ScalerWiring(server, signals, options.scalerTickInterval());
            lifecycle.started("the scaler", scaler);
        }
        lifecycle.serving(proxy, kubernetes == null ? null : kubernetes::readiness);
        if (cluster != null) {
            cluster.serving(); // the others can see this replica live only from now
        }
    }

    private void logStarted(String sliceNotSet) {
        Transport transport = options.transport();
        LOG.info("Sluice serving on {}:{} (proxy) and {}:{} (control), {} transport, {} revision(s)",
                proxyAddress().getHostString(), proxyAddress().getPort(), controlAddress().getHostString(),
                controlAddress().getPort(), transport.name(), options.config().revisions().size());
        if (scaler != null) {
            LOG.info("KEDA's external scaler on {}:{} (listen.scaler)", scalerAddress().getHostString(),
                    scalerAddress().getPort());
        }
        if (!transport.name().equals("io_uring") && IoUring.unavailabilityCause() != null) {
            // Containers often forbid io_uring (seccomp): say so, since it costs ~10% CPU per request.
            LOG.info("io_uring is not available ({}); using {}", IoUring.unavailabilityCause().getMessage(),
                    transport.name());
        }
        if (options.ioSliceNanos() > 0) {
            if (sliceNotSet == null) {
                LOG.info("I/O threads run with a {} us scheduler slice", options.ioSliceNanos() / 1_000);
            } else {
                LOG.info("I/O threads keep the kernel's scheduler slice: {}", sliceNotSet);
            }
        }
    }

    private RevisionRegistry registry() {
        return registry;
    }

    private List<WatchStatus> watchStatus() {
        KubernetesWiring k = kubernetes;
        return k == null ? List.of() : k.status();
    }

    /** Sluice's own bound sockets: never a pod's address. */
    private List<InetSocketAddress> ownAddresses() {
        List<InetSocketAddress> own = new ArrayList<>(2);
        if (proxy != null) {
            own.add(proxy.address());
        }
        if (controlApi != null) {
            own.add(controlApi.address());
        }
        if (scaler != null) {
            own.add(scaler.address());
        }
        return own;
    }

    /** Sets the slice on every I/O thread; null if all took it, else the first reason one did not. */
    private String applySlice(long nanos) throws StartupException {
        String why = null;
        for (EventExecutor loop : workers) {
            try {
                String r = loop.submit(() -> SchedulerSlice.applyToCurrentThread(nanos)).get(5, TimeUnit.SECONDS);
                why = why != null ? why : r;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StartupException("interrupted while starting the I/O threads", e);
            } catch (ExecutionException | TimeoutException e) {
                why = why != null ? why : "an I/O thread did not answer: " + e;
            }
        }
        return why;
    }

    /**
     * Runs one scaler tick now, on the scaler's tick thread, and waits for it: what that thread
     * does every {@code scalerTickInterval}. For tests that decide when a tick happens (with a
     * long interval); a no-op without {@code listen.scaler}.
     */
    public void scalerTickNow() throws InterruptedException {
        ScalerWiring s = scaler;
        if (s != null) {
            s.tickNow();
        }
    }

    private void tick() {
        control.tick();
        KubernetesWiring k = kubernetes;
        if (k != null) {
            k.poll();
        }
    }

    /**
     * Applies a new, already validated configuration live; see {@link ConfigReconciler#apply}.
     *
     * @return what was kept as it was because it needs a restart (empty if all applied)
     */
    public List<String> apply(SluiceConfig next) {
        return reconciler.apply(next);
    }

    public InetSocketAddress proxyAddress() {
        return proxy.address();
    }

    public InetSocketAddress controlAddress() {
        return controlApi.address();
    }

    /** Where KEDA's external scaler listens, or null when {@code listen.scaler} is off. */
    public InetSocketAddress scalerAddress() {
        return scaler == null ? null : scaler.address();
    }

    /** The replica set, or null when Sluice runs alone (on Kubernetes, feed its membership from the peer watch). */
    public Cluster cluster() {
        return cluster;
    }

    public StateManager control() {
        return control;
    }

    /** The configuration in force: the file's, less what waits for a restart. */
    public SluiceConfig config() {
        return reconciler.config();
    }

    public boolean isReady() {
        return lifecycle.isReady();
    }

    /** Requests accepted and not yet answered. */
    public int inFlight() {
        return proxyContext.inFlight();
    }

    /** The live revisions' throttlers, by id (insertion order). */
    public Map<RevisionId, RevisionThrottler> throttlers() {
        return registry.throttlers();
    }

    /**
     * Graceful shutdown (see {@link Lifecycle}): readiness off, serve for {@code drain}, stop
     * accepting and answer the requests only waiting for a pod, wait up to {@code grace} for
     * the requests on a pod, then stop. Blocks until done.
     *
     * @return requests still in flight when the grace period ended (0 = nothing dropped)
     */
    public int shutdown(Duration drain, Duration grace) {
        return lifecycle.shutdown(drain, grace);
    }

    /** Shutdown with the configured periods. */
    public int shutdown() {
        SluiceConfig c = config();
        return shutdown(c.drainPeriod(), c.gracePeriod());
    }

    @Override
    public void close() {
        lifecycle.closeNow();
    }
}
