package dev.sluice.kubernetes;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.Endpoint;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.control.UnknownRevisionException;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Discovery from EndpointSlices: one {@link ServiceWatch} per revision that names a Service,
 * each change handed to the control path as a snapshot (the same recalculation the static
 * configuration uses, so pod reports still outrank discovery and new pods are still validated).
 *
 * <h2>Implementation notes</h2>
 * {@code watch}/{@code unwatch} come from the server's configuration thread; the map is
 * concurrent so that status and authentication can read it from any thread. Snapshots reach the
 * revision's single writer through its inbox; a snapshot for a revision closed meanwhile is
 * dropped.
 */
public final class KubernetesDiscovery implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesDiscovery.class);

    private final KubernetesClient client;
    private final BiConsumer<RevisionId, List<Endpoint>> sink;
    private final BiConsumer<RevisionId, String> appProtocols;
    private final Map<RevisionId, ServiceWatch<SliceView>> watches = new ConcurrentHashMap<>();

    /**
     * @param sink receives every changed view of a revision's pods (from the watch's thread)
     */
    public KubernetesDiscovery(KubernetesClient client, BiConsumer<RevisionId, List<Endpoint>> sink) {
        this(client, sink, (id, appProtocol) -> { });
    }

    /**
     * @param sink         receives every changed view of a revision's pods (from the watch's thread)
     * @param appProtocols told, before {@code sink}, the revision's port's {@code appProtocol}
     *                     (null: none) with every changed view, so that the pods are checked and
     *                     reached in the protocol it says from their first check on
     */
    public KubernetesDiscovery(KubernetesClient client, BiConsumer<RevisionId, List<Endpoint>> sink,
            BiConsumer<RevisionId, String> appProtocols) {
        this.client = Objects.requireNonNull(client);
        this.sink = Objects.requireNonNull(sink);
        this.appProtocols = Objects.requireNonNull(appProtocols);
    }

    /** Discovery that feeds {@code control}'s recalculation, telling {@code appProtocols} first. */
    public static KubernetesDiscovery feeding(KubernetesClient client, StateManager control,
            BiConsumer<RevisionId, String> appProtocols) {
        return new KubernetesDiscovery(client, (id, endpoints) -> {
            try {
                control.recalculate(id, endpoints);
            } catch (UnknownRevisionException e) {
                LOG.debug("{} closed; its EndpointSlice change is dropped", id);
            }
        }, appProtocols);
    }

    /** Starts (or, if the Service changed, restarts) the watch of a revision's Service. */
    public synchronized void watch(RevisionId revision, ServiceRef service) {
        ServiceWatch<SliceView> existing = watches.get(revision);
        if (existing != null) {
            if (existing.service.equals(service)) {
                return;
            }
            existing.close();
        }
        ServiceWatch<SliceView> w = ServiceWatch.ofRevision(client, revision, service,
                view -> {
                    appProtocols.accept(revision, view.appProtocol());
                    sink.accept(revision, view.endpoints());
                });
        watches.put(revision, w);
        w.start();
        LOG.info("{}: discovering pods from the EndpointSlices of service {}", revision, service);
    }

    /** Stops watching a revision (closed, or its pods are listed statically now). */
    public synchronized void unwatch(RevisionId revision) {
        ServiceWatch<SliceView> w = watches.remove(revision);
        if (w != null) {
            w.close();
        }
    }

    /** The revision's current view, or null when it is not discovered from Kubernetes. */
    public SliceView view(RevisionId revision) {
        ServiceWatch<SliceView> w = watches.get(revision);
        return w == null ? null : w.view();
    }

    /** The Service a revision is discovered from, or null. */
    public ServiceRef service(RevisionId revision) {
        ServiceWatch<SliceView> w = watches.get(revision);
        return w == null ? null : w.service;
    }

    /** Notices lost and re-established watches; call it every second or so. */
    public void poll() {
        for (ServiceWatch<SliceView> w : watches.values()) {
            w.poll();
        }
    }

    public List<WatchStatus> status() {
        List<WatchStatus> out = new ArrayList<>();
        watches.forEach((revision, w) -> out.add(w.status(revision)));
        out.sort((a, b) -> a.revision().toString().compareTo(b.revision().toString()));
        return out;
    }

    @Override
    public synchronized void close() {
        for (ServiceWatch<SliceView> w : watches.values()) {
            w.close();
        }
        watches.clear();
    }
}
