package dev.raftkit.node;

import java.net.InetSocketAddress;

/** Parses {@code host:port} as the command line and the admin service accept it. */
public final class HostPort {

    private HostPort() {
    }

    /**
     * The address {@code text} names; {@code what} names it in the error ("peer address of node 2").
     *
     * @throws IllegalArgumentException saying what is wrong and what a good value looks like
     */
    public static InetSocketAddress parse(String text, String what) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException(what + " '" + text + "' is not host:port (for example 127.0.0.1:7001)");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = port(text.substring(colon + 1), what + " '" + text + "'");
        return new InetSocketAddress(host, port);
    }

    /** A port number 0..65535 ({@code what} names the value in the error). */
    public static int port(String text, String what) {
        int port;
        try {
            port = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": port '" + text + "' is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + ": port " + port + " is outside 0..65535");
        }
        return port;
    }

    /** host:port of an address, as clients and redirects name it. */
    public static String format(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }
}
