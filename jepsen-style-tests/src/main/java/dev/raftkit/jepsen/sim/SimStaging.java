package dev.raftkit.jepsen.sim;

import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StagedStates;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The simulator's staging areas of live restores: the images by id, and on each host the ids it
 * holds ({@link SimHost#staged}, kept across crashes, lost with a wipe). A host that lacks an image
 * when its apply thread reaches the switch fetches it, a few ticks later, from any host that is up
 * and holds it, and asks again while none is; so a node down during a live restore, or wiped,
 * applies nothing past the switch until it has the image. Every callback runs on the simulator's
 * event queue, deterministically.
 */
final class SimStaging {

    /** How long a fetch takes, or waits before trying again. */
    private static final int FETCH_TICKS = 3;

    private final Simulator sim;
    private final Map<String, byte[]> images = new HashMap<>();

    SimStaging(Simulator sim) {
        this.sim = sim;
    }

    void put(String id, byte[] image) {
        images.put(id, image.clone());
    }

    /**
     * The staging area host {@code h}'s server is given. {@code switching} marks the host's next
     * state-machine restore as a live restore's switch (opened just before it), so the checker
     * keys the state after it by the switch's index.
     */
    StagedStates of(SimHost h, boolean switching) {
        return new StagedStates() {
            @Override
            public InputStream open(StagedState state) throws IOException {
                if (!h.staged.contains(state.id())) {
                    return null;
                }
                byte[] image = images.get(state.id());
                byte[] sha;
                try {
                    sha = MessageDigest.getInstance("SHA-256").digest(image);
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
                if (image.length != state.sizeBytes() || !Arrays.equals(sha, state.sha256())) {
                    throw new IOException("node " + h.id + "'s staged image " + state.id() + " does not match the entry");
                }
                if (switching) {
                    h.switching = true;
                }
                return new ByteArrayInputStream(image);
            }

            @Override
            public void fetch(StagedState state, Runnable held) {
                sim.scheduler().schedule(FETCH_TICKS * SimOptions.TICK_MICROS, () -> attempt(h, state, held));
            }
        };
    }

    private void attempt(SimHost h, StagedState state, Runnable held) {
        if (!h.up() || h.retired) {
            return; // its next life's apply thread asks again when it reaches the switch
        }
        for (SimHost from : sim.hosts()) {
            if (from != h && from.up() && from.staged.contains(state.id())) {
                h.staged.add(state.id());
                sim.trace(h.id, "staged", "fetched " + state.id() + " from node " + from.id);
                held.run();
                return;
            }
        }
        sim.scheduler().schedule(FETCH_TICKS * SimOptions.TICK_MICROS, () -> attempt(h, state, held));
    }
}
