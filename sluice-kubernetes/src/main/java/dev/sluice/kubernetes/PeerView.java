package dev.sluice.kubernetes;

import dev.sluice.core.control.Endpoint;
import dev.sluice.core.pod.PodState;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The live replicas the control Service's EndpointSlices list, and what was left out.
 *
 * <p>Live: an endpoint that is not {@code terminating}, and neither {@code serving} nor
 * {@code ready} says false (absent counts as true, as the API defines). {@code serving} is read
 * as well as {@code ready} because the control Service publishes not-ready addresses (a pod's
 * report must reach a replica that is still starting), and for such a Service the EndpointSlice
 * controller sets {@code ready} true for every pod and carries the pod's readiness in
 * {@code serving} alone. A replica draining on SIGTERM fails {@code /readyz}, so it leaves the
 * set within a readiness period, before it exits.
 *
 * <p>Identity, addresses, several slices, dual stack: as {@link SliceTranslator} reads them for
 * revisions (pod UID; one peer per pod, its IPv4 address when it has both), once for each of the
 * two ports.
 */
record PeerView(Set<Peer> peers, List<String> problems) implements ServiceView {

    static final PeerView EMPTY = new PeerView(Set.of(), List.of());

    PeerView {
        peers = Set.copyOf(peers);
        problems = List.copyOf(problems);
    }

    /** @param control the control Service and its control port; {@code proxyPort} names its proxy port */
    static PeerView translate(ServiceRef control, String proxyPort, Collection<EndpointSlice> slices) {
        SliceView controls = SliceTranslator.translate(control, slices, PeerView::state);
        SliceView proxies = SliceTranslator.translate(new ServiceRef(control.namespace(), control.name(), proxyPort),
                slices, PeerView::state);
        Set<String> problems = new LinkedHashSet<>(controls.problems());
        problems.addAll(proxies.problems());
        Map<String, Endpoint> proxyByPod = new HashMap<>();
        Map<String, Endpoint> proxyByHost = new HashMap<>();
        for (Endpoint e : proxies.endpoints()) {
            proxyByPod.put(e.podId(), e);
            proxyByHost.put(host(e.address()), e);
        }
        Set<Peer> live = new HashSet<>();
        for (Endpoint c : controls.endpoints()) {
            Endpoint p = proxyByPod.get(c.podId());
            if (p == null && c.podId().equals(c.address())) {
                p = proxyByHost.get(host(c.address())); // no pod UID: each port's view named it by its own address
            }
            if (c.state() != PodState.READY || p == null) {
                continue; // a pod without the proxy port: its slice's problem is listed already
            }
            live.add(new Peer(c.podId(), host(c.address()), port(p.address()), port(c.address())));
        }
        return new PeerView(live, List.copyOf(problems));
    }

    private static String host(String hostPort) {
        return hostPort.substring(0, hostPort.lastIndexOf(':'));
    }

    private static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
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

    @Override
    public int size() {
        return peers.size();
    }

    @Override
    public boolean differsFrom(ServiceView before) {
        return !(before instanceof PeerView b) || !peers.equals(b.peers);
    }
}
