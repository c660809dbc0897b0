package dev.sluice.server.control;

import dev.sluice.server.config.PodNetwork;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.List;
import java.util.function.Supplier;

/**
 * Where a reported pod may be. Two rules:
 *
 * <ol>
 *   <li>Never one of Sluice's own listen sockets (proxy or control port), whoever reports it: a
 *       pod there would make Sluice proxy to itself. A pod address is Sluice's own when its
 *       port is a listen port and its host is that socket's address; a socket bound to the
 *       wildcard ({@code 0.0.0.0} or {@code ::}, which on Linux takes both families) is reached
 *       through every address of this machine, so any loopback address, the wildcard itself,
 *       or an address of a local interface with that port is refused too.</li>
 *   <li>With {@code control.allowedPodNetworks} set, a report accepted on the static token (or
 *       on a loopback-only control API with no token) must name an address inside one of the
 *       networks. On Kubernetes a pod's own token is checked by TokenReview against the pod it
 *       belongs to, which is a stronger rule, so the networks are not applied to it.</li>
 * </ol>
 *
 * <p>Addresses are compared as written, never looked up in DNS (the control loop must not
 * block, and a name's answer can change after the check): a pod reported by name passes rule
 * 1 unless it is {@code localhost}, and is refused by rule 2, since a name has no network.
 * Pods should report their IP address.
 */
public final class PodAddressRule {

    private final Supplier<List<InetSocketAddress>> own;
    private final List<PodNetwork> networks;

    /**
     * @param own      Sluice's bound listen sockets (read at each check: ports bound as 0 are
     *                 known only once listening)
     * @param networks {@code control.allowedPodNetworks}; empty = no network rule
     */
    public PodAddressRule(Supplier<List<InetSocketAddress>> own, List<PodNetwork> networks) {
        this.own = own;
        this.networks = List.copyOf(networks);
    }

    /** A rule that allows every address (for tests of other parts). */
    public static PodAddressRule none() {
        return new PodAddressRule(List::of, List.of());
    }

    /**
     * Why the pod address (already a valid {@code host:port}) may not be used, or null if it may.
     *
     * @param staticToken whether the report came with the static token or none (network rule applies)
     */
    public String refusal(String address, boolean staticToken) {
        int colon = address.lastIndexOf(':');
        String host = address.substring(0, colon);
        int port = Integer.parseInt(address.substring(colon + 1));
        InetAddress ip = host.equalsIgnoreCase("localhost") ? InetAddress.getLoopbackAddress()
                : PodNetwork.literal(host);
        if (ip != null) {
            for (InetSocketAddress listen : own.get()) {
                if (listen.getPort() == port && reaches(ip, listen.getAddress())) {
                    return "address " + address + " is Sluice's own listen address (" + listen.getAddress()
                            .getHostAddress() + ":" + listen.getPort() + "): a pod cannot be Sluice itself";
                }
            }
        }
        if (!staticToken || networks.isEmpty()) {
            return null;
        }
        if (ip == null) {
            return "address " + address + " is a name, and control.allowedPodNetworks is set: report the pod's IP"
                    + " address";
        }
        for (PodNetwork n : networks) {
            if (n.contains(ip)) {
                return null;
            }
        }
        return "address " + address + " is outside control.allowedPodNetworks " + networks;
    }

    /** Whether connecting to {@code ip} at the listen port would reach a socket bound to {@code bound}. */
    private static boolean reaches(InetAddress ip, InetAddress bound) {
        if (bound == null || ip.equals(bound)) {
            return true;
        }
        if (ip.isAnyLocalAddress()) {
            return true; // connecting to 0.0.0.0 or :: reaches this machine, where the socket is bound
        }
        return bound.isAnyLocalAddress() && isLocal(ip);
    }

    private static boolean isLocal(InetAddress ip) {
        if (ip.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(ip) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
