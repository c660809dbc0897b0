package dev.sluice.server.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.EventSource;
import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.control.PodAuthenticator.Verdict;
import dev.sluice.core.control.PodEvent;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.control.UnknownRevisionException;
import dev.sluice.server.metrics.SluiceMetrics;
import dev.sluice.server.platform.Transport;
import dev.sluice.server.proxy.Routes;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The control API, default port 8081.
 *
 * <ul>
 *   <li>{@code POST /v1/pods} — a pod's own report: {@code {"revision":"ns/name","podId":"…",
 *       "address":"ip:port","state":"ready|not-ready|draining"}}, with
 *       {@code Authorization: Bearer <token>}: the control token, or on Kubernetes the pod's own
 *       projected ServiceAccount token. 200 once applied; 401 without a valid token, 403 when
 *       the token's pod is not the pod or address reported, 400 for a malformed report (not JSON,
 *       a field missing or unknown, a state other than those three — case-sensitive — or an
 *       address that {@link PodAddressRule} refuses: Sluice's own, or outside
 *       {@code control.allowedPodNetworks}), 404 for an unknown revision, 503 when the token
 *       cannot be checked now — and then nothing changes.</li>
 *   <li>{@code GET /v1/revisions} — capacity, queued (and, with a {@code queueing}
 *       section, {@code queueByClass}) and active per revision, its last cold
 *       start ({@code lastColdStartSeconds}: first request queued at zero pods to first pod
 *       routable; null before the first) and whether one is under way,,
 *       its pods' protocol,
 *       the requests it completed by client protocol ({@code requests: {http1, h2}}), and every pod
 *       Sluice knows of: those with a slot (state, in-flight count) and those still waiting for
 *       a readiness check to pass ({@code "state": "validating"}), each with its last check's
 *       result and error.</li>
 *   <li>{@code GET /healthz} (alive), {@code GET /readyz} (fails once shutdown begins, and
 *       until every Kubernetes discovery has listed once; says when a watch is down and Sluice
 *       routes on its last known view),
 *       {@code GET /metrics} (Prometheus text format).</li>
 *   <li>Between replicas, with the control token only: {@code POST /v1/cluster/handoff}
 *       (handoff reports), {@code GET /v1/cluster/demand?revision=ns/name} (this replica's own
 *       queued, in-flight, routable-pod and admitted counts for KEDA's scaler, and its
 *       {@code active} answer when it owns the revision) and {@code POST /v1/cluster/active}
 *       ({@code {"from": "<replica>", "revision": "ns/name"}}: a request was queued there at
 *       zero pods).</li>
 * </ul>
 */
public final class ControlServer {

    /** As Jackson 2 read a report: what follows the first JSON value is ignored. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private static final int MAX_BODY = 64 * 1024;

    private final Channel channel;

    private ControlServer(Channel channel) {
        this.channel = channel;
    }

    /**
     * What the control API reads and acts on.
     *
     * @param authenticator decides on pod reports; null = no credential needed (loopback only,
     *                      enforced at start-up)
     * @param addresses     where a reported pod may be ({@link PodAddressRule})
     * @param cluster       the replica set, or null when Sluice runs alone
     */
    public record Backend(StateManager control, Supplier<Routes> routes, SluiceMetrics metrics,
            Supplier<Readiness> readiness, PodAuthenticator authenticator, PodAddressRule addresses,
            ClusterControl cluster) {
    }

    /** {@code /readyz}: the verdict and the lines that explain it. */
    public record Readiness(boolean ready, String detail) {
    }

