package dev.raftkit.grpc;

/**
 * Quotes text that came from a peer or a client (a cluster id, an address, a name) for a log line
 * or an error reply: at most {@link #MAX_CHARS} characters, control characters replaced, and the
 * original length named when cut. A caller can send a megabyte where a short string belongs;
 * echoing it would let one request fill the log or bloat every reply.
 */
public final class Untrusted {

    /** Longest part of an untrusted string ever echoed. */
    public static final int MAX_CHARS = 64;

    private Untrusted() {
    }

    /**
     * {@code text} in single quotes, cut to {@link #MAX_CHARS} characters (never splitting a
     * surrogate pair) with its full length appended when cut; {@code 'null'} for null.
     */
    public static String quote(String text) {
        if (text == null) {
            return "'null'";
        }
        int end = Math.min(text.length(), MAX_CHARS);
        if (end < text.length() && end > 0 && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        StringBuilder b = new StringBuilder(end + 32).append('\'');
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            // Control characters could forge log lines (a newline) or hide text (escapes).
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        b.append('\'');
        if (end < text.length()) {
            b.append("… (").append(text.length()).append(" characters)");
        }
        return b.toString();
    }
}
