package dev.sluice.server.cluster;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.Demand;
import dev.sluice.scaler.ActivitySignals;
import dev.sluice.scaler.DemandSource;
import dev.sluice.scaler.DemandUnavailable;
import dev.sluice.scaler.RevisionDemand;
import dev.sluice.server.proxy.Route;
import dev.sluice.server.proxy.RouteOwner;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * KEDA's external scaler across replicas: every replica answers with the same cluster-wide
 * figure, because KEDA round-robins its calls over them all.
 * <ul>
 *   <li>A revision with a limit ({@code containerConcurrency > 0}) is queued and served on its
 *       owner only, so the owner's own figure is the whole figure and the owner decides whether
 *       it is active; another replica asks it ({@code GET /v1/cluster/demand}) and relays both.</li>
 *   <li>A revision without a limit is served wherever it arrives: its figure is the sum of every
 *       live replica's own, asked of each, and each replica decides on that sum.</li>
 *   <li>A request queued at zero pods turns its revision active where it is queued; that replica
 *       tells every other live one at once ({@code POST /v1/cluster/active}), whose open
 *       {@code StreamIsActive} streams then push {@code true} without waiting for a tick.</li>
 * </ul>
 * A replica that cannot be asked within the cluster's health timeout makes the answer
 * {@link DemandUnavailable} (gRPC {@code UNAVAILABLE}, with which replica and why).
 *
 * <h2>Implementation notes</h2>
 * {@link #find} blocks for at most the health timeout: it runs on gRPC's executor and on the
 * scaler's own tick thread, never on an event loop. {@link #figure} and {@link #activated} run
 * on the control API's event loop and read this replica only. {@link #announce} is called on the
 * request's event loop and hands the sends to one thread of its own, so no event loop resolves
 * a name or waits for a peer; that thread alone uses the {@link PeerNotifier} (a kept-alive
 * connection per peer). Nothing else here is mutable but the JDK client's connections.
 */
public final class ClusterScaler implements DemandSource, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterScaler.class);
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final String self;
    private final Membership membership;
    private final Function<RevisionId, Route> routes;
    private final DemandSource local;
    private final ActivitySignals signals;
    private final HttpClient http;
    private final String bearer;
    private final Duration timeout;
    private final ClusterMetrics metrics;
    private final PeerNotifier notifier;
    private final ExecutorService announcer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sluice-scaler-peers");
        t.setDaemon(true);
        return t;
    });

    ClusterScaler(String self, Membership membership, Function<RevisionId, Route> routes, DemandSource local,
            ActivitySignals signals, HttpClient http, PeerNotifier notifier, String bearer, Duration timeout,
            ClusterMetrics metrics) {
        this.self = self;
        this.membership = membership;
        this.routes = routes;
        this.local = local;
        this.signals = signals;
        this.http = http;
        this.bearer = bearer;
        this.timeout = timeout;
        this.metrics = metrics;
        this.notifier = notifier;
    }

    // ------------------------------------------------------------------ the scaler's side

    /** The cluster-wide figure (class notes). */
    @Override
    public RevisionDemand find(RevisionId id) {
        Route r = routes.apply(id);
        RevisionDemand here = local.find(id);
        if (r == null || here == null) {
            return null;
        }
        if (r.config().containerConcurrency() == 0) {
            return summed(here);
        }
        RouteOwner cell = r.owner();
        if (cell == null || cell.forwardTo() == null) {
            return here;
        }
        String ownerId = cell.ownerId();
        Peer owner = live(ownerId);
        if (owner == null) {
            throw new DemandUnavailable(id + " is owned by replica " + ownerId + ", which is not live now;"
                    + " ask again once ownership settles");
        }
        JsonNode f = await(owner, ask(owner, id), id);
        if (!f.has("active")) {
            throw new DemandUnavailable("replica " + owner.id() + " does not own " + id + " (it says "
                    + f.path("owner").asString("nobody") + " does): ownership is moving; ask again");
        }
        return new RevisionDemand(id, demand(f, r), here.scaleToZeroGrace(), f.get("active").asBoolean());
    }

    private RevisionDemand summed(RevisionDemand here) {
        List<Peer> others = new ArrayList<>();
        List<CompletableFuture<HttpResponse<String>>> asked = new ArrayList<>();
        for (Peer p : membership.live()) {
            if (!p.id().equals(self)) {
                others.add(p);
                asked.add(ask(p, here.id()));
            }
        }
        Demand d = here.demand();
        int queued = d.queued();
        int inFlight = d.inFlight();
        int pods = d.routablePods();
        long admitted = d.admitted();
        for (int i = 0; i < others.size(); i++) {
            JsonNode f = await(others.get(i), asked.get(i), here.id());
            queued += f.path("queued").asInt(0);
            inFlight += f.path("inFlight").asInt(0);
            pods += f.path("routablePods").asInt(0);
            admitted += f.path("admitted").asLong(0);
        }
        return new RevisionDemand(here.id(), new Demand(queued, inFlight, pods, d.containerConcurrency(), admitted),
                here.scaleToZeroGrace());
    }

    private static Demand demand(JsonNode f, Route r) {
        return new Demand(f.path("queued").asInt(0), f.path("inFlight").asInt(0), f.path("routablePods").asInt(0),
                r.config().containerConcurrency(), f.path("admitted").asLong(0));
    }

    private Peer live(String id) {
        for (Peer p : membership.live()) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        return null;
    }

    private CompletableFuture<HttpResponse<String>> ask(Peer p, RevisionId id) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://" + p.control()
                + "/v1/cluster/demand?revision=" + URLEncoder.encode(id.toString(), StandardCharsets.UTF_8)))
                .timeout(timeout).GET();
        if (bearer != null) {
            req.header("Authorization", bearer);
        }
        return http.sendAsync(req.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode await(Peer p, CompletableFuture<HttpResponse<String>> asked, RevisionId id) {
        HttpResponse<String> r;
        try {
            r = asked.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DemandUnavailable("interrupted while asking replica " + p.id() + " for " + id + "'s demand");
        } catch (ExecutionException e) {
            metrics.peerError(p.id(), "demand");
            Throwable cause = e.getCause() instanceof IOException ? e.getCause() : e;
            throw new DemandUnavailable("cannot ask replica " + p.id() + " (control " + p.control() + ") for " + id
                    + "'s demand within " + timeout.toMillis() + " ms: " + cause);
        }
        if (r.statusCode() != 200) {
            metrics.peerError(p.id(), "demand");
            throw new DemandUnavailable("replica " + p.id() + " answered " + r.statusCode() + " when asked for " + id
                    + "'s demand: " + r.body().strip());
        }
        try {
            return JSON.readTree(r.body());
        } catch (RuntimeException e) {
            throw new DemandUnavailable("replica " + p.id() + " answered " + id + "'s demand with no JSON: "
                    + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ the control API's side

    /**
     * This replica's own figure for {@code GET /v1/cluster/demand}, as JSON, or null when it does
     * not run the revision; with {@code active} only when it owns the revision (the owner decides).
     */
    String figure(RevisionId id) {
        Route r = routes.apply(id);
        RevisionDemand d = local.find(id);
        if (r == null || d == null) {
            return null;
        }
        Demand x = d.demand();
        ObjectNode o = JSON.createObjectNode().put("revision", id.toString()).put("replica", self)
                .put("queued", x.queued()).put("inFlight", x.inFlight()).put("routablePods", x.routablePods())
                .put("admitted", x.admitted());
        RouteOwner cell = r.owner();
        o.put("owner", cell == null ? null : cell.ownerId());
        if (x.containerConcurrency() > 0 && (cell == null || cell.forwardTo() == null)) {
            o.put("active", signals.isActive(d));
        }
        return o.toString();
    }

    /** {@code POST /v1/cluster/active}: another replica queued a request of the revision at zero pods. */
    String activated(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (RuntimeException e) {
            return "not JSON: " + e.getMessage();
        }
        JsonNode from = root.get("from");
        JsonNode revision = root.get("revision");
        if (from == null || !from.isString() || revision == null || !revision.isString()) {
            return "an activity notice is {\"from\": \"<replica id>\", \"revision\": \"ns/name\"}";
        }
        RevisionId id;
        try {
            id = RevisionId.parse(revision.asString());
        } catch (IllegalArgumentException e) {
            return "revision: " + e.getMessage();
        }
        if (routes.apply(id) == null) {
            return "this replica runs no revision " + id;
        }
        signals.queuedWithNoPod(id);
        return null;
    }

    // ------------------------------------------------------------------ the request path's side

    /** A request queued here at zero pods turned the revision active: tell the others. Any thread; returns at once. */
    public void announce(RevisionId id) {
        try {
            announcer.execute(() -> notice(id));
        } catch (RejectedExecutionException closing) {
            // Sluice is stopping: no one is told any more.
        }
    }

    /** The announcer's thread. */
    private void notice(RevisionId id) {
        String body = JSON.createObjectNode().put("from", self).put("revision", id.toString()).toString();
        List<String> controls = new ArrayList<>();
        Map<String, String> ids = new HashMap<>();
        for (Peer p : membership.live()) {
            if (!p.id().equals(self)) {
                controls.add(p.control());
                ids.put(p.control(), p.id());
            }
        }
        notifier.post(controls, "/v1/cluster/active", bearer, body, (control, why) -> {
            metrics.peerError(ids.get(control), "active");
            LOG.debug("cluster: telling {} ({}) that {} is active failed: {}", ids.get(control), control, id, why);
        });
    }

    @Override
    public void close() {
        // The notifier's sockets belong to the announcer's thread: closed there, last.
        try {
            announcer.execute(notifier::close);
        } catch (RejectedExecutionException closedBefore) {
            return;
        }
        announcer.shutdown();
    }
}
