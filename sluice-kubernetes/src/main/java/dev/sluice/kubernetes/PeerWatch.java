package dev.sluice.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Comparator;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sluice's own replicas, from the EndpointSlices of its headless control Service
 * ({@code sluice-control} in its own namespace): every change of the set of live replicas is
 * handed to a callback as a whole snapshot, {@code Set<Peer>}. Which endpoint is a live peer,
 * and how slices are merged: {@link PeerView}.
 *
 * <h2>Implementation notes</h2>
 * One {@link ServiceWatch} (one fabric8 informer) does the watching; its handler runs on the
 * informer's one thread at a time and rebuilds the view from the whole store, so the callback is
 * called from that thread, never concurrently with itself, in the order of the changes. The
 * first list is always delivered (an empty set too: the caller learns it is synced); after that
 * a set equal to the last one is not. {@code peers} is volatile so that any thread may read the
 * latest snapshot; it is written before the callback runs. List and watch failures are retried
 * by the informer for as long as the watch runs, and the last snapshot stays in force.
 */
public final class PeerWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);
    private static final Comparator<Peer> BY_ID = Comparator.comparing(Peer::id);

    private final ServiceRef control;
    private final Consumer<Set<Peer>> onChange;
    private final ServiceWatch<PeerView> watch;
    private volatile Set<Peer> peers = Set.of();

    /**
     * Watches nothing until {@link #start()}.
     *
     * @param client    the API client; its ServiceAccount may list and watch EndpointSlices in
     *                  {@code control}'s namespace
     * @param control   Sluice's control Service and its control port (by name or number), e.g.
     *                  {@code new ServiceRef(ownNamespace, "sluice-control", "control")}
     * @param proxyPort the same Service's proxy port (by name or number), e.g. {@code "proxy"}
     * @param onChange  receives the whole set of live peers (immutable) on the first list and on
     *                  every change, from the informer's thread
     */
    public PeerWatch(KubernetesClient client, ServiceRef control, String proxyPort, Consumer<Set<Peer>> onChange) {
        this.control = Objects.requireNonNull(control);
        this.onChange = Objects.requireNonNull(onChange);
        if (control.port() == null || proxyPort == null || proxyPort.isBlank()) {
            throw new IllegalArgumentException("the peers' control and proxy ports must both be named (service "
                    + control + ", proxy port " + proxyPort + ")");
        }
        this.watch = new ServiceWatch<>(Objects.requireNonNull(client), "peers", control, PeerView.EMPTY,
                slices -> PeerView.translate(control, proxyPort, slices), this::changed);
    }

    public void start() {
        watch.start();
        LOG.info("peers: watching the EndpointSlices of service {}", control);
    }

    private void changed(PeerView view) {
        Set<Peer> next = view.peers();
        peers = next;
        LOG.info("peers: {} live in service {}{}", next.size(), control, next.isEmpty() ? ""
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

    /**
     * Listed, and open at the last {@link #watching()} poll: the replica set is current. Reads
     * only (a metrics scrape); the poll is the one that notices and logs a change.
     */
    public boolean up() {
        return watch.synced() && watch.watchingAtLastPoll();
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