    public static ControlServer start(InetSocketAddress address, EventLoopGroup group, Transport transport,
            Backend backend) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY),
                                new Handler(backend));
                    }
                });
        return new ControlServer(b.bind(address).sync().channel());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Backend backend;

        Handler(Backend backend) {
            this.backend = backend;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keep = HttpUtil.isKeepAlive(req);
            if (req.decoderResult().isFailure()) {
                send(ctx, text(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request\n"), false);
                return;
            }
            String path = new QueryStringDecoder(req.uri()).path();
            HttpMethod m = req.method();
            switch (path) {
                case "/healthz" -> send(ctx, text(HttpResponseStatus.OK, "ok\n"), keep);
                case "/readyz" -> {
                    Readiness r = backend.readiness().get();
                    send(ctx, text(r.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                            r.detail()), keep);
                }
                case "/metrics" -> {
                    byte[] body = backend.metrics().scrape();
                    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            Unpooled.wrappedBuffer(body));
                    r.headers().set(HttpHeaderNames.CONTENT_TYPE, backend.metrics().contentType());
                    send(ctx, r, keep);
                }
                case "/v1/revisions" -> {
                    if (!m.equals(HttpMethod.GET)) {
                        send(ctx, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET\n"), keep);
                    } else {
                        send(ctx, json(HttpResponseStatus.OK, RevisionsView.of(backend, JSON.createArrayNode())), keep);
                    }
                }
                case "/v1/cluster/handoff" -> {
                    if (!m.equals(HttpMethod.POST)) {
                        send(ctx, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST\n"), keep);
                    } else {
                        handoff(ctx, req, keep);
                    }
                }
                case "/v1/cluster/demand" -> {
                    if (!m.equals(HttpMethod.GET)) {
                        send(ctx, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET\n"), keep);
                    } else {
                        demand(ctx, req, keep);
                    }
                }
                case "/v1/cluster/active" -> {
                    if (!m.equals(HttpMethod.POST)) {
                        send(ctx, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST\n"), keep);
                    } else {
                        activated(ctx, req, keep);
                    }
                }
                case "/v1/pods" -> {
                    if (!m.equals(HttpMethod.POST)) {
                        send(ctx, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST\n"), keep);
                    } else {
                        report(ctx, req, keep);
                    }
                }
                default -> send(ctx, text(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + path
                        + " (known: POST /v1/pods, GET /v1/revisions, /healthz, /readyz, /metrics; between replicas:"
                        + " /v1/cluster/handoff, /v1/cluster/demand, /v1/cluster/active)\n"), keep);
            }
        }

        /**
         * Another replica's handoff report: what it still runs of revisions this one owns. Only
         * the control token is accepted (a pod's token is not a replica's).
         */
        private void handoff(ChannelHandlerContext ctx, FullHttpRequest req, boolean keep) {
            ClusterControl cluster = replica(ctx, req, keep, "a handoff report");
            if (cluster == null) {
                return;
            }
            String refusal = cluster.handoff(req.content().toString(StandardCharsets.UTF_8));
            send(ctx, refusal == null ? text(HttpResponseStatus.OK, "ok\n")
                    : text(HttpResponseStatus.BAD_REQUEST, refusal + "\n"), keep);
        }

        /** Another replica's scaler asks this one's own demand figure for a revision (control token only). */
        private void demand(ChannelHandlerContext ctx, FullHttpRequest req, boolean keep) {
            ClusterControl cluster = replica(ctx, req, keep, "a demand query");
            if (cluster == null) {
                return;
            }
            List<String> given = new QueryStringDecoder(req.uri()).parameters().get("revision");
            RevisionId id;
            try {
                if (given == null || given.size() != 1) {
                    throw new IllegalArgumentException("give one ?revision=<namespace>/<name>");
                }
                id = RevisionId.parse(given.get(0));
            } catch (IllegalArgumentException e) {
                send(ctx, text(HttpResponseStatus.BAD_REQUEST, "revision: " + e.getMessage() + "\n"), keep);
                return;
            }
            String figure = cluster.demand(id);
            if (figure == null) {
                send(ctx, text(HttpResponseStatus.NOT_FOUND, "this replica runs no revision " + id
                        + " or no scaler (listen.scaler)\n"), keep);
                return;
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(figure, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            send(ctx, r, keep);
        }

        /** Another replica says a request of a revision was queued there at zero pods (control token only). */
        private void activated(ChannelHandlerContext ctx, FullHttpRequest req, boolean keep) {
            ClusterControl cluster = replica(ctx, req, keep, "an activity notice");
            if (cluster == null) {
                return;
            }
            String refusal = cluster.activated(req.content().toString(StandardCharsets.UTF_8));
            send(ctx, refusal == null ? text(HttpResponseStatus.OK, "ok\n")
                    : text(HttpResponseStatus.BAD_REQUEST, refusal + "\n"), keep);
        }

        /**
         * The cluster, when the request comes from a replica: Sluice runs in a cluster and the
         * control token is presented (a pod's token is not a replica's); else answers and null.
         */
        private ClusterControl replica(ChannelHandlerContext ctx, FullHttpRequest req, boolean keep, String what) {
            ClusterControl cluster = backend.cluster();
            if (cluster == null) {
                send(ctx, text(HttpResponseStatus.NOT_FOUND, "this Sluice runs alone (no cluster: section)\n"), keep);
                return null;
            }
            PodAuthenticator auth = backend.authenticator();
            String bearer = bearer(req);
            if (auth != null && !(bearer != null && auth instanceof StaticTokenAuthenticator s
                    && s.isControlToken(bearer))) {
                send(ctx, text(HttpResponseStatus.UNAUTHORIZED, what + " needs the control token\n"), keep);
                return null;
            }
            return cluster;
        }

        private void report(ChannelHandlerContext ctx, FullHttpRequest req, boolean keep) {
            PodAuthenticator auth = backend.authenticator();
            String bearer = bearer(req);
            if (auth != null && bearer == null) {
                refuse(ctx, keep, Verdict.unauthenticated("missing bearer token (Authorization: Bearer <token>)"));
                return;
            }
            PodEvent event;
            try {
                event = parse(req.content().toString(StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                send(ctx, text(HttpResponseStatus.BAD_REQUEST, e.getMessage() + "\n"), keep);
                return;
            }
            if (auth == null) {
                checkedApply(ctx, event, true, keep);
                return;
            }
            boolean staticToken = auth instanceof StaticTokenAuthenticator s && s.isControlToken(bearer);
            auth.authenticate(bearer, event).whenComplete((verdict, err) -> ctx.executor().execute(() -> {
                Verdict v = err != null ? Verdict.unavailable("cannot check the token now: " + err.getMessage())
                        : verdict;
                backend.metrics().podReport(v.outcome());
                if (v.isAccepted()) {
                    checkedApply(ctx, event, staticToken, keep);
                } else {
                    refuse(ctx, keep, v);
                }
            }));
        }

        /** Applies an authenticated report whose address passes {@link PodAddressRule}; else 400. */
        private void checkedApply(ChannelHandlerContext ctx, PodEvent event, boolean staticToken, boolean keep) {
            String refusal = backend.addresses().refusal(event.address(), staticToken);
            if (refusal != null) {
                send(ctx, text(HttpResponseStatus.BAD_REQUEST, refusal + "\n"), keep);
                return;
            }
            apply(ctx, event, keep);
        }

        private void apply(ChannelHandlerContext ctx, PodEvent event, boolean keep) {
            try {
                backend.control().report(event).whenComplete((ok, err) -> ctx.executor().execute(() -> {
                    if (err == null) {
                        send(ctx, text(HttpResponseStatus.OK, "applied\n"), keep);
                    } else {
                        send(ctx, text(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                                "the report could not be applied: " + err.getMessage() + "\n"), keep);
                    }
                }));
            } catch (UnknownRevisionException e) {
                send(ctx, text(HttpResponseStatus.NOT_FOUND, e.getMessage() + "\n"), keep);
            }
        }

        private static void refuse(ChannelHandlerContext ctx, boolean keep, Verdict v) {
            HttpResponseStatus status = switch (v.outcome()) {
                case UNAUTHENTICATED -> HttpResponseStatus.UNAUTHORIZED;
                case FORBIDDEN -> HttpResponseStatus.FORBIDDEN;
                default -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            };
            FullHttpResponse r = text(status, v.reason() + "\n");
            if (status == HttpResponseStatus.UNAUTHORIZED) {
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            } else if (status == HttpResponseStatus.SERVICE_UNAVAILABLE) {
                r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            }
            send(ctx, r, keep);
        }

        private static String bearer(FullHttpRequest req) {
            String h = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7) || h.substring(7).isBlank()) {
                return null;
            }
            return h.substring(7).trim();
        }

        /** @throws IllegalArgumentException saying what is wrong with the report */
        static PodEvent parse(String body) {
            JsonNode n;
            try {
                n = JSON.readTree(body);
            } catch (JacksonException e) {
                throw new IllegalArgumentException("body is not valid JSON: " + e.getOriginalMessage());
            }
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException(
                        "body must be a JSON object: {\"revision\",\"podId\",\"address\",\"state\"}");
            }
            Iterator<String> names = n.propertyNames().iterator();
            while (names.hasNext()) {
                String name = names.next();
                if (!REPORT_FIELDS.contains(name)) {
                    throw new IllegalArgumentException("unknown field '" + name + "' (known: "
                            + String.join(", ", REPORT_FIELDS) + ")");
                }
            }
            RevisionId revision = RevisionId.parse(field(n, "revision"));
            String state = field(n, "state");
            if (!REPORTABLE_STATES.contains(state)) {
                throw new IllegalArgumentException("state '" + state + "' cannot be reported: expected one of "
                        + String.join(", ", REPORTABLE_STATES) + " (lower case)");
            }
            return PodEvent.of(EventSource.POD, revision, field(n, "podId"), field(n, "address"), state);
        }

        /** What a report may contain; anything else is a typo that must not pass silently. */
        private static final List<String> REPORT_FIELDS = List.of("address", "podId", "revision", "state");
        /** What a pod may say of itself, exactly as documented (the core also knows pending, for discovery). */
        private static final List<String> REPORTABLE_STATES = List.of("ready", "not-ready", "draining");

        private static String field(JsonNode n, String name) {
            JsonNode v = n.get(name);
            if (v == null || v.isNull()) {
                throw new IllegalArgumentException("field '" + name + "' is missing");
            }
            if (!v.isString()) {
                throw new IllegalArgumentException("field '" + name + "' must be a string");
            }
            return v.asString();
        }

        private static FullHttpResponse text(HttpResponseStatus st, String body) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, st,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            return r;
        }

        private static FullHttpResponse json(HttpResponseStatus st, JsonNode body) {
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, st, Unpooled.wrappedBuffer(bytes));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            return r;
        }

        private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keep) {
            HttpUtil.setContentLength(r, r.content().readableBytes());
            HttpUtil.setKeepAlive(r, keep);
            if (keep) {
                ctx.writeAndFlush(r);
            } else {
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
