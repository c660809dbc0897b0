package dev.sluice.server.runtime;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.StateManager;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.KubernetesDiscovery;
import dev.sluice.kubernetes.RevisionCatalog;
import dev.sluice.server.config.ConfigException;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.PodProtocol;
import dev.sluice.server.config.Queueing;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.config.SluiceConfig;
import dev.sluice.server.proxy.ProxyContext;
import dev.sluice.server.proxy.Route;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the wanted revisions into running ones: those of the file ({@link #apply}, on a live
 * reload) plus those of the Kubernetes catalogue ({@link #onCatalog}); a revision in the file
 * wins over a discovered one of the same name. {@link #reconcile} is the one place that opens,
 * changes and closes revisions, whichever source changed.
 *
 * <h2>Implementation notes</h2>
 * Threads that call in: the config watcher ({@link #apply}), the catalogue's informer
 * ({@link #onCatalog}) and the EndpointSlice watches' ({@link #onAppProtocol}, which takes the
 * lock only when a revision's protocol changes: its map is concurrent). All reconcile under
 * this object's lock, so one reconciliation runs at a time and it is the
 * {@link RevisionRegistry}'s single writer. A catalogue entry is validated before the
 * lock (again under it if a reload changed the file's top-level {@code queueing} meanwhile: the
 * discovered revisions take it too). {@link #config()} is volatile for readers elsewhere.
 */
final class ConfigReconciler {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReconciler.class);

    private final RevisionRegistry registry;
    private final StateManager control;
    private final ProxyContext proxy;
    /** Null when Sluice runs without Kubernetes. */
    private final KubernetesDiscovery discovery;
    /** The catalogue's revisions, as last validated; written under this object's lock. */
    private final Map<RevisionId, RevisionConfig> discovered = new ConcurrentHashMap<>();
    /** The catalogue as last read, to validate again when the file's top-level queueing changes. */
    private List<DiscoveredRevision> catalog = List.of();
    /** Each watched Service's port's {@code appProtocol} ("" for none), as its EndpointSlices last said. */
    private final Map<RevisionId, String> appProtocols = new ConcurrentHashMap<>();
    private volatile SluiceConfig config;

    ConfigReconciler(SluiceConfig config, RevisionRegistry registry, StateManager control, ProxyContext proxy,
            KubernetesDiscovery discovery) {
        this.config = config;
        this.registry = registry;
        this.control = control;
        this.proxy = proxy;
        this.discovery = discovery;
    }

    /** The configuration in force: the file's, less what waits for a restart. */
    SluiceConfig config() {
        return config;
    }

    /** Opens the revisions of the configuration Sluice started with. */
    synchronized void start() {
        reconcile(config.revisions());
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
    synchronized List<String> apply(SluiceConfig next) {
        List<String> needsRestart = new ArrayList<>();
        SluiceConfig current = this.config;
        if (!next.proxyListen().equals(current.proxyListen()) || !next.controlListen().equals(current.controlListen())
                || !Objects.equals(next.scalerListen(), current.scalerListen())) {
            needsRestart.add("listen addresses");
        }
        if (!Objects.equals(next.controlTokenFile(), current.controlTokenFile())) {
            needsRestart.add("control.tokenFile");
        }
        List<RevisionConfig> fileRevisions = next.revisions();
        if (fileRevisions.isEmpty() && !current.revisions().isEmpty()) {
            // Legal ('revisions: []'), but rarely meant: every request for them will get 404.
            LOG.warn("the new configuration has no revisions: removing all {} revision(s) of the file",
                    current.revisions().size());
        }
        if (!Objects.equals(next.kubernetes(), current.kubernetes())) {
            needsRestart.add("the kubernetes section");
        }
        if (!Objects.equals(next.cluster(), current.cluster())) {
            needsRestart.add("the cluster section");
        }
        if (discovery == null && fileRevisions.stream().anyMatch(r -> r.service() != null)) {
            needsRestart.add("revisions naming a service (Sluice started without Kubernetes)");
            fileRevisions = fileRevisions.stream().filter(r -> r.service() == null).toList();
        }
        if (!next.queueing().equals(current.queueing()) && !catalog.isEmpty()) {
            // Discovered revisions take the file's top-level queueing section too.
            discovered.clear();
            discovered.putAll(validate(catalog, next.queueing()));
        }
        needsRestart.addAll(reconcile(fileRevisions));
        // What runs, which differs from the file where a change waits for a restart.
        Map<RevisionId, RevisionConfig> running = new HashMap<>();
        registry.all().forEach(r -> running.put(r.config().id(), r.config()));
        List<RevisionConfig> kept = fileRevisions.stream().map(r -> running.getOrDefault(r.id(), r)).toList();
        this.config = new SluiceConfig(current.proxyListen(), current.controlListen(), current.controlTokenFile(),
                current.allowedPodNetworks(), next.drainPeriod(), next.gracePeriod(), current.kubernetes(), kept,
                next.client(), current.scalerListen(), current.cluster(), current.readinessChecks(), next.queueing());
        proxy.clientLimits(next.client()); // new connections follow it
        LOG.info("configuration applied: {} revision(s){}", registry.size(),
                needsRestart.isEmpty() ? "" : "; kept until a restart: " + String.join("; ", needsRestart));
        return needsRestart;
    }

    /**
     * A watched Service's EndpointSlices say what its port speaks ({@code appProtocol}, null for
     * nothing): a revision of the file that takes its pods from that Service and names no
     * {@code protocol} speaks h2c to them when it is {@code kubernetes.io/h2c}, HTTP/1.1
     * otherwise. Called on the watch's thread before the same view's pods are fed, so the pods'
     * first checks already speak it. Discovered revisions take it from the Service itself
     * ({@code RevisionCatalog}).
     */
    void onAppProtocol(RevisionId id, String appProtocol) {
        String said = appProtocol == null ? "" : appProtocol;
        if (said.equals(appProtocols.put(id, said)) || !switches(id)) {
            return; // the common case: nothing to change, and no lock taken on the watch's thread
        }
        synchronized (this) {
            if (!switches(id)) {
                return;
            }
            LOG.info("{}: the port of its service says appProtocol '{}': its pods are reached in {} (protocol in"
                    + " the file chooses otherwise)", id, said, RevisionCatalog.H2C_APP_PROTOCOL.equals(said)
                    ? PodProtocol.H2C.wireName() : PodProtocol.HTTP1.wireName());
            List<String> restart = reconcile(config.revisions());
            if (!restart.isEmpty()) {
                LOG.warn("changes kept until a restart: {}", String.join("; ", restart));
            }
        }
    }

    /** Whether {@code id} is a file revision whose protocol the Service's appProtocol would change now. */
    private boolean switches(RevisionId id) {
        Route running = registry.get(id);
        if (running == null || running.config().service() == null || running.config().protocolGiven()) {
            return false; // not a revision whose protocol the Service decides: no pass over the file's
        }
        for (RevisionConfig r : config.revisions()) {
            if (r.id().equals(id)) {
                return withServiceProtocol(r).protocol() != running.config().protocol();
            }
        }
        return false;
    }

    /** {@code rc} as it runs: with a Service's port's appProtocol when the file names no protocol. */
    private RevisionConfig withServiceProtocol(RevisionConfig rc) {
        if (rc.service() == null || rc.protocolGiven()) {
            return rc;
        }
        PodProtocol p = RevisionCatalog.H2C_APP_PROTOCOL.equals(appProtocols.get(rc.id())) ? PodProtocol.H2C
                : PodProtocol.HTTP1;
        return p == rc.protocol() ? rc : rc.withProtocol(p);
    }

    /** The catalogue of labelled Services changed: validate each, then apply the whole set. */
    void onCatalog(List<DiscoveredRevision> found) {
        Queueing validatedWith = config.queueing();
        Map<RevisionId, RevisionConfig> next = validate(found, validatedWith);
        synchronized (this) {
            if (!config.queueing().equals(validatedWith)) {
                next = validate(found, config.queueing()); // a reload changed the default meanwhile
            }
            catalog = List.copyOf(found);
            discovered.clear();
            discovered.putAll(next);
            List<String> restart = reconcile(config.revisions());
            if (!restart.isEmpty()) {
                LOG.warn("discovered revision changes kept until a restart: {}", String.join("; ", restart));
            }
        }
    }

    /**
     * Each labelled Service's revision, validated with the file's top-level queueing section; one
     * that is invalid keeps its previous settings, or is left out if it had none.
     */
    private Map<RevisionId, RevisionConfig> validate(List<DiscoveredRevision> found, Queueing defaultQueueing) {
        Map<RevisionId, RevisionConfig> next = new LinkedHashMap<>();
        for (DiscoveredRevision d : found) {
            try {
                next.put(d.id(), ConfigLoader.revision(d, defaultQueueing));
            } catch (ConfigException e) {
                RevisionConfig before = discovered.get(d.id());
                LOG.warn("{} is not applied: {}{}", d.id(), e.getMessage(),
                        before == null ? "" : " (its previous settings stay in force)");
                if (before != null) {
                    next.put(d.id(), before);
                }
            }
        }
        return next;
    }

    /**
     * Makes the running revisions those of the file plus the discovered ones (the file's win a
     * name clash): opens new ones, publishes the whole set, then feeds pod changes and closes
     * the ones that went.
     */
    private List<String> reconcile(List<RevisionConfig> fileRevisions) {
        List<RevisionConfig> wanted = new ArrayList<>(fileRevisions.size());
        fileRevisions.forEach(r -> wanted.add(withServiceProtocol(r)));
        Set<RevisionId> inFile = new HashSet<>();
        fileRevisions.forEach(r -> inFile.add(r.id()));
        for (RevisionConfig d : discovered.values()) {
            if (!inFile.contains(d.id())) {
                wanted.add(d);
            }
        }
        List<String> needsRestart = new ArrayList<>();
        List<Route> next = new ArrayList<>();
        // Pod changes wait until the new set is published: a readiness probe then finds its path.
        List<Runnable> feed = new ArrayList<>();
        for (RevisionConfig rc : wanted) {
            Route before = registry.get(rc.id());
            if (before == null) {
                next.add(registry.open(rc));
                feed.add(() -> startFeeding(rc));
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
                        rc.service(), rc.scaleToZeroGrace(), rc.protocol(), rc.readinessProbe(), rc.queueing(),
                        rc.protocolGiven());
            }
            if (!rc.queueing().equals(was.queueing()) || rc.queueDepth() != was.queueDepth()) {
                // Weights, the tenant cap and preemption apply to waiters from now on; classes and
                // how requests are sorted into them come with the new route below.
                before.throttler().setQueuePolicy(kept.queueing().policy(kept.queueDepth()));
            }
            feed.add(() -> changeFeeding(rc, was));
            next.add(new Route(kept, before.throttler(), before.metrics(), before.coldStart(), before.owner()));
        }
        registry.publish(next, gone -> {
            if (discovery != null) {
                discovery.unwatch(gone);
            }
        });
        feed.forEach(Runnable::run);
        return needsRestart;
    }

    /** A new revision's pods: a Service to watch, or the file's static list. */
    private void startFeeding(RevisionConfig rc) {
        if (rc.service() != null) {
            discovery.watch(rc.id(), rc.service());
        } else if (!rc.pods().isEmpty()) {
            control.recalculate(rc.id(), rc.pods());
        }
    }

    /** A running revision's changes that the control path applies: concurrency and where its pods come from. */
    private void changeFeeding(RevisionConfig rc, RevisionConfig was) {
        if (rc.containerConcurrency() != was.containerConcurrency()) {
            control.setContainerConcurrency(rc.id(), rc.containerConcurrency());
        }
        if (!Objects.equals(rc.service(), was.service())) {
            if (rc.service() != null) {
                discovery.watch(rc.id(), rc.service());
            } else {
                discovery.unwatch(rc.id());
                control.recalculate(rc.id(), rc.pods());
            }
        } else if (rc.service() == null && !rc.pods().equals(was.pods())) {
            control.recalculate(rc.id(), rc.pods());
        }
    }
}
