package dev.sluice.server.cluster;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.ZeroPodListener;
import dev.sluice.scaler.ActivitySignals;
import dev.sluice.scaler.DemandSource;
import dev.sluice.server.config.ClusterConfig;
import dev.sluice.server.control.ClusterControl;
import dev.sluice.server.metrics.Outcome;
import dev.sluice.server.proxy.Forwarding;
import dev.sluice.server.proxy.Route;
import dev.sluice.server.proxy.RouteOwner;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Several Sluice replicas, one limit per pod: the replica set assembled. Start reading here;
 * {@link Membership} (who is live), {@link OwnerFunction} and {@link Ownership} (who owns each
 * revision), {@link HandoffLedger} and {@link HandoffReporter} (no overshoot while ownership
 * moves) are its parts. The proxy sees it as {@link Forwarding}, the control API as
 * {@link ClusterControl}; the runtime calls {@link #routesPublished}, {@link #leave} and
 * {@link #close}.
 *
 * <h2>Implementation notes</h2>
 * One scheduler thread ({@code sluice-cluster}) runs the static peers' health rounds and, every
 * {@link #TICK}, the ledger's sweep and the handoff reports; the JDK HTTP client's threads
 * complete the checks and the reports. Everything shared is either locked in its own class
 * (membership, ownership, ledger, health) or a concurrent map here (peers seen, by id and by
 * host, for the forwarded mark's check and the reports' addresses).
 */
public final class Cluster implements Forwarding, ClusterControl, AutoCloseable {

    /** How often handoff reports go out and held slots are swept. */
    static final Duration TICK = Duration.ofMillis(20);
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final ClusterConfig config;
    private final Peer self;
    private final NanoClock clock;
    private final String bearer;
    private final ClusterMetrics metrics;
    private final HandoffLedger ledger;
    private final Ownership ownership;
    private final Membership membership;
    private final HandoffReporter reporter;
    private final PeerProber prober;
    private final HttpClient http;
    private final byte[] markLine;
    private final Map<String, Peer> seen = new ConcurrentHashMap<>();
    private final Set<InetAddress> replicaHosts = ConcurrentHashMap.newKeySet();
    private final Function<RevisionId, Route> routes;
    private volatile ClusterScaler scaler;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-cluster");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param self   this replica (for static peers, its own entry of {@code cluster.peers})
     * @param routes the running revision by id (the registry's)
     * @param token  the control token peers present to each other's control API, or null
     */
    public Cluster(ClusterConfig config, Peer self, Function<RevisionId, Route> routes, PrometheusRegistry registry,
            NanoClock clock, byte[] token) {
        this.config = config;
        this.self = self;
        this.clock = clock;
        this.bearer = token == null ? null : "Bearer " + new String(token, StandardCharsets.UTF_8).trim();
        this.routes = routes;
        this.ledger = new HandoffLedger(routes, clock, config.handoffTimeout());
        this.metrics = new ClusterMetrics(registry, ledger::held, () -> membership().live().size());
        this.ownership = new Ownership(self.id(), ledger, metrics, clock,
                config.handoffTimeout().toNanos() + config.healthInterval().toNanos());
        this.membership = new Membership(self, this::viewChanged);
        this.reporter = new HandoffReporter(ownership, ledger, clock, config.handoffTimeout().toNanos());
        this.http = HttpClient.newBuilder().connectTimeout(config.healthTimeout()).build();
        this.markLine = ("sluice-forwarded: " + self.id() + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        List<Peer> others = new ArrayList<>();
        for (ClusterConfig.Peer p : config.peers()) {
            Peer peer = new Peer(p.id(), p.address().toString(), p.control().toString());
            seen(peer);
            if (!p.id().equals(self.id())) {
                others.add(peer);
            }
        }
        seen(self);
        if (config.peers().isEmpty()) {
            this.prober = null;
        } else {
            Duration stale = config.healthInterval().multipliedBy(config.failures()).plus(config.healthTimeout());
            PeerHealth health = new PeerHealth(others, config.failures(), stale, clock);
            this.prober = new PeerProber(self, others, health, membership::update, config.healthTimeout(), clock,
                    metrics, http);
        }
    }

    /** This replica's entry of {@code cluster.peers}, or (no static peers) one made from its own addresses. */
    public static Peer self(ClusterConfig config, String proxyAddress, String controlAddress) {
        for (ClusterConfig.Peer p : config.peers()) {
            if (p.id().equals(config.self())) {
                return new Peer(p.id(), p.address().toString(), p.control().toString());
            }
        }
        return new Peer(config.self(), proxyAddress, controlAddress);
    }

    /**
     * Starts the health checks (static peers: one round is waited for, so the first view is
     * known before the proxy serves) and the handoff tick.
     */
    public void start() {
        if (prober != null) {
            prober.firstRound();
            long every = config.healthInterval().toNanos();
            scheduler.scheduleWithFixedDelay(this::probe, every, every, TimeUnit.NANOSECONDS);
        }
        scheduler.scheduleWithFixedDelay(this::tick, TICK.toNanos(), TICK.toNanos(), TimeUnit.NANOSECONDS);
        LOG.info("cluster: replica {} ({}), {} static peer(s); live now: {}", self.id(), self.address(),
                config.peers().size(), membership.live());
    }

    /**
     * The membership, for a source other than the static peers': on Kubernetes the peer watch
     * calls {@code membership().update(set)} with every snapshot of the control Service's ready
     * endpoints, each made a {@link Peer} with {@link Peer#of}.
     */
    public Membership membership() {
        return membership;
    }

    /**
     * The replica set comes from the Kubernetes peer watch (fed to {@link #membership()}): its
     * state goes into the metrics ({@code sluice_cluster_peer_watch_up},
     * {@code sluice_cluster_peer_watch_failures_total}); {@code /readyz} says it too.
     */
    public void peerWatch(BooleanSupplier up, LongSupplier failures) {
        metrics.peerWatch(up, failures);
    }

    /**
     * KEDA's external scaler runs here too: its answers become cluster-wide ({@link ClusterScaler}).
     *
     * @param local   this replica's own demand
     * @param signals the scaler's activity; its demand source must be the one returned
     * @param group   where the activity notices' connections to the other replicas live
     * @param channel the client channel type of {@code group}'s transport
     * @return the cluster-wide demand source
     */
    public ClusterScaler scaler(DemandSource local, ActivitySignals signals, EventLoopGroup group,
            Class<? extends Channel> channel) {
        ClusterScaler s = new ClusterScaler(self.id(), membership, routes, local, signals, http,
                new PeerNotifier(config.healthTimeout(), group, channel), bearer, config.healthTimeout(), metrics);
        scaler = s;
        return s;
    }

    /** A request queued here at zero pods turned the revision active; the request's thread, returns at once. */
    public void activatedHere(RevisionId id) {
        ClusterScaler s = scaler;
        if (s != null) {
            s.announce(id);
        }
    }

    /**
     * A new owner cell for a revision's route.
     *
     * @param forwardedAtZero the revision's scale-from-zero signal, told when this replica forwards
     *                        a request for it while no pod is routable
     */
    public RouteOwner newOwner(ZeroPodListener forwardedAtZero) {
        return new RouteOwner(forwardedAtZero);
    }

    /** The running revisions changed. */
    public void routesPublished(Collection<Route> routes) {
        ownership.routesPublished(routes);
    }

    /**
     * {@code /readyz} passes from now: the other replicas can find this one live only from
     * here, so holds taken at start-up for previous owners that have not reported yet count
     * their timeout from now ({@link HandoffLedger#restartUnreported}).
     */
    public void serving() {
        ledger.restartUnreported();
    }

    /** Draining: own nothing from now on; finish what is held (see {@link Membership#leave}). */
    public void leave() {
        membership.leave();
        LOG.info("cluster: replica {} leaves: new arrivals go to the other replicas", self.id());
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        ClusterScaler s = scaler;
        if (s != null) {
            s.close();
        }
        ledger.clear();
    }

    // ------------------------------------------------------------------ membership

    private void viewChanged(List<Peer> live) {
        for (Peer p : live) {
            seen(p);
        }
        for (Peer p : seen.values()) {
            metrics.peerUp(p.id(), live.contains(p));
        }
        ownership.viewChanged(live);
        LOG.info("cluster: live replicas now {}", live);
    }

    private void seen(Peer p) {
        seen.put(p.id(), p);
        try {
            replicaHosts.add(InetAddress.getByName(p.host()));
        } catch (UnknownHostException e) {
            LOG.debug("cluster: cannot resolve replica host {}: {}", p.host(), e.getMessage());
        }
    }

    private void probe() {
        try {
            prober.round();
        } catch (RuntimeException e) {
            LOG.warn("cluster: health round failed", e);
        }
    }

    // ------------------------------------------------------------------ handoff

    private void tick() {
        try {
            ledger.tick();
            for (Map.Entry<String, List<HandoffReporter.Line>> e : reporter.reports().entrySet()) {
                send(e.getKey(), e.getValue());
            }
        } catch (RuntimeException e) {
            LOG.warn("cluster: handoff tick failed", e);
        }
    }

    private void send(String ownerId, List<HandoffReporter.Line> lines) {
        Peer owner = seen.get(ownerId);
        if (owner == null) {
            return;
        }
        ObjectNode body = JSON.createObjectNode().put("from", self.id());
        ArrayNode list = body.putArray("revisions");
        for (HandoffReporter.Line l : lines) {
            ObjectNode o = list.addObject().put("revision", l.revision().toString()).put("queued", l.queued());
            ObjectNode pods = o.putObject("pods");
            l.pods().forEach(pods::put);
        }
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://" + owner.control() + "/v1/cluster/handoff"))
                .timeout(config.healthTimeout()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (bearer != null) {
            req.header("Authorization", bearer);
        }
        http.sendAsync(req.build(), HttpResponse.BodyHandlers.ofString()).whenComplete((r, err) -> {
            if (err != null || r.statusCode() != 200) {
                metrics.peerError(ownerId, "handoff");
                LOG.debug("cluster: handoff report to {} failed: {}", ownerId, err != null ? err : r.body());
            }
        });
    }

    @Override
    public String handoff(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (RuntimeException e) {
            return "not JSON: " + e.getMessage();
        }
        JsonNode from = root.get("from");
        JsonNode list = root.get("revisions");
        if (from == null || !from.isString() || from.asString().isBlank() || list == null || !list.isArray()) {
            return "a handoff report is {\"from\": \"<replica id>\", \"revisions\": [{\"revision\": \"ns/name\","
                    + " \"queued\": n, \"pods\": {\"host:port\": n}}]}";
        }
        List<Runnable> apply = new ArrayList<>();
        for (JsonNode l : list) {
            RevisionId id;
            try {
                id = RevisionId.parse(l.path("revision").asString(""));
            } catch (IllegalArgumentException e) {
                return "revision: " + e.getMessage();
            }
            int queued = l.path("queued").asInt(0);
            Map<String, Integer> pods = new HashMap<>();
            JsonNode p = l.path("pods");
            if (p.isObject()) {
                for (Map.Entry<String, JsonNode> e : p.properties()) {
                    if (!e.getValue().isIntegralNumber() || e.getValue().asInt() < 0) {
                        return "pods." + e.getKey() + ": must be a count";
                    }
                    pods.put(e.getKey(), e.getValue().asInt());
                }
            }
            apply.add(() -> ledger.report(from.asString(), id, queued, pods));
        }
        apply.forEach(Runnable::run);
        return null;
    }

    @Override
    public int heldForOthers(RevisionId revision) {
        return ledger.held(revision);
    }

    @Override
    public String demand(RevisionId revision) {
        ClusterScaler s = scaler;
        return s == null ? null : s.figure(revision);
    }

    @Override
    public String activated(String json) {
        ClusterScaler s = scaler;
        return s == null ? "this replica runs no scaler (listen.scaler is off)" : s.activated(json);
    }

    @Override
    public String self() {
        return self.id();
    }

    // ------------------------------------------------------------------ forwarding (the proxy's side)

    @Override
    public byte[] markLine() {
        return markLine;
    }

    @Override
    public boolean fromReplica(SocketAddress remote) {
        return remote instanceof InetSocketAddress a && replicaHosts.contains(a.getAddress());
    }

    @Override
    public void received() {
        metrics.received();
    }

    @Override
    public String target(Route route, int hops, String sender) {
        RouteOwner cell = route.owner();
        RouteOwner.Target owner = cell == null ? null : cell.target();
        if (owner == null || owner.forwardTo() == null) {
            return null;
        }
        switch (ForwardRule.decide(owner, hops, sender, membership.leaving())) {
            case HEIR -> {
                ledger.gained(route.config().id(), sender);
                return null;
            }
            case SERVE -> {
                return null;
            }
            default -> {
                return owner.forwardTo();
            }
        }
    }

    @Override
    public void forwarded(String owner, Outcome outcome, int code) {
        metrics.forwarded(outcome);
    }

    @Override
    public void ownerUnreachable(String ownerAddress) {
        for (Peer p : seen.values()) {
            if (p.address().equals(ownerAddress)) {
                metrics.peerError(p.id(), "forward");
                if (prober != null) {
                    prober.unreachable(p.id(), clock.nanoTime());
                }
                return;
            }
        }
    }
}
