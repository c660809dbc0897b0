package dev.sluice.kubernetes;

import dev.sluice.core.RevisionId;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Service's view for one watcher (a revision's pods, or Sluice's own peers): an informer on
 * the EndpointSlices labelled {@code kubernetes.io/service-name=<service>}, and the
 * {@link SliceView} they make.
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
final class ServiceWatch<V extends ServiceView> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceWatch.class);
    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private final String subject;
    final ServiceRef service;
    private final Function<Collection<EndpointSlice>, V> translate;
    private final Consumer<V> onChange;
    private final SharedIndexInformer<EndpointSlice> informer;
    private final AtomicLong failures = new AtomicLong();
    private volatile V view;
    private volatile boolean listed;
    private volatile String lastProblems = "";
    private boolean wasWatching;
    private long interruptions;

    /** A revision's pods, translated by the revision pods' rule. */
    static ServiceWatch<SliceView> ofRevision(KubernetesClient client, RevisionId revision, ServiceRef service,
            Consumer<SliceView> onChange) {
        return new ServiceWatch<>(client, revision.toString(), service, SliceView.EMPTY,
                slices -> SliceTranslator.translate(service, slices), onChange);
    }

    /**
     * @param subject   who watches, for the logs
     * @param empty     the view before the first list
     * @param translate the whole store's slices → the view (called on the informer's thread)
     * @param onChange  receives the first view and every one that {@linkplain ServiceView#differsFrom
     *                  differs} from the last (on the informer's thread)
     */
    ServiceWatch(KubernetesClient client, String subject, ServiceRef service, V empty,
            Function<Collection<EndpointSlice>, V> translate, Consumer<V> onChange) {
        this.subject = subject;
        this.view = empty;
        this.service = service;
        this.translate = translate;
        this.onChange = onChange;
        this.informer = client.discovery().v1().endpointSlices().inNamespace(service.namespace())
                .withLabel(SERVICE_NAME_LABEL, service.name()).runnableInformer(0);
        informer.exceptionHandler((started, t) -> {
            long n = failures.incrementAndGet();
            LOG.warn("{}: EndpointSlice list/watch of service {} failed ({} so far), retrying with backoff: {}",
                    subject, service, n, t.toString());
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
        V next = translate.apply(informer.getStore().list());
        boolean first = !listed;
        listed = true;
        String problems = String.join("; ", next.problems());
        if (!problems.isEmpty() && !problems.equals(lastProblems)) {
            LOG.warn("{}: service {}: {}", subject, service, problems);
        }
        lastProblems = problems;
        V before = view;
        view = next;
        if (first || next.differsFrom(before)) {
            onChange.accept(next);
        }
    }

    V view() {
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
                    + " until it is back", subject, service, view.size());
        } else if (!wasWatching && watching && interruptions > 0) {
            LOG.info("{}: the EndpointSlice watch of service {} is back", subject, service);
        }
        wasWatching = watching;
        return watching;
    }

    /** The first list has arrived (until then the view is empty for want of news, not of pods). */
    boolean synced() {
        return listed;
    }

    /** Watches lost and list/watch attempts failed since start. */
    /** Whether the watch was open at the last {@link #poll()} (no poll, no log: for a scrape). */
    synchronized boolean watchingAtLastPoll() {
        return wasWatching;
    }

    long failures() {
        long lost;
        synchronized (this) {
            lost = interruptions;
        }
        return failures.get() + lost;
    }

    WatchStatus status(RevisionId revision) {
        boolean watching = poll();
        return new WatchStatus(revision, service, listed, watching, failures(), view.size());
    }

    @Override
    public void close() {
        informer.stop();
    }
}
