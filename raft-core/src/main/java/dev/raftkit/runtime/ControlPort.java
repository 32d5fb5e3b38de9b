package dev.raftkit.runtime;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The raft loop's control queue (acknowledgements and reports: {@link LoopInput.Control}), made
 * before any stage so that the log writer, the apply thread and the snapshot pool are each built
 * with it, and the loop, built last because it posts to all of them, drains it. Unbounded: every
 * control input answers work the loop itself handed out, so the loop bounds it.
 */
final class ControlPort {

    private final ConcurrentLinkedQueue<LoopInput.Control> queue = new ConcurrentLinkedQueue<>();
    /** Wakes the loop's stage; set once the loop exists. Posts before that wait for its first run. */
    private volatile Runnable wake;

    /** Queues {@code c} for the loop and wakes it. Any thread; never blocks. */
    void post(LoopInput.Control c) {
        queue.add(c);
        Runnable w = wake;
        if (w != null) {
            w.run();
        }
    }

    /** The loop, at its construction: how to wake it. */
    void bind(Runnable loopWake) {
        this.wake = loopWake;
    }

    LoopInput.Control poll() {
        return queue.poll();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    void clear() {
        queue.clear();
    }
}
