package dev.sluice.kubernetes;

import dev.sluice.core.control.Endpoint;
import dev.sluice.core.pod.PodState;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sluice's own replicas, from the EndpointSlices of its headless control Service
 * ({@code sluice-control} in its own namespace): every change of the set of live replicas is
 * handed to a callback as a whole snapshot, {@code Set<Peer>}.
 *
 * <ul>
 *   <li>Live: an endpoint that is not {@code terminating}, and neither {@code serving} nor
 *       {@code ready} says false (absent counts as true, as the API defines). {@code serving} is
 *       read as well as {@code ready} because the control Service publishes not-ready addresses
 *       (pod reports must reach a replica that is still starting), and for such a Service the
 *       EndpointSlice controller sets {@code ready} to true for every pod and carries the pod's
 *       readiness in {@code serving} alone. A replica draining on SIGTERM fails {@code /readyz},
 *       so it leaves the set within a readiness period, before it exits.</li>
 *   <li>Identity, address, slices: as {@link SliceTranslator} reads them for revisions — the
 *       pod UID, merged across slices, a dual-stack pod once (its IPv4 address), the port named
 *       or numbered by the {@link ServiceRef} (or the only one).</li>
 * </ul>
 *
 * <h2>Implementation notes</h2>
 * One {@link ServiceWatch} (one fabric8 informer) does the watching; its handler runs on the
 * informer's one thread at a time and rebuilds the view from the whole store, so the callback is
 * called from that thread, never concurrently with itself, in the order of the changes. The
 * first list is always delivered (an empty set too: the caller learns it is synced); after that
 * a snapshot equal to the last one is not. {@code peers} is volatile so that any thread may read
 * the latest snapshot; it is written before the callback runs. List and watch failures are
 * retried by the informer for as long as the watch runs, and the last snapshot stays in force.
 */
public final class PeerWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);
    private static final Comparator<Peer> BY_ID = Comparator.comparing(Peer::id);

    private final ServiceRef service;
    private final Consumer<Set<Peer>> onChange;
    private final ServiceWatch watch;
    private volatile Set<Peer> peers = Set.of();
    private boolean delivered; // informer thread only

    /**
     * Watches nothing until {@link #start()}.
     *
     * @param client   the API client (its ServiceAccount may list and watch EndpointSlices in
     *                 {@code service}'s namespace)
     * @param service  Sluice's control Service, e.g. {@code new ServiceRef(ownNamespace,
     *                 "sluice-control", "control")}; the port names the peers' port
     * @param onChange receives the whole set of live peers (immutable) on the first list and on
     *                 every change, from the informer's thread
     */
    public PeerWatch(KubernetesClient client, ServiceRef service, Consumer<Set<Peer>> onChange) {
        this.service = Objects.requireNonNull(service);
        this.onChange = Objects.requireNonNull(onChange);
        this.watch = new ServiceWatch(Objects.requireNonNull(client), "peers", service,
                slices -> SliceTranslator.translate(service, slices, PeerWatch::state), this::changed);
    }

    public void start() {
        watch.start();
        LOG.info("peers: watching the EndpointSlices of service {}", service);
    }

    /** The condition → state rule for peers; only READY is a live peer. */
    static PodState state(EndpointConditions c) {
        if (c == null) {
            return PodState.READY;
        }
        if (Boolean.TRUE.equals(c.getTerminating())) {
            return PodState.DRAINING;
        }
        if (Boolean.FALSE.equals(c.getServing()) || Boolean.FALSE.equals(c.getReady())) {
            return PodState.NOT_READY;
        }
        return PodState.READY;
    }

    /** The live peers of a view (for tests and for {@link #changed}). */
    static Set<Peer> live(SliceView view) {
        Set<Peer> out = new HashSet<>();
        for (Endpoint e : view.endpoints()) {
            if (e.state() == PodState.READY) {
                int colon = e.address().lastIndexOf(':');
                out.add(new Peer(e.podId(), e.address().substring(0, colon), Integer.parseInt(
                        e.address().substring(colon + 1))));
            }
        }
        return Set.copyOf(out);
    }

    private void changed(SliceView view) {
        Set<Peer> next = live(view);
        if (delivered && next.equals(peers)) {
            return;
        }
        delivered = true;
        peers = next;
        LOG.info("peers: {} live in service {}{}", next.size(), service, next.isEmpty() ? ""
                : ": " + next.stream().sorted(BY_ID).map(Peer::toString).collect(Collectors.joining(", ")));
        onChange.accept(next);
    }

    /** The last snapshot delivered (empty before the first list). */
    public Set<Peer> peers() {
        return peers;
    }

    /** The first list has arrived: until then an empty set means "not known yet". */
    public boolean synced() {
        return watch.synced();
    }

    /**
     * Whether the watch is open now; notices (and logs) a watch lost or re-established. Call it
     * every second or so, as {@link KubernetesDiscovery#poll()}.
     */
    public boolean watching() {
        return watch.poll();
    }

    /** Watches lost and list/watch attempts failed since start (each retried with backoff). */
    public long failures() {
        return watch.failures();
    }

    @Override
    public void close() {
        watch.close();
    }
}
