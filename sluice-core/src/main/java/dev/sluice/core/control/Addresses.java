package dev.sluice.core.control;

import java.util.regex.Pattern;

/** Validation of pod addresses ({@code host:port}). */
public final class Addresses {

    private static final Pattern HOST_NAME =
            Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?");

    private Addresses() {
    }

    /**
     * Checks {@code host:port}: host a name, an IPv4 address or a bracketed IPv6 address; port
     * 1–65535.
     *
     * @return the address, unchanged
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static String requireHostPort(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address is missing: expected host:port");
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("address '" + address + "' is not host:port");
        }
        String host = address.substring(0, colon);
        String portText = address.substring(colon + 1);
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address '" + address + "' has a port that is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("address '" + address + "' has port " + port + ", outside 1-65535");
        }
        boolean hostOk = host.startsWith("[")
                ? host.endsWith("]") && host.length() > 2 && IPV6.matcher(host.substring(1, host.length() - 1)).matches()
                : host.length() <= 253 && HOST_NAME.matcher(host).matches();
        if (!hostOk) {
            throw new IllegalArgumentException("address '" + address + "' has an invalid host '" + host
                    + "' (IPv6 addresses go in brackets: [::1]:8080)");
        }
        return address;
    }
}
