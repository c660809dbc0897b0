package dev.sluice.server.runtime;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.KubernetesDiscovery;
import dev.sluice.kubernetes.RevisionCatalog;
import dev.sluice.kubernetes.TokenReviewAuthenticator;
import dev.sluice.kubernetes.WatchStatus;
import dev.sluice.server.config.ConfigException;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.KubernetesConfig;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.config.SluiceConfig;
import dev.sluice.server.control.ControlServer;
import dev.sluice.server.control.HttpReadinessCheck;
import dev.sluice.server.control.PodAddressRule;
import dev.sluice.server.control.StaticTokenAuthenticator;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import dev.sluice.server.metrics.SluiceMetrics;
import dev.sluice.server.platform.SchedulerSlice;
import dev.sluice.server.platform.Transport;
import dev.sluice.server.proxy.ProxyContext;
import dev.sluice.server.proxy.ProxyServer;
import dev.sluice.server.proxy.Route;
import dev.sluice.server.proxy.Routes;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.channel.uring.IoUring;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Sluice: control path, proxy, control API and metrics, assembled from a
 * {@link SluiceConfig}.
 *
 * <h2>Implementation notes</h2>
 * Threads: one acceptor loop, {@code workers} event loops shared by the proxy's client and
 * upstream connections (a request never leaves its loop), a small loop group for the control
 * API, and the control path's two writer threads. The control path's {@code tick()} runs
 * every second on the control loop. Shutdown order: {@code /readyz} fails at once; the proxy
 * keeps serving for the drain period (so load balancers stop sending); then it stops
 * accepting and answers requests still waiting for a pod at once (503 {@code shutting-down}:
 * with no pod free by now, waiting on would only cut them at the end of the grace period);
 * requests on a pod get the grace period; then the control path closes (any
 * request still waiting is answered 503 {@code shutting-down}) and the loops stop.
 *
 * <p>On Kubernetes: a fabric8 client (JDK HTTP), one EndpointSlice watch per revision that names
 * a Service, optionally a catalogue of labelled Services, and two threads for TokenReview calls.
 * Revisions come from two places, the file and the catalogue; {@link #applyRevisions} is the one
 * place that turns the wanted set into running revisions, whichever changed. A revision in the
 * file wins over a discovered one of the same name.
 */
public final class SluiceServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SluiceServer.class);
    public static final String TOKEN_ENV = "SLUICE_CONTROL_TOKEN";

    private volatile SluiceConfig config;
    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final EventLoopGroup controlGroup;
    private final StateManager control;
    private final SluiceMetrics metrics;
    private final ProxyContext proxyContext;
    private final Map<RevisionId, RevisionThrottler> throttlers = new ConcurrentHashMap<>();
    private final Map<RevisionId, String> readinessPaths = new ConcurrentHashMap<>();
    private ProxyServer proxy;
    private ControlServer controlApi;
    private ScheduledFuture<?> ticker;
    private KubernetesClient kube;
    private KubernetesDiscovery discovery;
    private RevisionCatalog catalog;
    private ExecutorService reviewExecutor;
    private final Map<RevisionId, RevisionConfig> discovered = new ConcurrentHashMap<>();
    private volatile boolean ready;
    private volatile boolean closed;

    private SluiceServer(SluiceConfig config, Transport transport, int workerThreads) {
        this.config = config;
        this.transport = transport;
        this.boss = transport.newGroup(1, "sluice-accept");
        this.workers = transport.newGroup(workerThreads, "sluice-io");
        this.controlGroup = transport.newGroup(1, "sluice-control");
        this.metrics = new SluiceMetrics(() -> throttlers,
                () -> discovery == null ? List.<WatchStatus>of() : discovery.status());
        this.control = new StateManager(2, NanoClock.system(),
                new HttpReadinessCheck(Duration.ofSeconds(1), readinessPaths::get), metrics);
        this.proxyContext = new ProxyContext(control, NanoClock.system(), transport.clientChannel(), 5_000,
                metrics::refused, config.client(), metrics);
        metrics.clientConnections(proxyContext::connections);
    }

    /**
     * Starts Sluice.
     *
     * @param envToken the token from {@value #TOKEN_ENV}, or null
     * @throws StartupException with a message a person can act on (port in use, no token…)
     */
    public static SluiceServer start(SluiceConfig config, String envToken, int workerThreads)
            throws StartupException {
        return start(config, envToken, workerThreads, Transport.best());
    }

    /** As {@link #start(SluiceConfig, String, int)}, on the given event-loop transport. */
    public static SluiceServer start(SluiceConfig config, String envToken, int workerThreads, Transport transport)
            throws StartupException {
        return start(config, envToken, workerThreads, transport, 0);
    }

    /**
     * As {@link #start(SluiceConfig, String, int, Transport)}, asking the kernel for an
     * {@code ioSliceNanos} scheduler slice on each I/O thread (0 leaves the default; see
     * {@link SchedulerSlice}).
     */
    public static SluiceServer start(SluiceConfig config, String envToken, int workerThreads, Transport transport,
            long ioSliceNanos) throws StartupException {
        byte[] token = token(config, envToken);
        KubernetesConfig k8s = config.kubernetes();
        boolean podTokens = k8s != null && k8s.tokenReview();
        if (token == null && !podTokens && !config.controlListen().isLoopback()) {
            throw new StartupException("refusing to start the control API on " + config.controlListen()
                    + " without a token: set control.tokenFile or " + TOKEN_ENV
                    + ", enable kubernetes.tokenReview, or listen on loopback (e.g. 127.0.0.1:8081)");
        }
        SluiceServer s = new SluiceServer(config, transport, workerThreads);
        String sliceNotSet = ioSliceNanos > 0 ? s.applySlice(ioSliceNanos) : null;
        try {
            PodAuthenticator podAuth = null;
            if (k8s != null) {
                s.kube = client(k8s);
                s.discovery = KubernetesDiscovery.feeding(s.kube, s.control);
                if (podTokens) {
                    s.reviewExecutor = Executors.newFixedThreadPool(2, r -> {
                        Thread t = new Thread(r, "sluice-tokenreview");
                        t.setDaemon(true);
                        return t;
                    });
                    podAuth = new TokenReviewAuthenticator(s.kube, s.discovery, k8s.audiences(), NanoClock.system(),
                            s.reviewExecutor);
                }
            }
            PodAuthenticator auth = token == null && podAuth == null ? null : new StaticTokenAuthenticator(token, podAuth);
            s.applyRevisions(config.revisions());
            if (k8s != null && k8s.discoverRevisions()) {
                s.catalog = new RevisionCatalog(s.kube, k8s.namespace(), s::onCatalog);
                s.catalog.start();
            }
            s.proxy = listen(config.proxyListen(), "listen.proxy", () -> ProxyServer.start(
                    config.proxyListen().toSocketAddress(), s.boss, s.workers, transport, s.proxyContext));
            PodAddressRule addresses = new PodAddressRule(s::ownAddresses, config.allowedPodNetworks());
            s.controlApi = listen(config.controlListen(), "listen.control", () -> ControlServer.start(
                    config.controlListen().toSocketAddress(), s.controlGroup, transport, new ControlServer.Backend(
                            s.control, s.proxyContext::routes, s.metrics, s::readiness, auth, addresses)));
            s.ticker = s.controlGroup.next().scheduleAtFixedRate(s::tick, 1, 1, TimeUnit.SECONDS);
            s.ready = true;
        } catch (StartupException e) {
            s.closeNow();
            throw e;
        } catch (Exception e) {
            s.closeNow();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new StartupException("cannot start: " + e, e);
        }
        LOG.info("Sluice serving on {}:{} (proxy) and {}:{} (control), {} transport, {} revision(s)",
                s.proxyAddress().getHostString(), s.proxyAddress().getPort(), s.controlAddress().getHostString(),
                s.controlAddress().getPort(), transport.name(), config.revisions().size());
        if (!transport.name().equals("io_uring") && IoUring.unavailabilityCause() != null) {
            // Containers often forbid io_uring (seccomp): say so, since it costs ~10% CPU per request.
            LOG.info("io_uring is not available ({}); using {}", IoUring.unavailabilityCause().getMessage(),
                    transport.name());
        }
        if (ioSliceNanos > 0) {
            if (sliceNotSet == null) {
                LOG.info("I/O threads run with a {} us scheduler slice", ioSliceNanos / 1_000);
            } else {
                LOG.info("I/O threads keep the kernel's scheduler slice: {}", sliceNotSet);
            }
        }
        return s;
    }

    private interface Bind<T> {
        T bind() throws Exception;
    }

    /**
     * Binds one listen socket; a failure says which address, which setting and the OS reason,
     * not the transport's {@code bind(..) failed with error(-98)}.
     */
    private static <T> T listen(dev.sluice.server.config.ListenAddress address, String field, Bind<T> bind)
            throws Exception {
        try {
            return bind.bind();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            String reason = bindFailure(e);
            if (reason == null) {
                throw e;
            }
            throw new StartupException("cannot listen on " + address + " (" + field + "): " + reason, e);
        }
    }

    /** The OS reason a bind failed, in words, or null when the failure was not a bind. */
    static String bindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (m.contains("address already in use") || m.contains("error(-98)")) {
                return "address already in use";
            }
            if (m.contains("permission denied") || m.contains("error(-13)")) {
                return "permission denied (ports below 1024 need privileges)";
            }
            if (m.contains("cannot assign requested address") || m.contains("error(-99)")) {
                return "cannot assign requested address (not an address of this machine)";
            }
            if (t instanceof BindException || m.contains("bind(")) {
                return t.getMessage();
            }
        }
        return null;
    }

    /** Sluice's own bound sockets: never a pod's address. */
    private List<java.net.InetSocketAddress> ownAddresses() {
        List<java.net.InetSocketAddress> own = new ArrayList<>(2);
        if (proxy != null) {
            own.add(proxy.address());
        }
        if (controlApi != null) {
            own.add(controlApi.address());
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
                closeNow();
                throw new StartupException("interrupted while starting the I/O threads", e);
            } catch (ExecutionException | TimeoutException e) {
                why = why != null ? why : "an I/O thread did not answer: " + e;
            }
        }
        return why;
    }

    private static byte[] token(SluiceConfig config, String envToken) throws StartupException {
        String t = envToken;
        if (config.controlTokenFile() != null) {
            try {
                t = Files.readString(config.controlTokenFile()).trim();
            } catch (java.nio.file.NoSuchFileException e) {
                throw new StartupException("cannot read control.tokenFile " + config.controlTokenFile()
                        + ": no such file");
            } catch (java.nio.file.AccessDeniedException e) {
                throw new StartupException("cannot read control.tokenFile " + config.controlTokenFile()
                        + ": permission denied");
            } catch (IOException e) {
                throw new StartupException("cannot read control.tokenFile " + config.controlTokenFile() + ": "
                        + e.getMessage());
            }
            if (t.isEmpty()) {
                throw new StartupException("control.tokenFile " + config.controlTokenFile() + " is empty");
            }
        }
        return t == null || t.isBlank() ? null : t.trim().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * In-cluster or kubeconfig settings, with short retries: a pod's preStop hook waits on a
     * TokenReview, so an unreachable API server must answer 503 within seconds, not after
     * fabric8's default ten exponential retries. Watches reconnect on their own schedule.
     */
    private static KubernetesClient client(KubernetesConfig k8s) {
        ConfigBuilder b = new ConfigBuilder(Config.autoConfigure(null)).withRequestRetryBackoffLimit(2)
                .withRequestRetryBackoffInterval(200).withConnectionTimeout(5_000).withRequestTimeout(10_000);
        if (k8s.masterUrl() != null) {
            b.withMasterUrl(k8s.masterUrl());
        }
        return new KubernetesClientBuilder().withConfig(b.build()).build();
    }

    private void tick() {
        control.tick();
        if (discovery != null) {
            discovery.poll();
        }
    }

    /** {@code /readyz}: not while shutting down, nor before every discovery has listed once. */
    ControlServer.Readiness readiness() {
        if (!ready) {
            return new ControlServer.Readiness(false, closed ? "stopped\n" : "shutting down\n");
        }
        if (discovery == null) {
            return new ControlServer.Readiness(true, "ready\n");
        }
        StringBuilder detail = new StringBuilder();
        boolean synced = catalog == null || catalog.synced();
        if (catalog != null) {
            detail.append("revision catalogue (Services labelled ").append(RevisionCatalog.REVISION_LABEL).append("): ")
                    .append(!synced ? "waiting for the first list" : catalog.watching() ? "watching"
                            : "watch down, keeping the revisions it had")
                    .append(", ").append(catalog.failures()).append(" failure(s)\n");
        }
        for (WatchStatus w : discovery.status()) {
            synced &= w.synced();
            detail.append(w.describe()).append('\n');
        }
        return new ControlServer.Readiness(synced, (synced ? "ready\n" : "not ready\n") + detail);
    }

    /** The catalogue of labelled Services changed: validate each, then apply the whole set. */
    private void onCatalog(List<DiscoveredRevision> found) {
        Map<RevisionId, RevisionConfig> next = new LinkedHashMap<>();
        for (DiscoveredRevision d : found) {
            try {
                next.put(d.id(), ConfigLoader.revision(d));
            } catch (ConfigException e) {
                RevisionConfig before = discovered.get(d.id());
                LOG.warn("{} is not applied: {}{}", d.id(), e.getMessage(),
                        before == null ? "" : " (its previous settings stay in force)");
                if (before != null) {
                    next.put(d.id(), before);
                }
            }
        }
        synchronized (this) {
            discovered.clear();
            discovered.putAll(next);
            List<String> restart = applyRevisions(config.revisions());
            if (!restart.isEmpty()) {
                LOG.warn("discovered revision changes kept until a restart: {}", String.join("; ", restart));
            }
        }
    }

    /**
     * Applies a new, already validated configuration live: revisions that disappeared are
     * closed (their waiting requests get 503 {@code revision-closed}), new ones are opened,
     * changed static pod lists go through the control path's recalculation, a changed
     * containerConcurrency is applied by the revision's writer, and hosts and timeouts take
     * effect with the new routing table. What cannot change without a restart (listen
     * addresses, the control token, the Kubernetes section, a revision's policy, queue depth or
     * max-scale) is kept as it was, and each such difference is returned.
     *
     * @return what was kept as it was because it needs a restart (empty if all applied)
     */
    public synchronized List<String> apply(SluiceConfig next) {
        List<String> needsRestart = new ArrayList<>();
        SluiceConfig current = this.config;
        if (!next.proxyListen().equals(current.proxyListen()) || !next.controlListen().equals(current.controlListen())) {
            needsRestart.add("listen addresses");
        }
        if (!java.util.Objects.equals(next.controlTokenFile(), current.controlTokenFile())) {
            needsRestart.add("control.tokenFile");
        }
        List<RevisionConfig> fileRevisions = next.revisions();
        if (fileRevisions.isEmpty() && !current.revisions().isEmpty()) {
            // Legal ('revisions: []'), but rarely meant: every request for them will get 404.
            LOG.warn("the new configuration has no revisions: removing all {} revision(s) of the file",
                    current.revisions().size());
        }
        if (!java.util.Objects.equals(next.kubernetes(), current.kubernetes())) {
            needsRestart.add("the kubernetes section");
        }
        if (discovery == null && fileRevisions.stream().anyMatch(r -> r.service() != null)) {
            needsRestart.add("revisions naming a service (Sluice started without Kubernetes)");
            fileRevisions = fileRevisions.stream().filter(r -> r.service() == null).toList();
        }
        needsRestart.addAll(applyRevisions(fileRevisions));
        // What runs, which differs from the file where a change waits for a restart.
        Map<RevisionId, RevisionConfig> running = new java.util.HashMap<>();
        proxyContext.routes().all().forEach(r -> running.put(r.config().id(), r.config()));
        List<RevisionConfig> kept = fileRevisions.stream().map(r -> running.getOrDefault(r.id(), r)).toList();
        this.config = new SluiceConfig(current.proxyListen(), current.controlListen(), current.controlTokenFile(),
                current.allowedPodNetworks(), next.drainPeriod(), next.gracePeriod(), current.kubernetes(), kept,
                next.client());
        proxyContext.clientLimits(next.client()); // new connections follow it
        LOG.info("configuration applied: {} revision(s){}", throttlers.size(),
                needsRestart.isEmpty() ? "" : "; kept until a restart: " + String.join("; ", needsRestart));
        return needsRestart;
    }

    /**
     * Makes the running revisions those of the file plus the discovered ones (the file's win a
     * name clash).
     */
    private synchronized List<String> applyRevisions(List<RevisionConfig> fileRevisions) {
        List<RevisionConfig> wanted = new ArrayList<>(fileRevisions);
        java.util.Set<RevisionId> inFile = new java.util.HashSet<>();
        fileRevisions.forEach(r -> inFile.add(r.id()));
        for (RevisionConfig d : discovered.values()) {
            if (!inFile.contains(d.id())) {
                wanted.add(d);
            }
        }
        List<String> needsRestart = new ArrayList<>();
        Map<RevisionId, Route> old = new LinkedHashMap<>();
        Routes currentRoutes = proxyContext.routes();
        if (currentRoutes != null) {
            for (Route r : currentRoutes.all()) {
                old.put(r.config().id(), r);
            }
        }
        List<Route> routes = new ArrayList<>();
        for (RevisionConfig rc : wanted) {
            Route before = old.remove(rc.id());
            if (before == null) {
                routes.add(open(rc));
                continue;
            }
            RevisionConfig was = before.config();
            RevisionConfig kept = rc;
            if (rc.policy() != was.policy() || rc.queueDepth() != was.queueDepth() || rc.maxScale() != was.maxScale()
                    || !rc.staleThreshold().equals(was.staleThreshold()) || !rc.drainTimeout().equals(was.drainTimeout())) {
                needsRestart.add(rc.id() + ": policy, queueDepth, maxScale, staleThreshold and drainTimeout");
                kept = new RevisionConfig(rc.id(), rc.hosts(), rc.containerConcurrency(), was.policy(), was.queueDepth(),
                        rc.overflowStatus(), rc.queueTimeout(), rc.requestTimeout(), rc.responseStartTimeout(),
                        was.maxScale(), rc.readinessPath(), was.staleThreshold(), was.drainTimeout(), rc.pods(),
                        rc.service());
            }
            readinessPaths.put(rc.id(), rc.readinessPath());
            if (rc.containerConcurrency() != was.containerConcurrency()) {
                control.setContainerConcurrency(rc.id(), rc.containerConcurrency());
            }
            if (!java.util.Objects.equals(rc.service(), was.service())) {
                if (rc.service() != null) {
                    discovery.watch(rc.id(), rc.service());
                } else {
                    discovery.unwatch(rc.id());
                    control.recalculate(rc.id(), rc.pods());
                }
            } else if (rc.service() == null && !rc.pods().equals(was.pods())) {
                control.recalculate(rc.id(), rc.pods());
            }
            routes.add(new Route(kept, before.throttler(), before.metrics()));
        }
        proxyContext.routes(new Routes(routes));
        for (RevisionId gone : old.keySet()) {
            throttlers.remove(gone);
            readinessPaths.remove(gone);
            if (discovery != null) {
                discovery.unwatch(gone);
            }
            control.close(gone);
        }
        return needsRestart;
    }

    private Route open(RevisionConfig rc) {
        readinessPaths.put(rc.id(), rc.readinessPath());
        RevisionThrottler th = control.open(rc.id(), rc.settings());
        throttlers.put(rc.id(), th);
        if (rc.service() != null) {
            discovery.watch(rc.id(), rc.service());
        } else if (!rc.pods().isEmpty()) {
            control.recalculate(rc.id(), rc.pods());
        }
        return new Route(rc, th, metrics.forRevision(rc.id()));
    }

    public java.net.InetSocketAddress proxyAddress() {
        return proxy.address();
    }

    public java.net.InetSocketAddress controlAddress() {
        return controlApi.address();
    }

    public StateManager control() {
        return control;
    }

    public SluiceConfig config() {
        return config;
    }

    public boolean isReady() {
        return ready;
    }

    /** Requests accepted and not yet answered. */
    public int inFlight() {
        return proxyContext.inFlight();
    }

    /** The live revisions' throttlers, by id (insertion order). */
    public Map<RevisionId, RevisionThrottler> throttlers() {
        return new LinkedHashMap<>(throttlers);
    }

    /**
     * Graceful shutdown: readiness off, serve for {@code drain}, stop accepting and answer the
     * requests that are only waiting for a pod (503 {@code shutting-down}), wait up to
     * {@code grace} for the requests on a pod, then stop. Blocks until done.
     *
     * @return requests still in flight when the grace period ended (0 = nothing dropped)
     */
    public synchronized int shutdown(Duration drain, Duration grace) {
        if (closed) {
            return 0;
        }
        ready = false;
        LOG.info("shutting down: /readyz fails; serving for {} ms more", drain.toMillis());
        sleep(drain);
        proxy.stopAccepting();
        // A request still waiting for a pod now would only wait out the grace period and be cut
        // at its end: answer it at once (503 shutting-down, Retry-After), and any request that
        // arrives on a connection still open. Requests on a pod keep their leases and finish.
        int waiting = 0;
        for (RevisionThrottler th : throttlers.values()) {
            waiting += th.queued();
            th.close(dev.sluice.core.throttle.Rejection.SHUTTING_DOWN);
        }
        if (waiting > 0) {
            LOG.info("answered {} request(s) still waiting for a pod: shutting down", waiting);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (proxyContext.inFlight() > 0 && System.nanoTime() < deadline) {
            sleep(Duration.ofMillis(20));
        }
        int left = proxyContext.inFlight();
        if (left > 0) {
            LOG.warn("grace period of {} ms ended with {} request(s) in flight", grace.toMillis(), left);
        }
        closeNow();
        LOG.info("Sluice stopped");
        return left;
    }

    /** Shutdown with the configured periods. */
    public int shutdown() {
        return shutdown(config.drainPeriod(), config.gracePeriod());
    }

    @Override
    public void close() {
        closeNow();
    }

    private void closeNow() {
        if (closed) {
            return;
        }
        closed = true;
        ready = false;
        if (ticker != null) {
            ticker.cancel(false);
        }
        if (proxy != null) {
            proxy.stopAccepting();
        }
        if (controlApi != null) {
            controlApi.close();
        }
        if (catalog != null) {
            catalog.close();
        }
        if (discovery != null) {
            discovery.close();
        }
        if (reviewExecutor != null) {
            reviewExecutor.shutdownNow();
        }
        if (kube != null) {
            kube.close();
        }
        control.close();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        controlGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
