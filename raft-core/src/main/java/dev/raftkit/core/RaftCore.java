package dev.raftkit.core;

import dev.raftkit.core.confchange.AppliedConfChange;
import dev.raftkit.core.confchange.Changer;
import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.core.log.LogReader;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.log.LogView;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.Input;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.LocalEvent;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.PushSnapshot;
import dev.raftkit.core.message.ReadIndexRequest;
import dev.raftkit.core.message.ReadIndexResponse;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.core.message.TimeoutNow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * One Raft node as a pure, deterministic state machine: no threads, no clock, no I/O, and no
 * randomness but the seed in its {@link RaftConfig}. The same inputs in the same order give the
 * same outputs.
 *
 * <p><b>One door in:</b> every input — ticks, peer messages, proposals, storage acknowledgements —
 * goes through {@link #step(Input)} (the other public methods are shorthands for it).
 * <b>One door out:</b> everything to do leaves in a numbered {@link Ready}; see its javadoc for
 * the contract. Not thread-safe: one thread owns a node.
 *
 * <p>Message handling compares terms once (§3.3, in {@link #stepMessage}), then hands the message
 * to one method per role.
 */
public final class RaftCore {

    private final RaftConfig config;
    private final long id;
    private final RaftLog log;
    private final ProgressTracker tracker;
    private final ReadOnly readOnly = new ReadOnly();
    private final SplittableRandom random;
    /** Testing only: the planted bug of {@link CoreTestingHooks#keepEntriesPastAnySnapshot}. */
    private final boolean keepEntriesPastAnySnapshot;
    /** Testing only: the planted bug of {@link CoreTestingHooks#trustNamedMatch}. */
    private final boolean trustNamedMatch;
    private Tracer tracer = Tracer.NONE;

    private long term;
    private long vote;
    private long lead;
    private Role role = Role.FOLLOWER;
    private long leadTransferee;
    /** Leader: index of the latest configuration change proposed; another waits until it is handed out. */
    private long pendingConfIndex;
    /** Leader: payload bytes appended but not yet handed out for application. */
    private long uncommittedBytes;
    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;
    /**
     * Leader: the last CheckQuorum period ended in a burst of ticks and went unjudged (see
     * {@link #tick(long)}); the next one is judged however it ends.
     */
    private boolean quorumCheckDeferred;
    /** Ticks since this node object was created: its only notion of time. */
    private long ticks;
    /** Started from a state in which it may have promised a leader not to vote (see {@link #inLease}). */
    private final boolean restartedWithHistory;
    /**
     * Recovering lost state (see {@link HardState}): no votes, no campaigns, and every append or
     * heartbeat answer says so, so that leaders do not count it. Cleared (and persisted, with a
     * vote for the leader) once it holds the leader's log through an entry of the leader's term
     * and the leader's commit index ({@link #maybeFinishRecovery}).
     */
    private boolean recovering;
    /** Leader: reads that wait for the first commit of this term (§6.4 step 1). */
    private final List<PendingRead> readsAwaitingCommit = new ArrayList<>();
    /** Leader: new entries or commit progress to broadcast when the next Ready is taken. */
    private boolean appendsPending;
    /** Leader: reads queued for the next heartbeat round, to broadcast when the next Ready is taken. */
    private boolean heartbeatPending;
    /**
     * Leader: a TimeoutNow went out this term, so no more lease reads in it. Its candidate is exempt
     * from stickiness (§3.10) and may win while our lease still looks valid — even after we
     * abandoned the transfer, if the TimeoutNow was slow to arrive.
     */
    private boolean leaseForfeited;

    // Ready bookkeeping.
    private long readyNumber;
    private SoftState prevSoftState;
    private HardState prevHardState;
    private List<Message> msgs = new ArrayList<>();
    private List<Message> msgsAfterPersist = new ArrayList<>();
    private List<InstallSnapshot> snapshotsToSend = new ArrayList<>();
    /** Acknowledgements to this node itself, counted only once the Ready they belong to is durable. */
    private List<Message> selfAfterPersist = new ArrayList<>();
    private List<ReadState> readStates = new ArrayList<>();
    private final ArrayDeque<PendingPersist> pendingPersist = new ArrayDeque<>();

    private record PendingRead(long requester, long requestId, ReadMode mode) {
    }

    /** What Ready {@code number} asked to persist, checked against the log when it is acknowledged. */
    private record PendingPersist(long number, EntryId lastEntry, long overwrites, long snapshotIndex,
                                  List<Message> selfMessages) {
    }

    /**
     * Creates a node from its durable state.
     *
     * @throws IllegalStateException if the durable state is inconsistent (a commit index beyond the
     *                               log, or {@code config.applied()} beyond the commit index)
     */
    public RaftCore(RaftConfig config, LogReader storage) {
        this(config, storage, CoreTestingHooks.NONE);
    }

    /**
     * Creates a node with deliberate bugs planted, for testing checkers only ({@link
     * CoreTestingHooks}).
     */
    public RaftCore(RaftConfig config, LogReader storage, CoreTestingHooks testingHooks) {
        this.keepEntriesPastAnySnapshot = testingHooks.keepEntriesPastAnySnapshot();
        this.trustNamedMatch = testingHooks.trustNamedMatch();
        this.config = config;
        this.id = config.id();
        this.random = new SplittableRandom(config.randomSeed());
        this.log = new RaftLog(storage, config.maxCommittedBytesPerReady());
        this.tracker = new ProgressTracker(config.maxInflightMsgs(), config.maxInflightBytes());

        InitialState initial = storage.initialState();
        HardState hs = initial.hardState();
        if (hs.commit() > log.lastIndex()) {
            throw new IllegalStateException("node " + id + ": durable commit index " + hs.commit()
                    + " is beyond the last log index " + log.lastIndex() + "; the log lost committed entries");
        }
        log.commitTo(hs.commit());
        long applied = Math.max(config.applied(), initial.snapshot().index());
        if (applied > log.lastIndex()) {
            throw new IllegalStateException("node " + id + ": the state machine applied up to " + applied
                    + " but the log ends at " + log.lastIndex() + "; the log lost entries the state machine has"
                    + " — restore this node from a peer or a backup");
        }
        // An applied entry was committed, so a durable commit index behind it (storage may persist
        // a commit-only change lazily) is simply stale.
        log.commitTo(applied);
        // So is every configuration change in the log but the last: a leader proposes one only once
        // it has applied the one before (pendingConfIndex; a new leader, everything in its log),
        // and Log Matching carries that prefix into every log holding the later one (§4.1, §5.3).
        // The commit index must say so, for it bounds the configuration this node campaigns in
        // (hasUnappliedConfChanges). Without it, a node whose lazily stored commit index lagged two
        // changes counted votes in a configuration two changes old, whose majorities need not meet
        // the current one's: elected by removed nodes, it overwrote committed entries (simulator,
        // seed 1734 of a five-node SQL sweep).
        long[] lastConfs = {0, 0};
        forEachEntry(applied + 1, log.lastIndex() + 1, e -> {
            if (e.type() == EntryType.CONF_CHANGE) {
                lastConfs[0] = lastConfs[1];
                lastConfs[1] = e.index();
            }
        });
        log.commitTo(lastConfs[0]);
        // The configuration lives in the snapshot and in the log (§4). Changes the state machine
        // applied before the restart are not handed out again, so replay them here.
        ConfState[] conf = {initial.snapshot().conf()};
        forEachEntry(initial.snapshot().index() + 1, applied + 1, e -> {
            if (e.type() == EntryType.CONF_CHANGE) {
                conf[0] = Changer.applyEntry(conf[0], e.index(), e.data()).conf();
            }
        });
        tracker.applyConf(conf[0], log.lastIndex() + 1);
        log.appliedTo(applied);
        this.term = hs.term();
        this.vote = hs.vote();
        this.restartedWithHistory = hs.term() > 1 || hs.vote() != 0;
        this.recovering = hs.recovering();
        becomeFollower(term, 0);
        prevSoftState = softState();
        prevHardState = hardState();
    }

    /** Sends protocol decisions to {@code tracer} (for traces of simulated runs). */
    public void setTracer(Tracer tracer) {
        this.tracer = tracer == null ? Tracer.NONE : tracer;
    }

    // ---------------------------------------------------------------------------------------
    // The one door in.

    /**
     * Feeds one input to the node.
     *
     * @throws RaftException for a proposal, configuration change or transfer that this
     *                                   node cannot take now (see its reason)
     * @throws IllegalArgumentException  for a message addressed to another node
     */
    public void step(Input input) {
        if (input instanceof Message m) {
            if (m.to() != id) {
                throw new IllegalArgumentException("message for node " + m.to() + " delivered to node " + id + ": " + m);
            }
            stepMessage(m);
        } else {
            stepLocal((LocalEvent) input); // Input is sealed: Message or LocalEvent
        }
    }

    public void tick() {
        step(LocalEvent.Tick.INSTANCE);
    }

    /**
     * {@code count} ticks that passed together while this node's process did not run (a
     * stop-the-world GC pause, SIGSTOP, a frozen VM), as {@code step(new Tick(count))}. Every
     * clock advances by {@code count} (a lease read still expires in real time, §6.4.1), but a
     * timeout that stands for "no message came" does not fire inside the burst: no message could
     * be stepped during it, so it is no evidence that the leader, or a quorum of followers, went
     * silent. A follower's or candidate's election timer stops a heartbeat interval and a tick
     * short of expiring, so a leader that was stopped just as long (and sends its heartbeat as
     * soon as it takes its own burst) is heard from first; a leader's CheckQuorum period that
     * ends in the burst goes unjudged, and the next one judges what comes after it. Neither holds
     * twice running, so frequent bursts delay an election or a step-down by one burst or period
     * at most. Without this, every pause longer than an election timeout of a process that hosts
     * the whole cluster is an election. One tick is {@link #tick()}.
     *
     * @throws IllegalArgumentException if {@code count} is below 1
     */
    public void tick(long count) {
        step(count == 1 ? LocalEvent.Tick.INSTANCE : new LocalEvent.Tick(count));
    }

    /** Starts an election now (a test or an operator's "campaign"). */
    public void campaign() {
        step(new LocalEvent.Campaign());
    }

    /**
     * Appends a command, as {@code step(new Propose(data))} does; returns where it will be if it
     * commits.
     */
    public EntryId propose(byte[] data) {
        return handlePropose(data);
    }

    /** Appends a membership change, as {@code step(new ProposeConfChange(change))}; returns where. */
    public EntryId proposeConfChange(ConfChange change) {
        return handleProposeConfChange(change);
    }

    /** The log now starts after {@code snapshot} (see {@link LocalEvent.Compacted}). */
    public void compacted(SnapshotMeta snapshot) {
        step(new LocalEvent.Compacted(snapshot));
    }

    public void readIndex(long requestId, ReadMode mode) {
        step(new LocalEvent.ReadIndex(requestId, mode));
    }

    public void transferLeadership(long to) {
        step(new LocalEvent.TransferLeadership(to));
    }

    /**
     * If this node leads, it stops: it hands leadership to a voter that already holds its whole
     * log, if one does (TimeoutNow, §3.10, so the cluster need not wait an election timeout), and
     * becomes a leaderless follower of its term either way. For a leader that cannot make its own
     * writes durable (a hung disk): it cannot commit through its own log or apply, yet its
     * heartbeats would keep every follower from electing one that can. Whoever calls this must
     * also keep the node from campaigning while the cause lasts (a candidate's own vote counts
     * only once durable, but other voters' votes can elect it). {@code reason} goes to the tracer.
     */
    public void stepDown(String reason) {
        step(new LocalEvent.StepDown(reason));
    }

    public void reportUnreachable(long peer) {
        step(new LocalEvent.ReportUnreachable(peer));
    }

    public void reportSnapshot(long peer, boolean ok) {
        step(new LocalEvent.ReportSnapshot(peer, ok));
    }

    public void onPersisted(long readyNumber) {
        step(new LocalEvent.Persisted(readyNumber));
    }

    public void onApplied(long index) {
        step(new LocalEvent.Applied(index));
    }

    private void stepLocal(LocalEvent e) {
        // A switch expression over the kind: a new kind does not compile until it is handled here.
        Outcome unused = switch (e.kind()) {
            case TICK -> {
                long n = ((LocalEvent.Tick) e).count();
                ticks += n;
                if (role == Role.LEADER) {
                    tickHeartbeat(n);
                } else {
                    tickElection(n);
                }
                yield Outcome.HANDLED;
            }
            case CAMPAIGN -> {
                hup(false);
                yield Outcome.HANDLED;
            }
            case PROPOSE -> {
                handlePropose(((LocalEvent.Propose) e).data());
                yield Outcome.HANDLED;
            }
            case PROPOSE_CONF_CHANGE -> {
                handleProposeConfChange(((LocalEvent.ProposeConfChange) e).change());
                yield Outcome.HANDLED;
            }
            case READ_INDEX -> {
                LocalEvent.ReadIndex r = (LocalEvent.ReadIndex) e;
                handleReadIndex(id, r.requestId(), r.mode());
                yield Outcome.HANDLED;
            }
            case TRANSFER_LEADERSHIP -> {
                handleTransferLeadership(((LocalEvent.TransferLeadership) e).to());
                yield Outcome.HANDLED;
            }
            case STEP_DOWN -> {
                handleStepDown(((LocalEvent.StepDown) e).reason());
                yield Outcome.HANDLED;
            }
            case REPORT_UNREACHABLE -> {
                Progress pr = leaderProgress(((LocalEvent.ReportUnreachable) e).peer());
                if (pr == null || pr.state() != Progress.State.REPLICATE) {
                    yield Outcome.IGNORED;
                }
                pr.becomeProbe();
                yield Outcome.HANDLED;
            }
            case REPORT_SNAPSHOT -> {
                LocalEvent.ReportSnapshot r = (LocalEvent.ReportSnapshot) e;
                Progress pr = leaderProgress(r.peer());
                if (pr == null || pr.state() != Progress.State.SNAPSHOT) {
                    yield Outcome.IGNORED;
                }
                pr.snapshotFinished(r.ok());
                yield Outcome.HANDLED;
            }
            case PERSISTED -> {
                handlePersisted(((LocalEvent.Persisted) e).readyNumber());
                yield Outcome.HANDLED;
            }
            case APPLIED -> {
                log.appliedTo(((LocalEvent.Applied) e).index());
                yield Outcome.HANDLED;
            }
            case COMPACTED -> {
                log.compacted(((LocalEvent.Compacted) e).snapshot());
                yield Outcome.HANDLED;
            }
        };
    }

    /**
     * What a handler did with an input. Its only job is to make each dispatch a switch
     * <i>expression</i>, which javac checks covers every kind (a switch statement would let a new
     * kind fall through silently).
     */
    private enum Outcome { HANDLED, IGNORED }

    // ---------------------------------------------------------------------------------------
    // Time.

    private void tickElection(long n) {
        long next = Math.min(electionElapsed + n, Integer.MAX_VALUE);
        // A burst (see tick(long)) that would expire the timer leaves it one heartbeat interval and
        // a tick short, time for a leader stopped just as long to be heard from. A timer already
        // past that point advances as ever, so bursts, however frequent, delay an election by at
        // most one of them.
        int hold = randomizedElectionTimeout - 1 - config.heartbeatTicks();
        if (n > 1 && next >= randomizedElectionTimeout && electionElapsed < hold) {
            next = hold;
        }
        electionElapsed = (int) next;
        if (promotable() && electionElapsed >= randomizedElectionTimeout) {
            electionElapsed = 0;
            hup(false);
        }
    }

    private void tickHeartbeat(long n) {
        heartbeatElapsed = (int) Math.min(heartbeatElapsed + n, Integer.MAX_VALUE);
        electionElapsed = (int) Math.min(electionElapsed + n, Integer.MAX_VALUE);
        if (electionElapsed >= config.electionTicks()) {
            electionElapsed = 0;
            if (config.checkQuorum()) {
                // CheckQuorum (§6.2): a leader that has not heard from a quorum for an election
                // timeout may have been replaced; stepping down stops it serving stale reads and
                // lets clients find the new leader. A period that ends in a burst (see tick(long))
                // goes unjudged, since no answer could be stepped during the burst, and the next
                // period judges only what comes after it; that one is judged however it ends, so
                // frequent bursts delay a step-down by one period at most. (Lease reads count the
                // burst in full: §6.4.1, ReadOnly.leaseValid.)
                quorumCheckDeferred = n > 1 && !quorumCheckDeferred;
                if (!quorumCheckDeferred && !tracker.quorumActive(id)) {
                    tracer.event(id, "check-quorum-failed", "term " + term);
                    becomeFollower(term, 0);
                    return;
                }
                tracker.resetRecentActive(id);
            }
            if (leadTransferee != 0) {
                // §3.10: a transfer that has not finished within an election timeout is abandoned
                // so the leader takes proposals again.
                tracer.event(id, "transfer-aborted", "to " + leadTransferee + " timed out");
                leadTransferee = 0;
            }
        }
        for (Map.Entry<Long, Progress> e : tracker.all().entrySet()) {
            Progress pr = e.getValue();
            long peer = pr.snapshotPeer();
            if (pr.peerSnapshotTimedOut(config.peerSnapshotTimeoutTicks(), n)) {
                // The peer declined, crashed or is too slow: stream ours (a late peer snapshot is
                // harmless, the follower refuses whichever arrives second as not newer).
                tracer.event(id, "snapshot-peer-timeout", "to " + e.getKey() + " from " + peer
                        + " not acknowledged in " + config.peerSnapshotTimeoutTicks() + " ticks; sending ours");
                pr.snapshotFinished(false);
                pr.markPeerSnapshotFailed();
            }
        }
        if (heartbeatElapsed >= config.heartbeatTicks()) {
            heartbeatElapsed = 0;
            bcastHeartbeat();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Messages: one term check, then one method per role.

    private void stepMessage(Message m) {
        if (m.term() > EntryId.MAX_TERM) {
            // A term this high is forged or corrupt (see MAX_TERM). Adopting it would leave no term
            // to campaign in (term + 1 would overflow) and would be persisted, ending elections for
            // good; ignoring a message is always safe (it is as if it were lost).
            tracer.event(id, "message-ignored", m.getClass().getSimpleName() + " from " + m.from()
                    + " with term " + m.term() + " above the largest allowed " + EntryId.MAX_TERM);
            return;
        }
        if (m.term() > term) {
            if (m instanceof RequestVote rv && !rv.transfer() && inLease()) {
                // Leader stickiness (§4.2.3, §9.6): we heard from a live leader within the election
                // timeout, so this candidate (a removed or partitioned server) must not disrupt it.
                tracer.event(id, "vote-refused", refusal(rv, "heard from leader " + lead + " recently"));
                return;
            }
            if (m instanceof RequestVote rv && rv.preVote()) {
                // A PreVote request never changes our term (§9.6).
            } else if (m instanceof RequestVoteResponse r && r.preVote() && r.granted()) {
                // A granted pre-vote carries the term we would campaign in; we enter it only by
                // winning the real election.
            } else {
                becomeFollower(m.term(), establishesLeader(m) ? leaderOf(m) : 0);
            }
        } else if (m.term() < term) {
            if ((config.checkQuorum() || config.preVote()) && (m instanceof AppendEntries || m instanceof Heartbeat)) {
                // A stale leader (back from a partition) would never learn of the newer term:
                // with PreVote or stickiness our term does not rise to reach it. Tell it.
                send(new AppendEntriesResponse(id, m.from(), term, false, 0, EntryId.ZERO, recovering));
            } else if (m instanceof RequestVote rv && rv.preVote()) {
                send(new RequestVoteResponse(id, m.from(), term, true, false));
                tracer.event(id, "vote-refused", refusal(rv, "stale term"));
            }
            return;
        }

        if (m.kind() == Message.Kind.REQUEST_VOTE) {
            handleRequestVote((RequestVote) m);
            return;
        }
        Outcome unused = switch (role) {
            case LEADER -> stepLeader(m);
            case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
            case FOLLOWER -> stepFollower(m);
        };
    }

    private Outcome stepFollower(Message m) {
        if (lead != 0 && leaderOf(m) != lead && sentOnlyByLeader(m)) {
            // One leader per term (Election Safety, §3.4): a leader's message in our term from
            // another node is forged or corrupt. Following it would let an impersonator overwrite
            // entries the real leader replicates (issue 12); ignoring a message is always safe.
            tracer.event(id, "message-ignored", m.getClass().getSimpleName() + " from " + m.from()
                    + " in term " + term + " whose leader is " + lead);
            return Outcome.IGNORED;
        }
        return switch (m.kind()) {
            case APPEND_ENTRIES -> {
                electionElapsed = 0;
                lead = m.from();
                handleAppendEntries((AppendEntries) m);
                yield Outcome.HANDLED;
            }
            case HEARTBEAT -> {
                electionElapsed = 0;
                lead = m.from();
                handleHeartbeat((Heartbeat) m);
                yield Outcome.HANDLED;
            }
            case INSTALL_SNAPSHOT -> {
                electionElapsed = 0;
                lead = leaderOf(m);
                handleInstallSnapshot((InstallSnapshot) m);
                yield Outcome.HANDLED;
            }
            case PUSH_SNAPSHOT -> {
                handlePushSnapshot((PushSnapshot) m);
                yield Outcome.HANDLED;
            }
            case TIMEOUT_NOW -> {
                // §3.10: the leader asks us to take over; skip PreVote and waive stickiness.
                tracer.event(id, "timeout-now", "from " + m.from() + " in term " + term);
                hup(true);
                yield Outcome.HANDLED;
            }
            case READ_INDEX_RESPONSE -> {
                ReadIndexResponse r = (ReadIndexResponse) m;
                readStates.add(new ReadState(r.requestId(), r.index()));
                yield Outcome.HANDLED;
            }
            // Late vote answers, and requests or answers meant for a leader, are stale.
            case REQUEST_VOTE, REQUEST_VOTE_RESPONSE, APPEND_ENTRIES_RESPONSE, HEARTBEAT_RESPONSE,
                 READ_INDEX_REQUEST -> Outcome.IGNORED;
        };
    }

    /** The kinds that tell their receiver who leads the sender's term. */
    private static boolean establishesLeader(Message m) {
        return switch (m.kind()) {
            case APPEND_ENTRIES, HEARTBEAT, INSTALL_SNAPSHOT -> true;
            case APPEND_ENTRIES_RESPONSE, REQUEST_VOTE, REQUEST_VOTE_RESPONSE, HEARTBEAT_RESPONSE, TIMEOUT_NOW,
                 READ_INDEX_REQUEST, READ_INDEX_RESPONSE, PUSH_SNAPSHOT -> false;
        };
    }

    /**
     * The node that leads the term {@code m} speaks for: its sender, except for a snapshot a peer
     * streams on the leader's behalf ({@link PushSnapshot}), which names that leader.
     */
    private static long leaderOf(Message m) {
        return m instanceof InstallSnapshot s ? s.leader() : m.from();
    }

    /** The kinds only a term's leader sends. */
    private static boolean sentOnlyByLeader(Message m) {
        return switch (m.kind()) {
            case APPEND_ENTRIES, HEARTBEAT, INSTALL_SNAPSHOT, TIMEOUT_NOW, READ_INDEX_RESPONSE, PUSH_SNAPSHOT -> true;
            case APPEND_ENTRIES_RESPONSE, REQUEST_VOTE, REQUEST_VOTE_RESPONSE, HEARTBEAT_RESPONSE,
                 READ_INDEX_REQUEST -> false;
        };
    }

    private Outcome stepCandidate(Message m) {
        return switch (m.kind()) {
            case APPEND_ENTRIES -> {
                becomeFollower(term, m.from());
                handleAppendEntries((AppendEntries) m);
                yield Outcome.HANDLED;
            }
            case HEARTBEAT -> {
                becomeFollower(term, m.from());
                handleHeartbeat((Heartbeat) m);
                yield Outcome.HANDLED;
            }
            case INSTALL_SNAPSHOT -> {
                becomeFollower(term, leaderOf(m));
                handleInstallSnapshot((InstallSnapshot) m);
                yield Outcome.HANDLED;
            }
            case REQUEST_VOTE_RESPONSE -> {
                handleVoteResponse((RequestVoteResponse) m);
                yield Outcome.HANDLED;
            }
            // No leader of this term is known to us, so nothing is sent to us as one; a TimeoutNow
            // or a read answer is from an earlier leadership and stale.
            // A PushSnapshot comes from a leader we have not heard of: its next heartbeat makes
            // us follow it, and it asks again if it still needs us to.
            case REQUEST_VOTE, APPEND_ENTRIES_RESPONSE, HEARTBEAT_RESPONSE, TIMEOUT_NOW, READ_INDEX_REQUEST,
                 READ_INDEX_RESPONSE, PUSH_SNAPSHOT -> Outcome.IGNORED;
        };
    }

    private Outcome stepLeader(Message m) {
        return switch (m.kind()) {
            case APPEND_ENTRIES_RESPONSE -> {
                handleAppendResponse((AppendEntriesResponse) m);
                yield Outcome.HANDLED;
            }
            case HEARTBEAT_RESPONSE -> {
                handleHeartbeatResponse((HeartbeatResponse) m);
                yield Outcome.HANDLED;
            }
            case READ_INDEX_REQUEST -> {
                ReadIndexRequest r = (ReadIndexRequest) m;
                if (tracker.get(r.from()) == null) {
                    yield Outcome.IGNORED;
                }
                handleReadIndex(r.from(), r.requestId(), r.mode());
                yield Outcome.HANDLED;
            }
            // Another leader's messages in our term cannot exist (Election Safety, §3.4); late vote
            // answers are harmless.
            case APPEND_ENTRIES, HEARTBEAT, INSTALL_SNAPSHOT, TIMEOUT_NOW, READ_INDEX_RESPONSE, REQUEST_VOTE,
                 REQUEST_VOTE_RESPONSE, PUSH_SNAPSHOT -> Outcome.IGNORED;
        };
    }

    // ---------------------------------------------------------------------------------------
    // Elections (§3.4, PreVote §9.6).

    private boolean promotable() {
        return tracker.conf().isVoter(id) && !log.hasPendingSnapshot() && !recovering;
    }

    /**
     * Stickiness: true while this node must not grant votes to a candidate that is not taking
     * over by transfer. Besides having heard from a leader within the election timeout, a node that
     * restarts with history keeps the promise for one election timeout after the restart: it may
     * have heard from a leader just before crashing, and leader leases (§6.4.1) rely on that promise.
     */
    private boolean inLease() {
        if (!config.checkQuorum()) {
            return false;
        }
        if (lead != 0 && electionElapsed < config.electionTicks()) {
            return true;
        }
        return restartedWithHistory && ticks < config.electionTicks();
    }

    private void hup(boolean transfer) {
        if (role == Role.LEADER) {
            return;
        }
        if (recovering) {
            // A node that lost its state must not lead: its log may lack entries it acknowledged
            // in an earlier life, which may be committed (§3.8; docs/divergence.md, "Lost state").
            tracer.event(id, "campaign-skipped", "recovering lost state: no campaign until caught up from a leader");
            return;
        }
        if (!promotable()) {
            return;
        }
        if (term >= EntryId.MAX_TERM) {
            // No term is left to campaign in; never overflow into a negative (malformed) term.
            tracer.event(id, "campaign-skipped", "term " + term + " is the largest allowed");
            return;
        }
        if (hasUnappliedConfChanges()) {
            // Our configuration may be about to change; campaigning under the old one could let
            // two majorities that do not overlap elect two leaders (§4.1).
            tracer.event(id, "campaign-skipped", "committed configuration change not applied yet");
            return;
        }
        campaign(config.preVote() && !transfer, transfer);
    }

    private void campaign(boolean pre, boolean transfer) {
        long voteTerm;
        if (pre) {
            becomePreCandidate();
            voteTerm = term + 1;
        } else {
            becomeCandidate();
            voteTerm = term;
        }
        EntryId last = log.lastEntryId();
        for (long voter : tracker.voters().ids()) {
            if (voter == id) {
                // Our own vote counts only once it (term and vote) is durable.
                send(new RequestVoteResponse(id, id, voteTerm, pre, true));
            } else {
                send(new RequestVote(id, voter, voteTerm, last, pre, transfer));
            }
        }
    }

    private void handleRequestVote(RequestVote rv) {
        if (recovering) {
            // It may have voted in this term in a life it forgot, and its log may lack entries it
            // acknowledged (§3.8): its vote could elect a second leader or one missing committed
            // entries. It votes again once caught up from a leader (docs/divergence.md, "Lost state").
            send(new RequestVoteResponse(id, rv.from(), term, rv.preVote(), false));
            tracer.event(id, "vote-refused", refusal(rv, "recovering lost state, not caught up from a leader yet"));
            return;
        }
        // §3.4: one vote per term; §9.6: a pre-vote may go to any candidate for a higher term.
        boolean canVote = vote == rv.from() || (vote == 0 && lead == 0) || (rv.preVote() && rv.term() > term);
        // §3.6.1 (Election restriction): only a candidate whose log is at least as up to date.
        boolean upToDate = rv.lastLog().isUpToDateWith(log.lastEntryId());
        if (canVote && upToDate) {
            send(new RequestVoteResponse(id, rv.from(), rv.term(), rv.preVote(), true));
            tracer.event(id, "vote-granted", (rv.preVote() ? "pre-vote" : "vote") + " to " + rv.from()
                    + " for term " + rv.term());
            if (!rv.preVote()) {
                electionElapsed = 0;
                vote = rv.from();
            }
        } else {
            send(new RequestVoteResponse(id, rv.from(), term, rv.preVote(), false));
            tracer.event(id, "vote-refused", refusal(rv, !canVote
                    ? "already voted for " + vote + (lead != 0 ? " / following " + lead : "")
                    : "candidate log " + rv.lastLog() + " behind ours " + log.lastEntryId()));
        }
    }

    private String refusal(RequestVote rv, String reason) {
        return (rv.preVote() ? "pre-vote" : "vote") + " to " + rv.from() + " for term " + rv.term() + ": " + reason;
    }

    private void handleVoteResponse(RequestVoteResponse r) {
        if (r.preVote() != (role == Role.PRE_CANDIDATE)) {
            return;
        }
        tracker.recordVote(r.from(), r.granted());
        switch (tracker.tallyVotes()) {
            case WON -> {
                if (role == Role.PRE_CANDIDATE) {
                    campaign(false, false);
                } else {
                    becomeLeader();
                }
            }
            case LOST -> becomeFollower(term, 0);
            case PENDING -> { }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Role changes.

    private void reset(long newTerm) {
        if (term != newTerm) {
            term = newTerm;
            vote = 0;
        }
        lead = 0;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        quorumCheckDeferred = false;
        randomizedElectionTimeout = config.electionTicks() + random.nextInt(config.electionTicks());
        leadTransferee = 0;
        tracker.resetVotes();
        tracker.resetProgress(log.lastIndex() + 1);
        Progress self = tracker.get(id);
        if (self != null) {
            // Only what is durable here counts toward our own match (§10.2.1): later entries count
            // when their Ready is acknowledged.
            self.maybeUpdate(log.lastStableIndex());
        }
        pendingConfIndex = 0;
        uncommittedBytes = 0;
        readOnly.reset();
        readsAwaitingCommit.clear();
        appendsPending = false;
        heartbeatPending = false;
        leaseForfeited = false;
    }

    private void becomeFollower(long newTerm, long leader) {
        Role before = role;
        reset(newTerm);
        lead = leader;
        role = Role.FOLLOWER;
        if (before != Role.FOLLOWER) {
            tracer.event(id, "role", "follower in term " + term + (leader != 0 ? " of leader " + leader : ""));
        }
    }

    private void becomePreCandidate() {
        // A pre-candidate changes neither term nor vote (§9.6): only its step function.
        role = Role.PRE_CANDIDATE;
        tracker.resetVotes();
        lead = 0;
        tracer.event(id, "role", "pre-candidate for term " + (term + 1));
    }

    private void becomeCandidate() {
        reset(term + 1);
        vote = id;
        role = Role.CANDIDATE;
        tracer.event(id, "role", "candidate in term " + term);
    }

    private void becomeLeader() {
        reset(term);
        lead = id;
        role = Role.LEADER;
        tracker.get(id).becomeReplicate();
        // Entries up to here may hold a configuration change not yet applied; allow no new change
        // until they are, so at most one is in flight (§4.1).
        pendingConfIndex = log.lastIndex();
        // §8 / §6.4: a no-op of our own term lets us commit (and learn) everything before it, which
        // earlier-term entries cannot achieve by counting replicas (§5.4.2).
        appendEntry(EntryType.NORMAL, new byte[0]);
        appendsPending = true;
        tracer.event(id, "role", "leader in term " + term);
    }

    // ---------------------------------------------------------------------------------------
    // Replication, follower side (§3.5).

    private void handleAppendEntries(AppendEntries a) {
        long prevIndex = a.slice().prev().index();
        if (prevIndex < log.committed()) {
            // Everything up to our commit index already matches any leader's log (Leader
            // Completeness); tell the leader to continue from there.
            sendAccept(a.from(), log.committed());
            return;
        }
        long lastNew = log.maybeAppend(a.slice(), a.commit());
        if (lastNew >= 0) {
            maybeFinishRecovery(a, lastNew);
            sendAccept(a.from(), lastNew);
            return;
        }
        // Fast back-off: point the leader at the last entry that may match, skipping our whole
        // run of entries with terms above the leader's term at prevIndex.
        EntryId hint = log.findConflictByTerm(Math.min(prevIndex, log.lastIndex()), a.slice().prev().term());
        send(new AppendEntriesResponse(id, a.from(), term, true, prevIndex, hint, recovering));
    }

    /** Acknowledges that our log matches the leader's up to {@code index}. */
    private void sendAccept(long to, long index) {
        send(new AppendEntriesResponse(id, to, term, false, index, EntryId.ZERO, recovering));
    }

    /**
     * Leaves recovery once this node holds everything it may have acknowledged in a life it forgot.
     * Our log now matches the leader's up to {@code lastNew}. If that entry is of the leader's term,
     * we hold the leader's whole log as of its election, which holds every entry committed before its
     * term (Leader Completeness, §3.6.3) — and this leader was elected without our vote (we gave
     * none), by a majority that intersects every majority that stored a committed entry in a node
     * other than us. If {@code lastNew} also reaches the commit index the leader sent, we hold what it
     * committed in its own term. We record a vote for this leader in this term: we may have voted in
     * it before the loss, and its leader is the only candidate we could have voted for that won.
     */
    private void maybeFinishRecovery(AppendEntries a, long lastNew) {
        if (!recovering || lastNew < a.commit() || log.termOrZero(lastNew) != term) {
            return;
        }
        recovering = false;
        vote = a.from();
        tracer.event(id, "recovered", "caught up to " + new EntryId(term, lastNew)
                + " from leader " + a.from() + " in term " + term + "; it votes again");
    }

    private void handleHeartbeat(Heartbeat h) {
        EntryId matched = h.matched();
        if (trustNamedMatch) {
            log.commitTo(Math.min(h.commit(), log.lastIndex())); // the planted bug: no check
        } else if (!recovering && matched.index() > log.committed() && !log.matchTerm(matched)) {
            // We acknowledged this entry to this leader (it became our match) and no longer hold
            // it: we restarted on an older copy of our data directory, which we cannot tell by
            // ourselves. Vote on nothing and count toward nothing until caught up (§3.8).
            recovering = true;
            tracer.event(id, "lost-state-found", "leader " + h.from() + " says we acknowledged " + matched
                    + ", which our log does not hold: our data directory is older than what we answered from; no"
                    + " votes or acknowledgements count until we catch up");
        } else if (!recovering && matched.index() > 0) {
            // We hold our match, so (Log Matching) the leader's log up to it: its commit index,
            // capped there, commits only entries we share. Without the check, an older copy of
            // this directory holding a deposed leader's entries at those indexes committed them.
            log.commitTo(Math.min(h.commit(), matched.index()));
        }
        send(new HeartbeatResponse(id, h.from(), term, h.context(), recovering));
    }

    private void handleInstallSnapshot(InstallSnapshot s) {
        // A snapshot streamed by a peer for the leader goes through exactly the checks of the
        // leader's own (term above, committed index and Log Matching in restore), and the answer
        // goes to the leader, whose Progress for us then leaves SNAPSHOT as usual.
        SnapshotMeta snap = s.snapshot();
        if (restore(snap)) {
            tracer.event(id, "snapshot-restored", snap.last() + " " + snap.conf());
            if (s.fromPeer()) {
                tracer.event(id, "snapshot-from-peer", "from " + s.from() + " for leader " + s.leader() + " at "
                        + snap.last());
            }
            sendAccept(s.leader(), log.lastIndex());
        } else {
            sendAccept(s.leader(), log.committed());
        }
    }

    /**
     * The leader asks us to stream our newest snapshot to {@code p.target()}. We send it only if it
     * reaches {@code p.minIndex()} and is the one our log starts after (an older one, whose Compacted
     * event is on the way, is no good: see sendSnapshot). Otherwise we stay silent and the leader's
     * timeout makes it send its own.
     *
     * <p>Why any member's snapshot will do (thesis §5.1, and §3.8 on what is durable): a snapshot
     * holds only committed, applied state, and committed entries are the same prefix on every
     * member (Log Matching, State Machine Safety). So our snapshot at index i ≥ the leader's
     * compacted index is the state of the leader's own log up to i, and the follower that installs
     * it then takes entries i+1… from the leader under the same consistency checks as after the
     * leader's own snapshot.
     */
    private void handlePushSnapshot(PushSnapshot p) {
        SnapshotMeta snap = log.snapshot();
        if (snap.index() < p.minIndex() || snap.index() < log.firstIndex() - 1 || log.hasPendingSnapshot()) {
            tracer.event(id, "snapshot-push-refused", "to " + p.target() + ": our snapshot at " + snap.last()
                    + " is below " + p.minIndex() + " or not yet ours");
            return;
        }
        send(new InstallSnapshot(id, p.target(), term, snap, p.from()));
        tracer.event(id, "snapshot-sent", "to " + p.target() + " at " + snap.last() + " for leader " + p.from());
    }

    private boolean restore(SnapshotMeta snap) {
        if (snap.index() <= log.committed()) {
            return false;
        }
        // The snapshot's configuration may not include us yet: a learner added after the leader's
        // latest snapshot receives that snapshot, and learns of its own addition from the entries
        // after it. Installing is safe: we cannot campaign under a configuration without us.
        if (keepEntriesPastAnySnapshot ? log.lastIndex() >= snap.index() : log.matchTerm(snap.last())) {
            // We already hold the snapshot's last entry, so (Log Matching) everything before it:
            // just commit, keeping any entries after it.
            log.commitTo(snap.index());
            return false;
        }
        log.restore(snap);
        tracker.applyConf(snap.conf(), log.lastIndex() + 1);
        return true;
    }

    // ---------------------------------------------------------------------------------------
    // Replication, leader side.

    private EntryId handlePropose(byte[] data) {
        requireLeaderForProposal();
        if (config.maxUncommittedBytes() > 0 && uncommittedBytes > 0
                && uncommittedBytes + data.length > config.maxUncommittedBytes()) {
            throw new RaftException(RaftException.Reason.TOO_MANY_UNCOMMITTED, id,
                    "node " + id + " has " + uncommittedBytes + " uncommitted bytes (limit "
                            + config.maxUncommittedBytes() + "); retry once earlier proposals commit");
        }
        EntryId at = appendEntry(EntryType.NORMAL, data);
        appendsPending = true;
        return at;
    }

    private EntryId handleProposeConfChange(ConfChange change) {
        requireLeaderForProposal();
        if (pendingConfIndex > log.applying()) {
            throw new RaftException(RaftException.Reason.CONF_CHANGE_IN_PROGRESS, id,
                    "the configuration change at index " + pendingConfIndex
                            + " is not applied yet; retry once it is (one change at a time, §4.1)");
        }
        try {
            Changer.apply(tracker.conf(), change);
        } catch (IllegalArgumentException e) {
            throw new RaftException(RaftException.Reason.INVALID, id,
                    "invalid configuration change " + change + " for " + tracker.conf() + ": " + e.getMessage());
        }
        EntryId at = appendEntry(EntryType.CONF_CHANGE, ConfChangeCodec.encode(change));
        pendingConfIndex = at.index();
        appendsPending = true;
        return at;
    }

    private void requireLeaderForProposal() {
        if (role != Role.LEADER) {
            throw new RaftException(RaftException.Reason.NOT_LEADER, lead,
                    "node " + id + " is not the leader" + (lead != 0 ? "; the leader is node " + lead : "; no leader is known"));
        }
        if (leadTransferee != 0) {
            throw new RaftException(RaftException.Reason.TRANSFERRING, leadTransferee,
                    "node " + id + " is transferring leadership to node " + leadTransferee + " (§3.10)");
        }
    }

    private EntryId appendEntry(EntryType type, byte[] data) {
        Entry e = new Entry(term, log.lastIndex() + 1, type, data);
        log.append(List.of(e));
        uncommittedBytes += data.length;
        send(AppendEntriesResponse.accept(id, id, term, e.index()));
        return e.id();
    }

    private void bcastAppend() {
        for (long to : tracker.all().keySet()) {
            if (to != id) {
                sendAppend(to);
            }
        }
    }

    private void sendAppend(long to) {
        maybeSendAppend(to, true);
    }

    /**
     * Sends the next append to {@code to} if its progress allows; with {@code sendIfEmpty} also an
     * append without entries (to probe, or to carry the commit index). Returns whether it sent.
     */
    private boolean maybeSendAppend(long to, boolean sendIfEmpty) {
        Progress pr = tracker.get(to);
        if (pr == null || pr.isPaused()) {
            return false;
        }
        long prevIndex = pr.next() - 1;
        long prevTerm;
        List<Entry> entries;
        try {
            prevTerm = log.term(prevIndex);
            entries = pr.mustSendEmpty() ? List.of() : log.entriesFrom(pr.next(), config.maxMsgBytes());
        } catch (LogCompactedException e) {
            return sendSnapshot(to, pr);
        }
        if (entries.isEmpty() && !sendIfEmpty) {
            return false;
        }
        long bytes = 0;
        for (Entry e : entries) {
            bytes += e.sizeBytes();
        }
        pr.sentEntries(entries.size(), bytes);
        send(new AppendEntries(id, to, term, new LogSlice(new EntryId(prevTerm, prevIndex), entries), log.committed()));
        return true;
    }

    private boolean sendSnapshot(long to, Progress pr) {
        if (!pr.recentActive()) {
            // Do not start streaming a snapshot at a node that may be down; it gets one once it answers.
            return false;
        }
        SnapshotMeta snap = log.snapshot();
        if (snap.index() < log.firstIndex() - 1) {
            // The log was compacted past the newest snapshot the runtime has told us of: its
            // Compacted event is on the way. The older one could not bring the follower up to
            // our log (the entries after it are gone), so wait for it.
            return false;
        }
        long peer = config.snapshotSource() == SnapshotSource.PEERS && !pr.peerSnapshotFailed()
                ? snapshotPeerFor(to, snap.index()) : 0;
        pr.clearPeerSnapshotFailed();
        if (peer != 0) {
            pr.becomeSnapshotFromPeer(snap.index(), peer);
            send(new PushSnapshot(id, peer, term, to, snap.index()));
            tracer.event(id, "snapshot-delegated", "to " + to + " from " + peer + " at or past " + snap.index());
            return true;
        }
        pr.becomeSnapshot(snap.index());
        send(new InstallSnapshot(id, to, term, snap));
        tracer.event(id, "snapshot-sent", "to " + to + " at " + snap.last());
        return true;
    }

    /**
     * A member that can stream {@code to} a snapshot at {@code minIndex} or later instead of us: a
     * voter or learner (not {@code to}) we replicate to, recently heard from, not recovering, that
     * holds our log up to {@code minIndex}; the one with the highest match, ties to the lowest id
     * (deterministic). 0 if none. Its snapshot may still be older: it then declines (see
     * handlePushSnapshot) and our timeout sends ours.
     */
    private long snapshotPeerFor(long to, long minIndex) {
        long best = 0;
        long bestMatch = -1;
        for (Map.Entry<Long, Progress> e : tracker.all().entrySet()) {
            long p = e.getKey();
            Progress pr = e.getValue();
            if (p == id || p == to || pr.state() != Progress.State.REPLICATE || !pr.recentActive()
                    || pr.recovering() || pr.match() < minIndex) {
                continue;
            }
            if (pr.match() > bestMatch || (pr.match() == bestMatch && p < best)) {
                best = p;
                bestMatch = pr.match();
            }
        }
        return best;
    }

    private void handleAppendResponse(AppendEntriesResponse r) {
        Progress pr = tracker.get(r.from());
        if (pr == null) {
            return;
        }
        if (r.from() == id) {
            // Our own entries are durable up to r.index() (§10.2.1: the leader counts itself only now).
            if (pr.maybeUpdate(r.index())) {
                maybeCommit();
            }
            return;
        }
        if (!r.reject() && r.index() > log.lastIndex()) {
            // A follower cannot hold entries we never had: a forged or corrupt answer. Counting it
            // as a match could commit entries that only this leader holds.
            tracer.event(id, "response-ignored", "node " + r.from() + " claims to match index " + r.index()
                    + " beyond our last index " + log.lastIndex());
            return;
        }
        pr.markRecentActive(true);
        updateRecovering(r.from(), pr, r.recovering());
        if (r.reject()) {
            long nextProbe = r.hint().index();
            if (r.hint().term() > 0) {
                nextProbe = log.findConflictByTerm(r.hint().index(), r.hint().term()).index();
            }
            if (r.recovering() && r.index() <= pr.match() && r.index() == pr.next() - 1
                    && pr.state() != Progress.State.SNAPSHOT) {
                // A recovering follower rejects the very append we last sent, at or below what it
                // had acknowledged: it lost those entries (wiped, or a damaged tail cut), or the
                // match came from a stale acknowledgement. Ignoring it would probe the same index
                // forever. (From a follower that is not recovering, such a rejection is a stale
                // answer overtaken by a later acceptance — reordered messages — and is ignored
                // below, as §5.3's consistency check allows: it lost nothing.)
                // Lowering a match is always safe (the commit index never moves back). The hint's
                // entry is a match only if we hold it too (Log Matching).
                long newMatch = r.hint().index() < r.index() && log.matchTerm(r.hint()) ? r.hint().index() : 0;
                tracer.event(id, "match-regressed", "node " + r.from() + " rejects index " + r.index()
                        + " at or below its match " + pr.match() + " (it lost entries it acknowledged); match now "
                        + newMatch + ", probing from " + Math.max(newMatch + 1, nextProbe + 1));
                pr.regressMatch(newMatch, nextProbe);
                sendAppend(r.from());
                return;
            }
            if (pr.maybeDecrTo(r.index(), nextProbe)) {
                if (pr.state() == Progress.State.REPLICATE) {
                    pr.becomeProbe();
                }
                sendAppend(r.from());
            }
            return;
        }
        if (pr.state() == Progress.State.PROBE && r.index() < pr.next() - 1) {
            // Every answer to our probe (prev = next - 1) accepts at least prev, so this answers an
            // older append — perhaps one sent before this member was removed and added back (then
            // it may have lost everything since). Taken as the match, it made us ignore every
            // rejection at or below it and probe one index forever (issue 13). Ignoring an answer
            // is always safe: the probe is answered.
            tracer.event(id, "response-ignored", "node " + r.from() + " acknowledges index " + r.index()
                    + " below our probe at " + (pr.next() - 1) + ": a stale answer");
            return;
        }
        boolean wasPaused = pr.isPaused();
        if (!pr.maybeUpdate(r.index()) && !(pr.match() == r.index() && pr.state() == Progress.State.PROBE)) {
            return;
        }
        switch (pr.state()) {
            case PROBE -> pr.becomeReplicate();
            case SNAPSHOT -> {
                if (pr.match() + 1 >= log.firstIndex()) {
                    pr.becomeProbe();
                    pr.becomeReplicate();
                }
            }
            case REPLICATE -> pr.freeInflightsUpTo(r.index());
        }
        if (!maybeCommit() && wasPaused) {
            sendAppend(r.from());
        }
        while (maybeSendAppend(r.from(), false)) {
            // Pipeline (§10.2.2) as far as the in-flight limits allow.
        }
        if (r.from() == leadTransferee && pr.match() == log.lastIndex()) {
            sendTimeoutNow(r.from());
        }
    }

    /**
     * Records whether a follower is recovering; when it stops, its match counts: maybe commit.
     * When it starts, it has lost what it acknowledged (a wiped directory, thesis §3.8): its match
     * is forgotten and it is probed again from there. Without that, a leader that had it fully
     * matched would only send it heartbeats, which reveal nothing, and it would never catch up.
     */
    private void updateRecovering(long follower, Progress pr, boolean now) {
        boolean was = pr.recovering();
        pr.setRecovering(now);
        if (was && !now) {
            maybeCommit();
        }
        if (!was && now && pr.match() > 0) {
            tracer.event(id, "match-regressed", "node " + follower + " says it is recovering lost state: its match "
                    + pr.match() + " no longer holds; match now 0, probing from " + (pr.match() + 1));
            pr.regressMatch(0, pr.match());
        }
    }

    /** Commits what a quorum holds, if it is of the current term (§5.4.2); then tells followers. */
    private boolean maybeCommit() {
        if (!log.maybeCommit(new EntryId(term, tracker.committed()))) {
            return false;
        }
        appendsPending = true;
        if (!readsAwaitingCommit.isEmpty()) {
            List<PendingRead> reads = new ArrayList<>(readsAwaitingCommit);
            readsAwaitingCommit.clear();
            for (PendingRead r : reads) {
                serveRead(r);
            }
        }
        return true;
    }

    private void bcastHeartbeat() {
        long round = readOnly.nextRound(ticks, 2L * config.electionTicks());
        tracker.get(id).heartbeatAcknowledged(round);
        for (Map.Entry<Long, Progress> e : tracker.all().entrySet()) {
            if (e.getKey() != id) {
                Progress pr = e.getValue();
                long commit = Math.min(pr.match(), log.committed());
                // The follower's match, for it to check it still holds it (an older copy of its
                // directory would not); not once it is recovering, nor when compacted here.
                long matchTerm = pr.recovering() || pr.match() == 0 ? 0 : log.termOrZero(pr.match());
                EntryId matched = matchTerm == 0 ? EntryId.ZERO : new EntryId(matchTerm, pr.match());
                send(new Heartbeat(id, e.getKey(), term, commit, round, matched));
            }
        }
    }

    private void handleHeartbeatResponse(HeartbeatResponse r) {
        Progress pr = tracker.get(r.from());
        if (pr == null) {
            return;
        }
        if (r.context() > readOnly.currentRound()) {
            // An answer to a heartbeat round we never sent: forged or corrupt. Counted, it would
            // confirm every future round and let reads (and leases) through without a quorum.
            tracer.event(id, "response-ignored", "node " + r.from() + " answers heartbeat round " + r.context()
                    + " beyond our latest round " + readOnly.currentRound());
            return;
        }
        updateRecovering(r.from(), pr, r.recovering());
        pr.heartbeatAcknowledged(r.context());
        if (pr.match() < log.lastIndex() || pr.state() == Progress.State.PROBE) {
            sendAppend(r.from());
        }
        if (readOnly.hasPending()) {
            for (ReadOnly.Request req : readOnly.release(tracker.quorumAckedRound())) {
                respondRead(req.requester(), req.requestId(), req.index());
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Reads (§6.4, §6.4.1).

    private void handleReadIndex(long requester, long requestId, ReadMode mode) {
        if (role != Role.LEADER) {
            if (requester == id && lead != 0) {
                send(new ReadIndexRequest(id, lead, term, requestId, mode));
            }
            // Otherwise no leader is known (or we lost leadership of a forwarded read): the
            // requester times out and retries.
            return;
        }
        PendingRead read = new PendingRead(requester, requestId, mode);
        if (tracker.isSingleton(id)) {
            respondRead(requester, requestId, log.committed());
        } else if (log.termOrZero(log.committed()) != term) {
            // §6.4 step 1: until an entry of our term commits, our commit index may be behind
            // what an earlier leader committed.
            readsAwaitingCommit.add(read);
        } else {
            serveRead(read);
        }
    }

    private void serveRead(PendingRead r) {
        // The lease rests on stickiness, which a transfer's candidate is exempt from (§3.10): once a
        // TimeoutNow is out, another leader can be elected before the lease runs out, so no lease
        // reads for the rest of the term (§6.4.1); the read waits for a heartbeat round instead.
        if (r.mode() == ReadMode.LEASE && config.checkQuorum() && !leaseForfeited
                && readOnly.leaseValid(tracker.quorumAckedRound(), ticks, config.electionTicks(), config.leaseDriftTicks())) {
            respondRead(r.requester(), r.requestId(), log.committed());
            return;
        }
        // §6.4 steps 2–3: record the commit index now, confirm leadership with the next heartbeat round.
        readOnly.add(new ReadOnly.Request(r.requester(), r.requestId(), log.committed(), readOnly.currentRound() + 1));
        heartbeatPending = true;
    }

    private void respondRead(long requester, long requestId, long index) {
        if (requester == id) {
            readStates.add(new ReadState(requestId, index));
        } else {
            send(new ReadIndexResponse(id, requester, term, requestId, index));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Leadership transfer (§3.10).

    private void handleTransferLeadership(long to) {
        if (role != Role.LEADER) {
            throw new RaftException(RaftException.Reason.NOT_LEADER, lead,
                    "node " + id + " cannot transfer leadership: it is not the leader");
        }
        Progress pr = tracker.get(to);
        if (pr == null || pr.learner()) {
            throw new RaftException(RaftException.Reason.INVALID, id,
                    "cannot transfer leadership to node " + to + ": it is not a voter");
        }
        if (leadTransferee == to || to == id) {
            return;
        }
        // The transfer must finish within one election timeout; tickHeartbeat abandons it after that.
        electionElapsed = 0;
        leadTransferee = to;
        tracer.event(id, "transfer-started", "to " + to);
        if (pr.match() == log.lastIndex()) {
            sendTimeoutNow(to);
        } else {
            sendAppend(to);
        }
    }

    private void handleStepDown(String reason) {
        if (role != Role.LEADER) {
            return;
        }
        long heir = 0;
        for (long v : tracker.conf().voters()) {
            Progress pr = tracker.get(v);
            if (v != id && pr != null && pr.match() == log.lastIndex() && !pr.recovering()) {
                heir = v;
                break;
            }
        }
        if (heir != 0) {
            sendTimeoutNow(heir);
        }
        tracer.event(id, "stepped-down", reason + (heir != 0 ? "; leadership handed to " + heir : "; no follower holds"
                + " the whole log, so the others elect after an election timeout"));
        becomeFollower(term, 0);
    }

    private void sendTimeoutNow(long to) {
        leaseForfeited = true;
        send(new TimeoutNow(id, to, term));
    }

    private Progress leaderProgress(long peer) {
        return role == Role.LEADER ? tracker.get(peer) : null;
    }

    // ---------------------------------------------------------------------------------------
    // Membership (§4).

    private AppliedConfChange applyConfChange(Entry e) {
        ConfState before = tracker.conf();
        AppliedConfChange applied = Changer.applyEntry(before, e.index(), e.data());
        if (!applied.accepted()) {
            // Every node decodes and checks the same entry against the same configuration, so all
            // refuse it alike: a no-op everywhere.
            tracer.event(id, "conf-rejected", "entry " + e.id() + " leaves " + before + " unchanged: "
                    + applied.rejection());
            return applied;
        }
        ConfState next = applied.conf();
        tracker.applyConf(next, log.lastIndex() + 1);
        tracer.event(id, "conf-applied", e.id() + " " + next);
        if (role == Role.LEADER) {
            afterConfChangeAsLeader(next);
        }
        return applied;
    }

    private void afterConfChangeAsLeader(ConfState next) {
        if (!next.isVoter(id)) {
            // §4.2.2: a removed leader steps down once the change is committed.
            becomeFollower(term, 0);
            return;
        }
        if (leadTransferee != 0 && !next.isVoter(leadTransferee)) {
            leadTransferee = 0;
        }
        // The quorum changed: maybe more is committed; new members need entries.
        maybeCommit();
        appendsPending = true;
    }

    /** With auto-leave, the leader leaves the joint configuration as soon as entering it is applied (§4.3). */
    private void maybeAutoLeave() {
        if (role == Role.LEADER && tracker.conf().autoLeave() && log.applying() >= pendingConfIndex) {
            EntryId at = appendEntry(EntryType.CONF_CHANGE, ConfChangeCodec.encode(ConfChange.leaveJoint()));
            pendingConfIndex = at.index();
            appendsPending = true;
            tracer.event(id, "auto-leave", "proposed at " + at);
        }
    }

    private boolean hasUnappliedConfChanges() {
        boolean[] found = {false};
        forEachEntry(log.applying() + 1, log.committed() + 1, e -> found[0] |= e.type() == EntryType.CONF_CHANGE);
        return found[0];
    }

    private void forEachEntry(long lo, long hi, Consumer<Entry> action) {
        while (lo < hi) {
            List<Entry> batch = log.slice(lo, hi, config.maxCommittedBytesPerReady());
            batch.forEach(action);
            lo += batch.size();
        }
    }

    // ---------------------------------------------------------------------------------------
    // The one door out.

    private void send(Message m) {
        if (m.to() == id) {
            // Acknowledgements to ourselves count once the Ready they belong to is durable. Keep
            // one append acknowledgement per Ready: the last one covers the earlier ones.
            int last = selfAfterPersist.size() - 1;
            if (m instanceof AppendEntriesResponse && last >= 0
                    && selfAfterPersist.get(last) instanceof AppendEntriesResponse prev && prev.term() == m.term()) {
                selfAfterPersist.set(last, m);
            } else {
                selfAfterPersist.add(m);
            }
        } else if (m instanceof InstallSnapshot s) {
            // The runtime streams a snapshot's bytes itself, so it travels in a list of its own.
            snapshotsToSend.add(s);
        } else if (m instanceof AppendEntriesResponse || m instanceof RequestVoteResponse) {
            // These promise something about our durable state (a vote, entries held): §3.8.
            msgsAfterPersist.add(m);
        } else {
            msgs.add(m);
        }
    }

    private SoftState softState() {
        return new SoftState(lead, role);
    }

    private HardState hardState() {
        return new HardState(term, vote, log.committed(), recovering);
    }

    /** True if {@link #ready()} has anything for the runtime to do. */
    public boolean hasReady() {
        return (role == Role.LEADER && (appendsPending || heartbeatPending))
                || lead != prevSoftState.leader() || role != prevSoftState.role()
                || term != prevHardState.term() || vote != prevHardState.vote()
                || recovering != prevHardState.recovering()
                || log.committed() != prevHardState.commit()
                || log.hasNextUnstableEntries()
                || log.nextUnstableSnapshot() != null
                || !msgs.isEmpty() || !msgsAfterPersist.isEmpty() || !snapshotsToSend.isEmpty()
                || !selfAfterPersist.isEmpty()
                || log.hasNextCommittedEntries()
                || !readStates.isEmpty();
    }

    /**
     * Takes the next Ready. Taking it accepts it: its entries and committed entries are never
     * handed out again. See {@link Ready} for what the runtime must do with it.
     */
    public Ready ready() {
        if (role == Role.LEADER) {
            // Broadcast once per Ready rather than once per proposal or read: many proposals
            // travel in one AppendEntries, many reads share one heartbeat round.
            if (appendsPending) {
                appendsPending = false;
                bcastAppend();
            }
            if (heartbeatPending) {
                heartbeatPending = false;
                bcastHeartbeat();
            }
        }
        long number = ++readyNumber;
        SoftState soft = softState();
        SoftState softOut = soft.equals(prevSoftState) ? null : soft;
        prevSoftState = soft;
        HardState hard = hardState();
        HardState hardOut = hard.equals(prevHardState) ? null : hard;
        boolean mustSync = hardOut != null && hard.needsSyncComparedTo(prevHardState);
        prevHardState = hard;

        List<Entry> entries = log.nextUnstableEntries();
        SnapshotMeta snapshot = log.nextUnstableSnapshot();
        List<Entry> committed = log.nextCommittedEntries();
        mustSync |= !entries.isEmpty() || snapshot != null;

        EntryId lastEntry = entries.isEmpty() ? null : entries.get(entries.size() - 1).id();
        if (lastEntry != null || snapshot != null || !selfAfterPersist.isEmpty()) {
            pendingPersist.addLast(new PendingPersist(number, lastEntry, log.unstableOverwrites(),
                    snapshot == null ? -1 : snapshot.index(), selfAfterPersist));
            selfAfterPersist = new ArrayList<>();
        }
        log.acceptUnstable();

        List<Message> out = msgs;
        List<Message> outAfterPersist = msgsAfterPersist;
        List<InstallSnapshot> snapshotsOut = snapshotsToSend;
        List<ReadState> reads = readStates;
        msgs = new ArrayList<>();
        msgsAfterPersist = new ArrayList<>();
        snapshotsToSend = new ArrayList<>();
        readStates = new ArrayList<>();
        // Handing out may step a removed leader down or propose leaving a joint configuration;
        // what that sends belongs to the next Ready, which is why this Ready's lists are taken first.
        List<AppliedConfChange> confChanges = committed.isEmpty() ? List.of() : handOut(committed);
        return new Ready(number, softOut, hardOut, entries, snapshot, out, outAfterPersist, snapshotsOut, committed,
                confChanges, reads, mustSync);
    }

    /**
     * Committed entries have been handed out for application. Configuration changes take effect
     * now, when committed (see docs/divergence.md: the thesis applies them on append).
     */
    private List<AppliedConfChange> handOut(List<Entry> committed) {
        List<AppliedConfChange> confChanges = List.of();
        long bytes = 0;
        for (Entry e : committed) {
            bytes += e.sizeBytes();
        }
        log.acceptApplying(committed.get(committed.size() - 1).index(), bytes);
        for (Entry e : committed) {
            if (role == Role.LEADER) {
                uncommittedBytes = Math.max(0, uncommittedBytes - e.data().length);
            }
            if (e.type() == EntryType.CONF_CHANGE) {
                if (confChanges.isEmpty()) {
                    confChanges = new ArrayList<>(1);
                }
                confChanges.add(applyConfChange(e));
            }
        }
        maybeAutoLeave();
        return confChanges;
    }

    /**
     * Ready {@code number} and all before it are durable. Marks their entries stable unless they
     * were overwritten since (the ABA rule, see {@code Unstable.stableTo}), then counts the
     * acknowledgements we owed ourselves.
     */
    private void handlePersisted(long number) {
        if (number > readyNumber) {
            throw new IllegalArgumentException("node " + id + ": Ready " + number + " acknowledged but only "
                    + readyNumber + " were handed out");
        }
        while (!pendingPersist.isEmpty() && pendingPersist.peekFirst().number() <= number) {
            PendingPersist p = pendingPersist.pollFirst();
            if (p.snapshotIndex() >= 0) {
                log.stableSnapshotTo(p.snapshotIndex());
            }
            if (p.lastEntry() != null) {
                log.stableTo(p.lastEntry(), p.overwrites());
            }
            for (Message m : p.selfMessages()) {
                stepMessage(m);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Observation.

    public long id() {
        return id;
    }

    public long term() {
        return term;
    }

    public Role role() {
        return role;
    }

    public long leader() {
        return lead;
    }

    public boolean isLeader() {
        return role == Role.LEADER;
    }

    public ConfState conf() {
        return tracker.conf();
    }

    /**
     * Leader only: the highest index known to be replicated on {@code peer} (its Progress match),
     * or -1 if this node does not lead or {@code peer} is not a member. The runtime uses it to
     * promote a learner only once it has caught up (§4.2.1), and for the followers' lag that
     * status and metrics show.
     */
    public long matchIndex(long peer) {
        Progress pr = leaderProgress(peer);
        return pr == null ? -1 : pr.match();
    }

    /**
     * Leader only: whether {@code peer} last said it is recovering lost state (it then neither votes
     * nor counts toward a commit until it has caught up); false if this node does not lead.
     */
    public boolean isPeerRecovering(long peer) {
        Progress pr = leaderProgress(peer);
        return pr != null && pr.recovering();
    }

    public long committed() {
        return log.committed();
    }

    /** True while this node recovers lost state: it neither votes nor campaigns (see {@link HardState}). */
    public boolean isRecovering() {
        return recovering;
    }

    /** A read-only view of the log: for the runtime's reads, tests and the simulator's invariant checks. */
    public LogView log() {
        return log;
    }

    public Status status() {
        Map<Long, String> progress = new LinkedHashMap<>();
        if (role == Role.LEADER) {
            tracker.all().forEach((peer, pr) -> progress.put(peer, pr.toString()));
        }
        return new Status(id, term, vote, role, lead, log.committed(), log.applied(), log.lastIndex(),
                log.firstIndex(), tracker.conf(), leadTransferee, progress, recovering);
    }

    @Override
    public String toString() {
        return "node " + id + " " + role + " term=" + term + " lead=" + lead + " commit=" + log.committed()
                + " last=" + log.lastIndex();
    }
}
