package dev.sluice.kubernetes;

import dev.sluice.core.RevisionId;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.ServiceResource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revisions from labels: every Service carrying {@value #REVISION_LABEL} is a revision named
 * {@code <namespace>/<label value>}, its pods in that Service's EndpointSlices, its settings in
 * {@value #ANNOTATION_PREFIX}* annotations ({@code sluice.dev/containerConcurrency: "1"},
 * {@code sluice.dev/policy}, {@code sluice.dev/queueTimeout}, {@code sluice.dev/port}…). A
 * Service port with {@code appProtocol: kubernetes.io/h2c} makes it a revision of h2c pods,
 * unless {@code sluice.dev/protocol} says otherwise.
 *
 * <h2>Implementation notes</h2>
 * One informer on Services (one namespace or all). Each change hands the whole catalogue to the
 * listener, built from the informer's store on the informer's single handler thread, so the
 * listener always sees a complete, consistent set and can diff it against what runs. A Service
 * whose label value is not a valid revision name is left out and logged; the rest still apply.
 */
public final class RevisionCatalog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RevisionCatalog.class);
    public static final String REVISION_LABEL = "sluice.dev/revision";
    public static final String ANNOTATION_PREFIX = "sluice.dev/";
    public static final String PORT_ANNOTATION = ANNOTATION_PREFIX + "port";
    /** A Service port's {@code appProtocol} for HTTP/2 without TLS (KEP-3726's standard name). */
    public static final String H2C_APP_PROTOCOL = "kubernetes.io/h2c";

    private final SharedIndexInformer<Service> informer;
    private final Consumer<List<DiscoveredRevision>> listener;
    private final AtomicLong failures = new AtomicLong();
    private volatile boolean listed;

    /**
     * @param namespace the namespace to look in, or null for all (needs cluster-wide list/watch)
     */
    public RevisionCatalog(KubernetesClient client, String namespace, Consumer<List<DiscoveredRevision>> listener) {
        this.listener = listener;
        FilterWatchListDeletable<Service, ?, ServiceResource<Service>> services = namespace == null
                ? client.services().inAnyNamespace().withLabel(REVISION_LABEL)
                : client.services().inNamespace(namespace).withLabel(REVISION_LABEL);
        this.informer = services.runnableInformer(0);
        informer.exceptionHandler((started, t) -> {
            LOG.warn("Service list/watch for {} labels failed ({} so far), retrying with backoff: {}", REVISION_LABEL,
                    failures.incrementAndGet(), t.toString());
            return true;
        });
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Service obj) {
                changed();
            }

            @Override
            public void onUpdate(Service oldObj, Service newObj) {
                changed();
            }

            @Override
            public void onDelete(Service obj, boolean deletedFinalStateUnknown) {
                changed();
            }

            @Override
            public void onNothing() {
                changed();
            }
        });
    }

    public void start() {
        informer.start();
    }

    private void changed() {
        listed = true;
        listener.accept(catalogue(informer.getStore().list()));
    }

    /**
     * The {@code appProtocol} of the Service's port that serves the revision (named or numbered
     * by {@code port}, or the only one), or null. The EndpointSlices' ports carry the same value.
     */
    static String appProtocol(Service s, String port) {
        List<ServicePort> ports = s.getSpec() == null ? null : s.getSpec().getPorts();
        if (ports == null || ports.isEmpty()) {
            return null;
        }
        if (port == null) {
            return ports.size() == 1 ? ports.get(0).getAppProtocol() : null;
        }
        for (ServicePort p : ports) {
            if (port.equals(p.getName()) || p.getPort() != null && port.equals(String.valueOf(p.getPort()))
                    || p.getTargetPort() != null && port.equals(String.valueOf(p.getTargetPort().getIntVal()))) {
                return p.getAppProtocol();
            }
        }
        return null;
    }

    /** The revisions a set of Services describes (invalid ones logged and left out). */
    static List<DiscoveredRevision> catalogue(List<Service> services) {
        Map<RevisionId, DiscoveredRevision> out = new HashMap<>();
        List<Service> ordered = new ArrayList<>(services);
        // The oldest claim wins, and every replica picks the same one.
        ordered.sort(Comparator.comparing((Service s) -> String.valueOf(s.getMetadata().getCreationTimestamp()))
                .thenComparing(s -> s.getMetadata().getNamespace() + "/" + s.getMetadata().getName()));
        for (Service s : ordered) {
            String ns = s.getMetadata().getNamespace();
            String svc = s.getMetadata().getName();
            Map<String, String> labels = s.getMetadata().getLabels();
            String value = labels == null ? null : labels.get(REVISION_LABEL);
            Map<String, String> annotations = s.getMetadata().getAnnotations() == null ? Map.of()
                    : s.getMetadata().getAnnotations();
            try {
                RevisionId id = new RevisionId(ns, value == null || value.isBlank() ? svc : value);
                ServiceRef ref = new ServiceRef(ns, svc, annotations.get(PORT_ANNOTATION));
                Map<String, String> settings = new HashMap<>();
                annotations.forEach((k, v) -> {
                    if (k.startsWith(ANNOTATION_PREFIX) && !k.equals(PORT_ANNOTATION)) {
                        settings.put(k.substring(ANNOTATION_PREFIX.length()), v);
                    }
                });
                if (!settings.containsKey("protocol") && H2C_APP_PROTOCOL.equals(appProtocol(s, ref.port()))) {
                    settings.put("protocol", "h2c"); // the Service's port says its pods speak h2c
                }
                DiscoveredRevision r = new DiscoveredRevision(id, ref, settings);
                DiscoveredRevision clash = out.putIfAbsent(id, r);
                if (clash != null) {
                    LOG.warn("Service {}/{} and {} both claim revision {}; keeping {}", ns, svc, clash.source(), id,
                            clash.source());
                }
            } catch (IllegalArgumentException e) {
                LOG.warn("Service {}/{} is labelled {}={} but is left out: {}", ns, svc, REVISION_LABEL, value,
                        e.getMessage());
            }
        }
        List<DiscoveredRevision> list = new ArrayList<>(out.values());
        list.sort((a, b) -> a.id().toString().compareTo(b.id().toString()));
        return list;
    }

    public boolean synced() {
        return listed;
    }

    public boolean watching() {
        return informer.isWatching();
    }

    public long failures() {
        return failures.get();
    }

    @Override
    public void close() {
        informer.stop();
    }
}
