package dev.sluice.server.runtime;

import dev.sluice.core.NanoClock;
import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.control.StateManager;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.KubernetesDiscovery;
import dev.sluice.kubernetes.RevisionCatalog;
import dev.sluice.kubernetes.TokenReviewAuthenticator;
import dev.sluice.kubernetes.WatchStatus;
import dev.sluice.server.config.KubernetesConfig;
import dev.sluice.server.control.ControlServer;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Sluice's side of a Kubernetes cluster: a fabric8 client (JDK HTTP), one EndpointSlice watch
 * per revision that names a Service ({@link KubernetesDiscovery}, feeding the control path),
 * optionally the catalogue of labelled Services ({@link RevisionCatalog}) and, with
 * {@code kubernetes.tokenReview}, a pod-token authenticator on two TokenReview threads.
 *
 * <h2>Implementation notes</h2>
 * Built once at start, before any revision opens; the catalogue starts later
 * ({@link #startCatalog}), once the file's revisions run, and calls its listener on the
 * informer's thread. {@link #poll} runs on the control loop's tick; {@link #readiness} and
 * {@link #status} read the watches' own thread-safe state from any thread. {@link #close} is
 * called once, by {@link Lifecycle}.
 */
final class KubernetesWiring implements AutoCloseable {

    private final KubernetesConfig settings;
    private final KubernetesClient client;
    private final KubernetesDiscovery discovery;
    private final ExecutorService reviewExecutor;
    private final PodAuthenticator podTokens;
    private volatile RevisionCatalog catalog;

    private KubernetesWiring(KubernetesConfig settings, StateManager control, NanoClock clock) {
        this.settings = settings;
        this.client = client(settings);
        try {
            this.discovery = KubernetesDiscovery.feeding(client, control);
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

    /** Connects to the cluster {@code settings} name, or returns null when there are none. */
    static KubernetesWiring connect(KubernetesConfig settings, StateManager control, NanoClock clock) {
        return settings == null ? null : new KubernetesWiring(settings, control, clock);
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

    /** The control loop's tick. */
    void poll() {
        discovery.poll();
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
