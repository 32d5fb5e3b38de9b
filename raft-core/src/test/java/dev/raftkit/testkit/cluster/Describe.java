package dev.raftkit.testkit.cluster;

import dev.raftkit.core.Ready;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.ReadIndexRequest;
import dev.raftkit.core.message.ReadIndexResponse;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.core.message.TimeoutNow;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.StringJoiner;

/** Compact, stable text for messages, entries and Readys: golden output and traces. */
public final class Describe {

    private Describe() {
    }

    public static String entry(Entry e) {
        String s = e.index() + "@" + e.term();
        if (e.type() == EntryType.CONF_CHANGE) {
            return s + " conf";
        }
        return e.data().length == 0 ? s : s + " " + new String(e.data(), StandardCharsets.UTF_8);
    }

    public static String entries(List<Entry> es) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        es.forEach(e -> j.add(entry(e)));
        return j.toString();
    }

    public static String message(Message m) {
        String head = m.from() + "->" + m.to() + " ";
        if (m instanceof AppendEntries a) {
            return head + "App term=" + a.term() + " prev=" + a.slice().prev() + " commit=" + a.commit()
                    + (a.slice().isEmpty() ? "" : " " + entries(a.slice().entries()));
        } else if (m instanceof AppendEntriesResponse r) {
            return head + "AppResp term=" + r.term() + (r.reject() ? " REJECT index=" + r.index() + " hint=" + r.hint()
                    : " index=" + r.index());
        } else if (m instanceof RequestVote v) {
            return head + (v.preVote() ? "PreVote" : "Vote") + " term=" + v.term() + " last=" + v.lastLog()
                    + (v.transfer() ? " transfer" : "");
        } else if (m instanceof RequestVoteResponse r) {
            return head + (r.preVote() ? "PreVoteResp" : "VoteResp") + " term=" + r.term()
                    + (r.granted() ? " granted" : " REJECT");
        } else if (m instanceof Heartbeat h) {
            return head + "Heartbeat term=" + h.term() + " commit=" + h.commit() + " round=" + h.context()
                    + (h.matched().index() == 0 ? "" : " matched=" + h.matched());
        } else if (m instanceof HeartbeatResponse h) {
            return head + "HeartbeatResp term=" + h.term() + " round=" + h.context();
        } else if (m instanceof InstallSnapshot s) {
            return head + "Snapshot term=" + s.term() + " last=" + s.snapshot().last() + " " + s.snapshot().conf();
        } else if (m instanceof TimeoutNow t) {
            return head + "TimeoutNow term=" + t.term();
        } else if (m instanceof ReadIndexRequest r) {
            return head + "ReadIndex term=" + r.term() + " req=" + r.requestId() + " " + r.mode();
        } else if (m instanceof ReadIndexResponse r) {
            return head + "ReadIndexResp term=" + r.term() + " req=" + r.requestId() + " index=" + r.index();
        }
        return head + m;
    }

    /** A Ready, one field per line, indented; empty fields omitted. */
    public static String ready(long node, Ready r) {
        StringBuilder sb = new StringBuilder();
        sb.append("> ").append(node).append(" Ready ").append(r.number()).append(r.mustSync() ? " (sync)" : "").append('\n');
        if (r.softState() != null) {
            sb.append("  soft: ").append(r.softState()).append('\n');
        }
        if (r.hardState() != null) {
            sb.append("  hard: ").append(r.hardState()).append('\n');
        }
        if (r.snapshot() != null) {
            sb.append("  snapshot: ").append(r.snapshot().last()).append(' ').append(r.snapshot().conf()).append('\n');
        }
        if (!r.entries().isEmpty()) {
            sb.append("  entries: ").append(entries(r.entries())).append('\n');
        }
        if (!r.committedEntries().isEmpty()) {
            sb.append("  committed: ").append(entries(r.committedEntries())).append('\n');
        }
        for (Message m : r.messages()) {
            sb.append("  send: ").append(message(m)).append('\n');
        }
        for (Message m : r.messagesAfterPersist()) {
            sb.append("  send after persist: ").append(message(m)).append('\n');
        }
        for (Message m : r.snapshotsToSend()) {
            sb.append("  send snapshot: ").append(message(m)).append('\n');
        }
        r.readStates().forEach(rs -> sb.append("  read: req=").append(rs.requestId()).append(" index=")
                .append(rs.index()).append('\n'));
        return sb.toString();
    }
}
