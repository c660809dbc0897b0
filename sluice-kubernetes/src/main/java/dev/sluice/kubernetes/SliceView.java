package dev.sluice.kubernetes;

import dev.sluice.core.control.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a Service's EndpointSlices say at one moment.
 *
 * @param endpoints one per pod, in the state the control path should see
 * @param owners    pod UID → every IP the slices list for it (all address families); what pod
 *                  authentication checks a report's address against
 * @param problems  slices or endpoints left out, and why (no usable port, no address…)
 * @param appProtocol the revision's port's {@code appProtocol} (e.g. {@code kubernetes.io/h2c}),
 *                  or null when it has none or the slices disagree
 */
public record SliceView(List<Endpoint> endpoints, Map<String, Set<String>> owners, List<String> problems,
        String appProtocol) implements ServiceView {

    public static final SliceView EMPTY = new SliceView(List.of(), Map.of(), List.of(), null);

    public SliceView {
        endpoints = List.copyOf(endpoints);
        owners = Map.copyOf(owners);
        problems = List.copyOf(problems);
    }

    @Override
    public int size() {
        return endpoints.size();
    }

    /** The pods, their states or the port's appProtocol changed (owners alone are read live by authentication). */
    @Override
    public boolean differsFrom(ServiceView before) {
        return !(before instanceof SliceView b) || !endpoints.equals(b.endpoints)
                || !Objects.equals(appProtocol, b.appProtocol);
    }

    /** Whether the pod with this UID has this IP in the slices. */
    public boolean owns(String podUid, String ip) {
        Set<String> ips = owners.get(podUid);
        return ips != null && ips.contains(ip);
    }
}
