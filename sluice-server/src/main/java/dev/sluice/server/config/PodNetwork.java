package dev.sluice.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * One entry of {@code control.allowedPodNetworks}: an IPv4 or IPv6 network in CIDR notation
 * ({@code 10.0.0.0/8}, {@code fd00::/8}). Parsed from literals only, never through DNS.
 *
 * @param text as written in the file (for messages)
 */
public record PodNetwork(InetAddress network, int prefix, String text) {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** @throws IllegalArgumentException saying what is wrong with the text */
    public static PodNetwork parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' is not a network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8");
        }
        String host = text.substring(0, slash).trim();
        InetAddress address = literal(host);
        if (address == null) {
            throw new IllegalArgumentException("'" + text + "' does not start with an IPv4 or IPv6 address");
        }
        int max = address.getAddress().length * 8;
        int prefix;
        try {
            prefix = Integer.parseInt(text.substring(slash + 1).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' has a prefix length that is not a number");
        }
        if (prefix < 0 || prefix > max) {
            throw new IllegalArgumentException("'" + text + "' has prefix length " + prefix + ", outside 0-" + max);
        }
        if (!masked(address.getAddress(), prefix)) {
            throw new IllegalArgumentException("'" + text + "' has host bits set: a network's address ends in zeros"
                    + " after its prefix");
        }
        return new PodNetwork(address, prefix, host + "/" + prefix);
    }

    /**
     * The address a literal names, or null when it is not an IP literal (a name is never
     * looked up).
     */
    public static InetAddress literal(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!IPV4.matcher(h).matches() && !IPV6.matcher(h).matches()) {
            return null;
        }
        try {
            return InetAddress.getByName(h); // a literal: parsed, not resolved
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Whether the address is in this network (an IPv4 address is never in an IPv6 network). */
    public boolean contains(InetAddress a) {
        byte[] n = network.getAddress();
        byte[] x = a.getAddress();
        if (n.length != x.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (n[i] != x[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xff << (8 - rest) & 0xff;
        return (n[full] & mask) == (x[full] & mask);
    }

    private static boolean masked(byte[] bytes, int prefix) {
        for (int bit = prefix; bit < bytes.length * 8; bit++) {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }
}
