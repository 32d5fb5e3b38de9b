package dev.raftkit.jepsen.real;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One node's OS process: start, SIGKILL, SIGSTOP/SIGCONT, orderly stop. Its stdout and stderr are
 * appended to one log file across restarts, with a harness line before each start so the log
 * reads as a story.
 */
final class NodeProcess {

    private final NodeCommand command;
    private final Path log;
    private volatile NodeSpec spec;
    private Process process;
    private boolean paused;

    NodeProcess(NodeSpec spec, NodeCommand command, Path log) {
        this.spec = spec;
        this.command = command;
        this.log = log;
    }

    long id() {
        return spec.id();
    }

    NodeSpec spec() {
        return spec;
    }

    Path log() {
        return log;
    }

    /** Changes what the next start uses (the peers changed while the node was running or down). */
    synchronized void respec(NodeSpec s) {
        spec = s;
    }

    synchronized void start(NodeSpec s) throws IOException {
        if (isAlive()) {
            throw new IllegalStateException("node " + s.id() + " is already running (pid " + process.pid() + ")");
        }
        spec = s;
        List<String> cmd = command.command(s);
        note("starting: " + String.join(" ", cmd));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        process = pb.start();
        paused = false;
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    synchronized boolean isPaused() {
        return paused && isAlive();
    }

    /** Exit code if the process has ended, else -1. */
    synchronized int exitCode() {
        return process == null || process.isAlive() ? -1 : process.exitValue();
    }

    /** SIGKILL: no shutdown hook runs, nothing more is written or synced. */
    synchronized void kill() throws InterruptedException {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("node " + spec.id() + " (pid " + process.pid()
                    + ") survived SIGKILL for 10 s; is the machine overloaded?");
        }
        paused = false;
        note("killed (SIGKILL)");
    }

    /** SIGSTOP: the process freezes, like a long GC pause; its sockets stay open. */
    synchronized void pause() throws IOException, InterruptedException {
        if (isAlive() && !paused) {
            signal("STOP");
            paused = true;
        }
    }

    /** SIGCONT. */
    synchronized void resume() throws IOException, InterruptedException {
        if (isAlive() && paused) {
            signal("CONT");
            paused = false;
        }
    }

    /** Orderly stop (SIGTERM, then SIGKILL after 10 s). */
    synchronized void stop() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        if (paused) {
            // A stopped process cannot handle SIGTERM until continued.
            try {
                signal("CONT");
            } catch (IOException e) {
                // Fall through to the forcible kill below.
            }
            paused = false;
        }
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        note("stopped");
    }

    /** For the JVM shutdown hook: no waiting, no logging. */
    synchronized void killNow() {
        if (process != null) {
            process.destroyForcibly();
        }
    }

    private void signal(String sig) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).redirectErrorStream(true).start();
        if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("kill -" + sig + " " + process.pid() + " (node " + spec.id() + ") failed: "
                    + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
        }
    }

    /** The last {@code n} lines of the log (for error messages). */
    String tail(int n) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Appends a harness line to the node's log. Only while the process is not writing would be tidier; lines are short. */
    void note(String what) {
        try {
            Files.writeString(log, "=== harness " + Instant.now() + ": node " + spec.id() + " " + what + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // The log is for humans; a failed note must not fail the run.
        }
    }
}
