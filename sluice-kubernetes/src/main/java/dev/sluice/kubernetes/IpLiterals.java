package dev.sluice.kubernetes;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** IP literals in one spelling, so {@code fd00::1} and {@code fd00:0:0:0:0:0:0:1} compare equal. */
final class IpLiterals {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private IpLiterals() {
    }

    /**
     * @return the canonical spelling of an IP literal (brackets removed), or null when the text
     *         is not one (a host name is never resolved here)
     */
    static String canonical(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        String t = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (!IPV4.matcher(t).matches() && !(t.indexOf(':') >= 0 && t.matches("[0-9A-Fa-f:.%A-Za-z]+"))) {
            return null;
        }
        try {
            return InetAddress.getByName(t).getHostAddress(); // a literal: parsed, never looked up
        } catch (UnknownHostException | SecurityException e) {
            return null;
        }
    }

    /** The host part of {@code host:port} ({@code [v6]:port} included), canonical, or null. */
    static String hostOf(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return colon <= 0 ? null : canonical(hostPort.substring(0, colon));
    }

    static boolean isIpv6(String canonical) {
        return canonical.indexOf(':') >= 0;
    }
}
