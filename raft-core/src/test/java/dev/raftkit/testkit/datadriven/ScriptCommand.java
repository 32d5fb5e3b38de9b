package dev.raftkit.testkit.datadriven;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One command line of a golden script: a name, positional arguments, and {@code key=value}
 * arguments, e.g. {@code propose 1 data=x}.
 */
public record ScriptCommand(String name, List<String> positional, Map<String, String> named, String location) {

    /** Parses a command line; {@code location} ("file:line") goes into error messages. */
    public static ScriptCommand parse(String line, String location) {
        String[] tokens = line.trim().split("\\s+");
        List<String> positional = new ArrayList<>();
        Map<String, String> named = new LinkedHashMap<>();
        for (int i = 1; i < tokens.length; i++) {
            int eq = tokens[i].indexOf('=');
            if (eq > 0) {
                named.put(tokens[i].substring(0, eq), tokens[i].substring(eq + 1));
            } else {
                positional.add(tokens[i]);
            }
        }
        return new ScriptCommand(tokens[0], positional, named, location);
    }

    public long id(int position) {
        if (position >= positional.size()) {
            throw error("expects a node id at position " + (position + 1));
        }
        return Long.parseLong(positional.get(position));
    }

    /** Every positional argument as a node id. */
    public List<Long> ids() {
        List<Long> out = new ArrayList<>();
        for (String p : positional) {
            out.add(Long.parseLong(p));
        }
        return out;
    }

    public String get(String key, String defaultValue) {
        return named.getOrDefault(key, defaultValue);
    }

    public long getLong(String key, long defaultValue) {
        String v = named.get(key);
        return v == null ? defaultValue : Long.parseLong(v);
    }

    public boolean getBool(String key, boolean defaultValue) {
        String v = named.get(key);
        return v == null ? defaultValue : Boolean.parseBoolean(v);
    }

    public IllegalArgumentException error(String message) {
        return new IllegalArgumentException(location + ": " + name + " " + message);
    }
}
