package dev.sluice.kubernetes;

import dev.sluice.core.RevisionId;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One revision's view of its Service: an informer on the EndpointSlices labelled
 * {@code kubernetes.io/service-name=<service>}, and the {@link SliceView} they make.
 *
 * <h2>Implementation notes</h2>
 * fabric8 calls a handler of one informer from one thread at a time, and its store already holds
 * the change when the handler runs, so each event rebuilds the view from the whole store
 * (several slices per Service: the view is never one slice's). A view equal to the last one is
 * not passed on. {@code view} is volatile: authentication reads it from other threads. List and
 * watch failures (API server down, 410 Gone, expired watch) are retried by the informer with
 * backoff for as long as Sluice runs; each is counted and logged, and the last view stays in
 * force meanwhile. A watch that closes and reconnects at once is not an exception to fabric8;
 * {@link #poll()} notices it (and counts it) from the watching flag.
 */
final class ServiceWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceWatch.class);
    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    final RevisionId revision;
    final ServiceRef service;
    private final Consumer<SliceView> onChange;
    private final SharedIndexInformer<EndpointSlice> informer;
    private final AtomicLong failures = new AtomicLong();
    private volatile SliceView view = SliceView.EMPTY;
    private volatile boolean listed;
    private volatile String lastProblems = "";
    private boolean wasWatching;
    private long interruptions;

    ServiceWatch(KubernetesClient client, RevisionId revision, ServiceRef service, Consumer<SliceView> onChange) {
        this.revision = revision;
        this.service = service;
        this.onChange = onChange;
        this.informer = client.discovery().v1().endpointSlices().inNamespace(service.namespace())
                .withLabel(SERVICE_NAME_LABEL, service.name()).runnableInformer(0);
        informer.exceptionHandler((started, t) -> {
            long n = failures.incrementAndGet();
            LOG.warn("{}: EndpointSlice list/watch of service {} failed ({} so far), retrying with backoff: {}",
                    revision, service, n, t.toString());
            return true;
        });
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(EndpointSlice obj) {
                changed();
            }

            @Override
            public void onUpdate(EndpointSlice oldObj, EndpointSlice newObj) {
                changed();
            }

            @Override
            public void onDelete(EndpointSlice obj, boolean deletedFinalStateUnknown) {
                changed();
            }

            @Override
            public void onNothing() {
                changed();
            }
        });
    }

    void start() {
        informer.start();
    }

    private void changed() {
        synchronized (this) {
            wasWatching = true; // events arrive: list and watch work
        }
        SliceView next = SliceTranslator.translate(service, informer.getStore().list());
        boolean first = !listed;
        listed = true;
        String problems = String.join("; ", next.problems());
        if (!problems.isEmpty() && !problems.equals(lastProblems)) {
            LOG.warn("{}: service {}: {}", revision, service, problems);
        }
        lastProblems = problems;
        SliceView before = view;
        view = next;
        if (first || !next.endpoints().equals(before.endpoints())) {
            onChange.accept(next);
        }
    }

    SliceView view() {
        return view;
    }

    /**
     * Notices a watch that was lost or came back (fabric8 re-establishes it by itself and
     * reports only failed attempts); called by {@link #status()} and by the server every second.
     */
    synchronized boolean poll() {
        boolean watching = informer.isWatching();
        if (wasWatching && !watching) {
            interruptions++;
            LOG.warn("{}: the EndpointSlice watch of service {} was lost; routing on the last known view ({} pods)"
                    + " until it is back", revision, service, view.endpoints().size());
        } else if (!wasWatching && watching && interruptions > 0) {
            LOG.info("{}: the EndpointSlice watch of service {} is back", revision, service);
        }
        wasWatching = watching;
        return watching;
    }

    WatchStatus status() {
        boolean watching = poll();
        long lost;
        synchronized (this) {
            lost = interruptions;
        }
        return new WatchStatus(revision, service, listed, watching, failures.get() + lost, view.endpoints().size());
    }

    @Override
    public void close() {
        informer.stop();
    }
}
