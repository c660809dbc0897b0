package dev.sluice.kubernetes;

import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fabric8 mock API server in CRUD mode (expectations first, then CRUD), which can be stopped
 * and started again on the same port with its objects kept: an API server outage, as the
 * watches see it.
 */
public final class MockCluster implements AutoCloseable {

    /** The mock server logs every request at INFO through java.util.logging; held so the level sticks. */
    private static final Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

    private static Logger quiet(String name) {
        Logger l = Logger.getLogger(name);
        l.setLevel(Level.WARNING);
        return l;
    }

    private final Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    private final KubernetesMixedDispatcher dispatcher = new KubernetesMixedDispatcher(responses);
    private final List<KubernetesClient> clients = new ArrayList<>();
    private KubernetesMockServer server;
    private int port;

    public MockCluster() {
        server = newServer();
        server.init(InetAddress.getLoopbackAddress(), 0);
        port = server.getPort();
    }

    private KubernetesMockServer newServer() {
        return new KubernetesMockServer(new Context(), new MockWebServer(), responses, dispatcher, false);
    }

    public KubernetesMockServer server() {
        return server;
    }

    /** A client of its own (each Sluice instance in a test has one); closed with the cluster. */
    public KubernetesClient newClient() {
        KubernetesClient c = server.createClient(b -> b.editOrNewConfig().withRequestRetryBackoffLimit(0)
                .withWatchReconnectInterval(100).withWatchReconnectLimit(-1).endConfig());
        clients.add(c);
        return c;
    }

    /** The API server goes away; everything it stored is kept for {@link #restart()}. */
    public void stop() {
        server.shutdown();
    }

    public void restart() {
        server = newServer();
        server.init(InetAddress.getLoopbackAddress(), port);
    }

    @Override
    public void close() {
        clients.forEach(KubernetesClient::close);
        server.destroy();
    }

    // ---- TokenReview, as the API server answers it

    /** Who a token belongs to: a pod-bound token names its pod; a plain SA token has no pod. */
    public record Identity(String serviceAccount, String podName, String podUid, String audience) {
    }

    private final Map<String, Identity> tokens = new ConcurrentHashMap<>();
    private final AtomicInteger tokenReviews = new AtomicInteger();
    private boolean reviewing;

    /** Makes the server answer TokenReviews for the tokens issued here; everything else is refused. */
    public synchronized void issueToken(String token, Identity who) {
        tokens.put(token, who);
        if (reviewing) {
            return;
        }
        reviewing = true;
        KubernetesSerialization json = new KubernetesSerialization();
        server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews").andReply(201, req -> {
            tokenReviews.incrementAndGet();
            TokenReview asked = json.unmarshal(req.getUtf8Body(), TokenReview.class);
            Identity id = tokens.get(asked.getSpec().getToken());
            List<String> audiences = asked.getSpec().getAudiences() == null ? List.of() : asked.getSpec().getAudiences();
            TokenReviewBuilder answer = new TokenReviewBuilder(asked);
            if (id == null) {
                return answer.withNewStatus().withAuthenticated(false).withError("invalid bearer token").endStatus().build();
            }
            if (!audiences.isEmpty() && !audiences.contains(id.audience())) {
                return answer.withNewStatus().withAuthenticated(false)
                        .withError("token audiences [" + id.audience() + "] is invalid for the target audiences "
                                + audiences).endStatus().build();
            }
            Map<String, List<String>> extra = new HashMap<>();
            if (id.podUid() != null) {
                extra.put("authentication.kubernetes.io/pod-name", List.of(id.podName()));
                extra.put("authentication.kubernetes.io/pod-uid", List.of(id.podUid()));
            }
            return answer.withNewStatus().withAuthenticated(true).withAudiences(audiences).withNewUser()
                    .withUsername("system:serviceaccount:ns:" + id.serviceAccount()).withExtra(extra).endUser()
                    .endStatus().build();
        }).always();
    }

    public int tokenReviewsAnswered() {
        return tokenReviews.get();
    }

    // ---- building slices

    public static EndpointSlice slice(String service, String name, String addressType, int port,
            Endpoint... endpoints) {
        return new EndpointSliceBuilder().withNewMetadata().withNamespace("ns").withName(name)
                .addToLabels(ServiceWatch.SERVICE_NAME_LABEL, service).endMetadata().withAddressType(addressType)
                .addNewPort().withName("http").withPort(port).withProtocol("TCP").endPort()
                .withEndpoints(endpoints).build();
    }

    public static Endpoint endpoint(String ip, String uid, Boolean ready,
            Boolean serving, Boolean terminating) {
        return new EndpointBuilder().withAddresses(ip).withNewConditions().withReady(ready).withServing(serving)
                .withTerminating(terminating).endConditions()
                .withTargetRef(new ObjectReferenceBuilder().withKind("Pod").withNamespace("ns").withName("pod-" + uid)
                        .withUid(uid).build())
                .build();
    }

    public static Endpoint ready(String ip, String uid) {
        return endpoint(ip, uid, true, true, false);
    }
}
