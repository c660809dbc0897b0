package dev.sluice.kubernetes;

import dev.sluice.core.control.Endpoint;
import dev.sluice.core.pod.PodState;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Turns a Service's EndpointSlices into the control path's pods.
 *
 * <ul>
 *   <li>State: {@code terminating} → DRAINING (whether or not still {@code serving}: a pod on its
 *       way out takes no new requests and finishes the ones it has); otherwise {@code ready}
 *       (absent counts as ready, as the API defines) → READY, which the control path validates
 *       before routing; otherwise NOT_READY.</li>
 *   <li>Identity: the endpoint's {@code targetRef} UID, so a new pod at a reused IP is a new pod.
 *       Endpoints without a targetRef (hand-made slices) are identified by their address.</li>
 *   <li>Several slices, dual-stack: endpoints are merged by pod; a pod seen in both IPv4 and
 *       IPv6 slices becomes one pod (its IPv4 address), never two, so its concurrency is not
 *       counted twice. A pod listed twice (slices being rebalanced) takes the more cautious
 *       state.</li>
 *   <li>Port: the slice port named or numbered as the {@link ServiceRef} says, or the only port.
 *       Its {@code appProtocol} (what the Service's port says its pods speak) is the view's when
 *       every slice that has the port agrees; when they disagree it is left out, with a problem.</li>
 * </ul>
 * Pure and stateless: the same slices always give the same view.
 */
public final class SliceTranslator {

    private SliceTranslator() {
    }

    private record Candidate(String podId, String ip, int port, PodState state) {
    }

    public static SliceView translate(ServiceRef service, Collection<EndpointSlice> slices) {
        return translate(service, slices, SliceTranslator::state);
    }

    /**
     * As {@link #translate(ServiceRef, Collection)}, with the endpoint conditions read by
     * {@code stateOf} instead of the revision pods' rule (the peer watch reads {@code serving} too).
     */
    static SliceView translate(ServiceRef service, Collection<EndpointSlice> slices,
            Function<EndpointConditions, PodState> stateOf) {
        List<String> problems = new ArrayList<>();
        Map<String, List<Candidate>> byPod = new TreeMap<>();
        Map<String, Set<String>> owners = new LinkedHashMap<>();
        Set<String> appProtocols = new LinkedHashSet<>();
        List<EndpointSlice> ordered = new ArrayList<>(slices);
        ordered.sort(Comparator.comparing(s -> s.getMetadata().getName()));
        for (EndpointSlice slice : ordered) {
            String sliceName = slice.getMetadata().getName();
            String type = slice.getAddressType();
            if (!"IPv4".equals(type) && !"IPv6".equals(type)) {
                problems.add("slice " + sliceName + ": address type " + type + " is not routable (IPv4 or IPv6 only)");
                continue;
            }
            EndpointPort match = port(service, slice, problems);
            if (match == null) {
                continue;
            }
            appProtocols.add(String.valueOf(match.getAppProtocol())); // "null": the port says nothing
            int port = match.getPort();
            if (slice.getEndpoints() == null) {
                continue;
            }
            for (var e : slice.getEndpoints()) {
                if (e.getAddresses() == null || e.getAddresses().isEmpty()) {
                    problems.add("slice " + sliceName + ": an endpoint has no address");
                    continue;
                }
                String ip = IpLiterals.canonical(e.getAddresses().get(0));
                if (ip == null) {
                    problems.add("slice " + sliceName + ": '" + e.getAddresses().get(0) + "' is not an IP address");
                    continue;
                }
                ObjectReference ref = e.getTargetRef();
                boolean pod = ref != null && ref.getUid() != null && !ref.getUid().isBlank()
                        && (ref.getKind() == null || "Pod".equals(ref.getKind()));
                String podId = pod ? ref.getUid() : hostPort(ip, port);
                byPod.computeIfAbsent(podId, k -> new ArrayList<>()).add(new Candidate(podId, ip, port, stateOf.apply(e.getConditions())));
                if (pod) {
                    owners.computeIfAbsent(podId, k -> new HashSet<>()).add(ip);
                }
            }
        }
        List<Endpoint> endpoints = new ArrayList<>(byPod.size());
        for (List<Candidate> seen : byPod.values()) {
            Candidate chosen = seen.stream().filter(c -> !IpLiterals.isIpv6(c.ip())).findFirst().orElse(seen.get(0));
            PodState state = chosen.state();
            for (Candidate c : seen) {
                state = moreCautious(state, c.state());
            }
            try {
                endpoints.add(new Endpoint(chosen.podId(), hostPort(chosen.ip(), chosen.port()), state));
            } catch (IllegalArgumentException ex) {
                problems.add("pod " + chosen.podId() + ": " + ex.getMessage());
            }
        }
        String appProtocol = null;
        if (appProtocols.size() == 1) {
            String only = appProtocols.iterator().next();
            appProtocol = only.equals("null") ? null : only;
        } else if (appProtocols.size() > 1) {
            problems.add("slices disagree on the port's appProtocol " + appProtocols + ": none is taken");
        }
        return new SliceView(endpoints, owners, problems, appProtocol);
    }

    static PodState state(EndpointConditions c) {
        if (c != null && Boolean.TRUE.equals(c.getTerminating())) {
            return PodState.DRAINING;
        }
        if (c == null || c.getReady() == null || c.getReady()) {
            return PodState.READY;
        }
        return PodState.NOT_READY;
    }

    private static PodState moreCautious(PodState a, PodState b) {
        return rank(b) > rank(a) ? b : a;
    }

    private static int rank(PodState s) {
        return switch (s) {
            case READY -> 0;
            case NOT_READY -> 1;
            default -> 2; // DRAINING
        };
    }

    /** The slice's port for the revision, or null (with the problem said) when it has no usable one. */
    private static EndpointPort port(ServiceRef service, EndpointSlice slice, List<String> problems) {
        List<EndpointPort> ports = slice.getPorts();
        String sliceName = slice.getMetadata().getName();
        if (ports == null || ports.isEmpty()) {
            problems.add("slice " + sliceName + ": no ports");
            return null;
        }
        EndpointPort match = null;
        if (service.port() == null) {
            if (ports.size() == 1) {
                match = ports.get(0);
            } else {
                problems.add("slice " + sliceName + ": " + ports.size()
                        + " ports and the revision's service names none (set service.port)");
                return null;
            }
        } else {
            for (EndpointPort p : ports) {
                if (service.port().equals(p.getName()) || service.port().equals(String.valueOf(p.getPort()))) {
                    match = p;
                    break;
                }
            }
            if (match == null) {
                problems.add("slice " + sliceName + ": no port named or numbered '" + service.port() + "'");
                return null;
            }
        }
        if (match.getPort() == null || match.getPort() < 1 || match.getPort() > 65535) {
            problems.add("slice " + sliceName + ": port " + match.getName() + " has no usable number");
            return null;
        }
        if (match.getProtocol() != null && !"TCP".equals(match.getProtocol())) {
            problems.add("slice " + sliceName + ": port " + match.getPort() + " is " + match.getProtocol() + ", not TCP");
            return null;
        }
        return match;
    }

    static String hostPort(String canonicalIp, int port) {
        return (IpLiterals.isIpv6(canonicalIp) ? "[" + canonicalIp + "]" : canonicalIp) + ":" + port;
    }
}
