package dev.sluice.server.runtime;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.control.StateManager;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.KubernetesDiscovery;
import dev.sluice.kubernetes.PeerWatch;
import dev.sluice.kubernetes.RevisionCatalog;
import dev.sluice.kubernetes.ServiceRef;
import dev.sluice.kubernetes.TokenReviewAuthenticator;
import dev.sluice.kubernetes.WatchStatus;
import dev.sluice.server.cluster.Membership;
import dev.sluice.server.cluster.Peer;
import dev.sluice.server.config.KubernetesConfig;
import dev.sluice.server.control.ControlServer;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sluice's side of a Kubernetes cluster: a fabric8 client (JDK HTTP), one EndpointSlice watch
 * per revision that names a Service ({@link KubernetesDiscovery}, feeding the control path),
 * optionally the catalogue of labelled Services ({@link RevisionCatalog}), with
 * {@code kubernetes.tokenReview} a pod-token authenticator on two TokenReview threads and, for a
 * {@code cluster:} without static peers, the replica set from the control Service's endpoints
 * ({@link PeerWatch}, {@link #watchPeers}).
 *
 * <h2>Implementation notes</h2>
 * Built once at start, before any revision opens; the catalogue starts later
 * ({@link #startCatalog}), once the file's revisions run, and calls its listener on the
 * informer's thread; so does the peer watch, which feeds the cluster's {@link Membership} (its
 * own lock orders the snapshots). {@link #poll} runs on the control loop's tick; {@link #readiness} and
 * {@link #status} read the watches' own thread-safe state from any thread. {@link #close} is
 * called once, by {@link Lifecycle}.
 */
final class KubernetesWiring implements AutoCloseable {

    /** Where Kubernetes puts a pod's namespace for it (the downward API, as the Deployment sets it). */
    static final String NAMESPACE_ENV = "POD_NAMESPACE";
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesWiring.class);

    private final KubernetesConfig settings;
    private final KubernetesClient client;
    private final KubernetesDiscovery discovery;
    private final ExecutorService reviewExecutor;
    private final PodAuthenticator podTokens;
    private volatile RevisionCatalog catalog;
    private volatile PeerWatch peers;

    private KubernetesWiring(KubernetesConfig settings, StateManager control, NanoClock clock,
            BiConsumer<RevisionId, String> appProtocols) {
        this.settings = settings;
        this.client = client(settings);
        try {
            this.discovery = KubernetesDiscovery.feeding(client, control, appProtocols);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
        if (settings.tokenReview()) {
            reviewExecutor = Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "sluice-tokenreview");
                t.setDaemon(true);
                return t;
            });
            podTokens = new TokenReviewAuthenticator(client, discovery, settings.audiences(), clock, reviewExecutor);
        } else {
            reviewExecutor = null;
            podTokens = null;
        }
    }

    /**
     * Connects to the cluster {@code settings} name, or returns null when there are none.
     *
     * @param appProtocols told each watched Service's port's {@code appProtocol} (null: none) before its pods
     */
    static KubernetesWiring connect(KubernetesConfig settings, StateManager control, NanoClock clock,
            BiConsumer<RevisionId, String> appProtocols) {
        return settings == null ? null : new KubernetesWiring(settings, control, clock, appProtocols);
    }

    KubernetesDiscovery discovery() {
        return discovery;
    }

    /** Checks pod tokens by TokenReview, or null when {@code kubernetes.tokenReview} is off. */
    PodAuthenticator podTokens() {
        return podTokens;
    }

    /** Starts the catalogue of labelled Services, when {@code kubernetes.discoverRevisions} asks for it. */
    void startCatalog(Consumer<List<DiscoveredRevision>> listener) {
        if (settings.discoverRevisions()) {
            RevisionCatalog c = new RevisionCatalog(client, settings.namespace(), listener);
            catalog = c;
            c.start();
        }
    }

    /**
     * The replica set from Kubernetes: a {@link PeerWatch} over {@code kubernetes.peers} (or
     * {@link KubernetesConfig.Peers#DEFAULTS} when the section has none: the cluster has no static
     * peers) whose every snapshot becomes the cluster's membership. Its first list gates
     * {@link #readiness}; call it before the proxy serves.
     */
    void watchPeers(Membership membership) {
        KubernetesConfig.Peers p = settings.peers() != null ? settings.peers() : KubernetesConfig.Peers.DEFAULTS;
        ServiceRef control = p.control(ownNamespace());
        // Each Kubernetes peer becomes the cluster's Peer: the same id (pod UID) and addresses.
        PeerWatch w = new PeerWatch(client, control, p.proxyPort(), found -> membership.update(found.stream()
                .map(k -> new Peer(k.id(), k.address(), k.control())).collect(Collectors.toSet())));
        peers = w;
        w.start();
        LOG.info("cluster: the replicas are the ready endpoints of service {} (proxy port {})", control,
                p.proxyPort());
    }

    /** The peer watch has listed and was open at the last poll; false before {@link #watchPeers}. */
    boolean peerWatchUp() {
        PeerWatch w = peers;
        return w != null && w.up();
    }

    /** The peer watch's failures so far; 0 before {@link #watchPeers}. */
    long peerWatchFailures() {
        PeerWatch w = peers;
        return w == null ? 0 : w.failures();
    }

    /** {@code POD_NAMESPACE}, else the client's namespace (in-cluster: the service account's), else default. */
    private String ownNamespace() {
        String env = System.getenv(NAMESPACE_ENV);
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        String ns = client.getNamespace();
        return ns == null || ns.isBlank() ? "default" : ns;
    }

    /** The control loop's tick. */
    void poll() {
        discovery.poll();
        PeerWatch w = peers;
        if (w != null) {
            w.watching();
        }
    }

    List<WatchStatus> status() {
        return discovery.status();
    }

    /** Ready once the catalogue (if any) and every EndpointSlice watch have listed once. */
    ControlServer.Readiness readiness() {
        StringBuilder detail = new StringBuilder();
        RevisionCatalog c = catalog;
        boolean synced = c == null || c.synced();
        if (c != null) {
            detail.append("revision catalogue (Services labelled ").append(RevisionCatalog.REVISION_LABEL).append("): ")
                    .append(!synced ? "waiting for the first list" : c.watching() ? "watching"
                            : "watch down, keeping the revisions it had")
                    .append(", ").append(c.failures()).append(" failure(s)\n");
        }
        PeerWatch p = peers;
        if (p != null) {
            boolean listed = p.synced();
            synced &= listed;
            detail.append("replicas (kubernetes.peers): ").append(!listed ? "waiting for the first list"
                    : p.watching() ? "watching" : "watch down, keeping the replicas it had").append(", ")
                    .append(p.peers().size()).append(" live, ").append(p.failures()).append(" failure(s)\n");
        }
        for (WatchStatus w : discovery.status()) {
            synced &= w.synced();
            detail.append(w.describe()).append('\n');
        }
        return new ControlServer.Readiness(synced, (synced ? "ready\n" : "not ready\n") + detail);
    }

    @Override
    public void close() {
        RevisionCatalog c = catalog;
        if (c != null) {
            c.close();
        }
        PeerWatch p = peers;
        if (p != null) {
            p.close();
        }
        discovery.close();
        if (reviewExecutor != null) {
            reviewExecutor.shutdownNow();
        }
        client.close();
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
}
