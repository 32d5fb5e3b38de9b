package dev.raftkit.testkit.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A single-thread executor a test can hold shut: tasks wait until {@link #open()}, as if the thread stalled. */
public final class GatedExecutor implements Executor, AutoCloseable {

    private final ExecutorService delegate;
    private final List<Runnable> held = new ArrayList<>();
    private boolean open = true;

    public GatedExecutor(String name) {
        delegate = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    public synchronized void hold() {
        open = false;
    }

    public synchronized void open() {
        open = true;
        held.forEach(delegate::execute);
        held.clear();
    }

    @Override
    public synchronized void execute(Runnable task) {
        if (open) {
            delegate.execute(task);
        } else {
            held.add(task);
        }
    }

    @Override
    public void close() {
        delegate.shutdownNow();
    }
}
