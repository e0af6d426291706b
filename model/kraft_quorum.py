"""kraft-quorum: KRaft's metadata quorum, the Raft of KIP-595 as Kafka 3.9 runs it.

In KRaft mode the controllers (``process.roles=controller``) are the voters of one Raft
quorum, ``controller.quorum.voters``. The quorum's log is the cluster metadata log; its leader
is the active controller, which appends metadata records (RegisterBroker, PartitionChange...)
and every other voter copies them. Kafka's Raft differs from the textbook in ways this model
keeps:

1. **Roles** (``QuorumState``): UNATTACHED (knows an epoch, maybe has voted in it: the
   ``votedKey``), CANDIDATE, LEADER, FOLLOWER, RESIGNED. A voter whose election or fetch timer
   expires becomes a candidate of epoch + 1 and votes for itself.
2. **Votes** (``KafkaRaftClient.handleVoteRequest``): a voter moves to a higher epoch it hears
   of; it grants at most one vote per epoch, only as UNATTACHED, and only to a candidate whose
   (last epoch, end offset) is at least its own. A majority of grants, its own included, makes
   the candidate leader; the new leader appends a LeaderChange control record of its epoch.
3. **Replication is pulled** (``handleFetchRequest``): a follower fetches from its end offset;
   on divergence the leader answers with a diverging epoch and the follower truncates
   (``truncateToEndOffset``) and fetches again. The leader records each voter's end offset and
   advances the high watermark to the majority-replicated offset, but only past an entry of
   its own epoch (``LeaderState.maybeUpdateHighWatermark``); followers learn it on fetch.
4. **Restart from the quorum-state file** (``QuorumState.initialize``): epoch, vote and leader
   are persisted; a leader restarts RESIGNED in its epoch, a candidate restarts CANDIDATE.
5. **Check quorum** (KAFKA-15489, 3.7.0): a leader that gets no fetches from a majority for
   1.5 × ``controller.quorum.fetch.timeout.ms`` resigns. ``--before KAFKA-15489`` removes it:
   a leader cut off from the quorum then stays leader of its epoch for as long as the cut lasts.

Abstracted away (see docs/models/kraft-quorum.md): brokers and the controller's records (a
record is its epoch and offset: Raft's log matching makes that its identity); timers (any
timeout may expire at any time); each RPC and its answer are one atomic step; a fetch copies
the leader's whole log, divergence truncation and re-fetch included; snapshots, observers,
Pre-Vote (4.x), dynamic voters (KIP-853). The log is flushed before it counts (Kafka flushes
the leader's log before its own end offset counts toward the high watermark). Faults: voter
crashes (``max_crashes``) and a voter cut off from all others (``max_isolations``).
"""

from kafkacheck.checker.lang import (Bool, Domain, Enum, Int, Map, Maybe, Model, Param,
                                     ParameterError, Seq,
                                     Set, action, count_of, ite, require, when)

VoterRole = Enum("VoterRole", "UNATTACHED", "CANDIDATE", "LEADER", "FOLLOWER", "RESIGNED")
"""``org.apache.kafka.raft.EpochState`` implementations of 3.9 (no 4.x Prospective)."""


MAX_VOTERS = 5
VOTERS_DOC = ("a count n (voter ids 1..n) or the voters as Kafka writes them: "
              "1@host:9093,2@host:9093,3@host:9093 (or just the ids, 1,2,3)")


def parse_voters(text) -> str:
    """``controller.quorum.voters``: a count ("3": ids 1..3), or ``id@host:port`` entries or
    bare ids ("4,5,6"), returned with spaces removed. Raises ValueError with what is allowed."""
    voter_ids(text)
    return ",".join(e.strip() for e in str(text).split(","))


def voter_ids(value) -> tuple:
    """The voter ids that a ``controller.quorum.voters`` value names."""
    text = str(value).strip()
    usage = (f"takes a count (1..{MAX_VOTERS}) or voter ids, such as "
             f"1@host:9093,2@host:9093,3@host:9093 or 1,2,3; not {text!r}")
    if text.isdigit():
        if not 1 <= int(text) <= MAX_VOTERS:
            raise ValueError(usage)
        return tuple(range(1, int(text) + 1))
    ids = []
    for entry in text.split(","):
        ident, at, where = entry.strip().partition("@")
        if not ident.isdigit() or (at and ":" not in where):
            raise ValueError(usage)
        ids.append(int(ident))
    if len(ids) > MAX_VOTERS:
        raise ValueError(f"names {len(ids)} voters; "
                         f"use 1..{MAX_VOTERS}")
    repeated = [i for k, i in enumerate(ids) if i in ids[:k]]
    if repeated:
        raise ValueError(f"names voter {repeated[0]} twice")
    return tuple(ids)


def voter_domain(value):
    try:
        return Domain("voter", ids=voter_ids(value))
    except ValueError as e:
        raise ParameterError(f"parameter controller.quorum.voters {e}") from None


class KraftQuorum(Model):
    """The KRaft metadata quorum: voters, epochs, votes, the pulled log, the high watermark."""

    name = "kraft-quorum"
    fixes = {"KAFKA-15489": "check-quorum: a leader without fetches from a majority resigns "
                            "(3.7.0)"}

    voters = Param("3", key="controller.quorum.voters", parse=parse_voters,
                   doc=VOTERS_DOC)
    max_epoch = Param(2, lo=1, hi=6, doc="bound on epochs")
    max_records = Param(2, lo=1, hi=4, doc="bound on each voter's metadata log")
    max_crashes = Param(1, lo=0, hi=5, doc="voter crashes the run may suffer in all")
    max_isolations = Param(1, lo=0, hi=3, doc="times a voter may be cut off from the others")

    def setup(m):
        m.voter = voter_domain(m.voters)
        m.n_voters = len(m.voter)
        m.epochs = Domain("epoch", ids=range(1, m.max_epoch + 1))
        m.majority = m.n_voters // 2 + 1

    def variables(m):
        v, e, r = m.voter, m.max_epoch, m.max_records
        return {
            # per voter, persisted (the quorum-state file and the log)
            "epoch": Map(v, Int(0, e)),
            "voted": Map(v, Maybe(v)),              # votedKey in the current epoch
            "leader": Map(v, Maybe(v)),             # the leader it knows in its epoch
            "log": Map(v, Seq(Int(0, e), r)),       # each record's epoch, by offset
            # per voter, in memory
            "up": Map(v, Bool),
            "role": Map(v, VoterRole),
            "hw": Map(v, Int(0, r)),                # the high watermark it knows
            "granted": Map(v, Set(v)),              # as a candidate: votes received
            "end_offset": Map(v, Map(v, Int(0, r))),  # as leader: each voter's end offset
            # the environment
            "isolated": Map(v, Bool),               # cut off from every other voter
            "crashes": Int(0, m.max_crashes),
            "isolations": Int(0, m.max_isolations),
            # proof-only: the committed log (the longest prefix ever below a leader's HW),
            # the epoch of the leader that last extended it, who led each epoch, and who
            # voted for whom in each epoch (read only by the proof lemmas)
            "committed": Seq(Int(0, e), r),
            "commit_epoch": Int(0, e),
            "led": Map(m.epochs, Set(v)),
            "vote_of": Map(v, Map(m.epochs, Maybe(v))),  # each voter's vote in each epoch
        }

    def init(m, s):
        for x in m.voter:
            s.up[x] = True

    # -- helpers (traced expressions, not steps) ---------------------------------------------
    def connected(m, s, a, b):
        return ~s.isolated[a] & ~s.isolated[b] & s.up[a] & s.up[b]

    def last_epoch(m, s, x):
        return s.log[x].last()        # 0 for an empty log: the entry type's default

    def log_ok(m, s, candidate, voter):
        """``OffsetAndEpoch.compareTo``: the candidate's (last epoch, end offset) is at least
        the voter's."""
        ec, ev = m.last_epoch(s, candidate), m.last_epoch(s, voter)
        return (ec > ev) | ((ec == ev) & (s.log[candidate].length() >= s.log[voter].length()))

    def step_down(m, s, x, epoch):
        """``transitionToUnattached``: a higher epoch was seen; no vote, no leader yet."""
        s.epoch[x] = epoch
        s.role[x] = "UNATTACHED"
        s.voted[x] = None
        s.leader[x] = None
        s.granted[x] = set()

    # -- the environment ---------------------------------------------------------------------
    @action("voter")
    def voter_crash(m, s, voter):
        """The controller process dies; the quorum-state file and the log survive."""
        require(s.up[voter] & (s.crashes < m.max_crashes))
        s.up[voter] = False
        s.crashes = s.crashes + 1
        s.hw[voter] = 0
        s.granted[voter] = set()
        for x in m.voter:
            s.end_offset[voter][x] = 0

    @action("voter")
    def voter_restart(m, s, voter):
        """``QuorumState.initialize`` from the quorum-state file: a leader restarts RESIGNED in
        its epoch (it may neither vote again nor reuse offsets), a voter that voted for itself
        restarts CANDIDATE, any other UNATTACHED with its vote kept."""
        x = voter
        require(~s.up[x])
        s.up[x] = True
        s.role[x] = ite(s.leader[x] == x, VoterRole.RESIGNED,
                        ite((s.voted[x] == x) & s.leader[x].is_none(), VoterRole.CANDIDATE,
                            VoterRole.UNATTACHED))
        with when(s.leader[x] != x):
            s.leader[x] = None
        with when((s.voted[x] == x) & s.pre.leader[x].is_none()):   # as before the step
            s.granted[x] = s.granted[x] | x       # empty since the crash

    @action("voter")
    def network_isolate(m, s, voter):
        """A network partition cuts the voter off from all the others."""
        require(~s.isolated[voter] & (s.isolations < m.max_isolations))
        s.isolated[voter] = True
        s.isolations = s.isolations + 1

    @action("voter")
    def network_heal(m, s, voter):
        require(s.isolated[voter])
        s.isolated[voter] = False

    # -- election ----------------------------------------------------------------------------
    @action("voter")
    def voter_become_candidate(m, s, voter):
        """The election timeout (UNATTACHED, CANDIDATE, RESIGNED) or the fetch timeout
        (FOLLOWER) expires: ``transitionToCandidate`` bumps the epoch and votes for itself."""
        x = voter
        require(s.up[x] & (s.role[x] != "LEADER") & (s.epoch[x] < m.max_epoch))
        s.epoch[x] = s.epoch[x] + 1
        s.role[x] = "CANDIDATE"
        s.voted[x] = x
        s.leader[x] = None
        s.granted[x] = set()
        s.granted[x] = s.granted[x] | x           # a read sees the write above
        for e in m.epochs:
            with when(s.epoch[x] == e.value + 1):
                s.vote_of[x][e] = x
    @action("voter", "voter", where=lambda m, a, b: a.value != b.value)
    def voter_handle_vote_request(m, s, voter, candidate):
        """``handleVoteRequest`` and the candidate's ``handleVoteResponse``: a voter at a lower
        epoch first moves to the candidate's epoch (UNATTACHED); it grants if it is UNATTACHED
        with no vote or this vote already, and the candidate's log is at least as up to date."""
        x, c = voter, candidate
        require(m.connected(s, x, c) & (s.role[c] == "CANDIDATE"))
        require(s.epoch[x] <= s.epoch[c])
        newer = s.epoch[x] < s.epoch[c]
        with when(newer):
            m.step_down(s, x, s.pre.epoch[c])
        grant = (s.role[x] == "UNATTACHED") & (s.voted[x].is_none() | (s.voted[x] == c)) & \
            m.log_ok(s, c, x)
        require(newer | (grant & ~s.granted[c].contains(x)))
        with when(grant):
            s.voted[x] = c
            s.granted[c] = s.granted[c] | x
            for e in m.epochs:
                with when(s.epoch[c] == e.value + 1):
                    s.vote_of[x][e] = c

    @action("voter")
    def candidate_become_leader(m, s, voter):
        """``transitionToLeader`` on a majority of votes; ``onBecomeLeader`` appends the
        LeaderChange control record at ``epochStartOffset``."""
        x = voter
        require(s.up[x] & (s.role[x] == "CANDIDATE") & (s.granted[x].size() >= m.majority))
        require(s.log[x].length() < m.max_records)
        s.role[x] = "LEADER"
        s.leader[x] = x
        s.granted[x] = set()
        s.log[x].append(s.epoch[x])
        for e in m.epochs:
            with when(s.epoch[x] == e.value + 1):
                s.led[e] = s.led[e] | x
        for y in m.voter:
            s.end_offset[x][y] = 0
        s.end_offset[x][x] = s.log[x].length()

    # -- replication ---------------------------------------------------------------------------
    @action("voter")
    def controller_append_record(m, s, voter):
        """The active controller (the Raft leader) appends a metadata record of its epoch
        (``QuorumController`` → ``KafkaRaftClient.scheduleAppend``)."""
        x = voter
        require(s.up[x] & (s.role[x] == "LEADER") & (s.log[x].length() < m.max_records))
        s.log[x].append(s.epoch[x])
        s.end_offset[x][x] = s.log[x].length()

    @action("voter", "voter", where=lambda m, a, b: a.value != b.value)
    def follower_fetch(m, s, voter, leader):
        """``handleFetchRequest`` and ``handleFetchResponse``: a voter fetches from a leader of
        its epoch or a later one (learning of it, as on ``BeginQuorumEpoch``); a diverging log
        is truncated and the rest copied; the leader records the voter's end offset; the
        voter learns the high watermark."""
        x, ld = voter, leader
        require(m.connected(s, x, ld) & (s.role[ld] == "LEADER"))
        require((s.epoch[x] < s.epoch[ld]) |
                ((s.epoch[x] == s.epoch[ld]) & (s.role[x] != "LEADER")))
        with when(s.epoch[x] < s.epoch[ld]):
            s.voted[x] = None                   # a vote belongs to the epoch it was cast in
        s.epoch[x] = s.epoch[ld]
        s.role[x] = "FOLLOWER"
        s.leader[x] = ld
        s.granted[x] = set()
        s.log[x] = s.log[ld]
        s.end_offset[ld][x] = s.log[ld].length()
        s.hw[x] = s.hw[ld]

    @action("voter")
    def leader_advance_high_watermark(m, s, voter):
        """``LeaderState.maybeUpdateHighWatermark``: the largest offset a majority (the leader
        included) has reached, if an entry of the leader's own epoch lies below it."""
        x = voter
        require(s.up[x] & (s.role[x] == "LEADER"))
        new = s.hw[x]
        for k in range(1, m.max_records + 1):
            reached = count_of(m.voter, lambda y: s.end_offset[x][y] >= k) >= m.majority
            own = (s.log[x].length() >= k) & (s.log[x][k - 1] == s.epoch[x])
            new = ite(reached & own & (k > new), k, new)
        require(new > s.hw[x])
        s.hw[x] = new
        # proof-only: the committed log grows to this prefix of the leader's log
        for k in range(m.max_records):
            with when((k < new) & (k >= s.committed.length())):
                s.committed[k] = s.log[x][k]
        with when(new > s.committed.length()):
            s.commit_epoch = s.epoch[x]
        s.committed.truncate(ite(new > s.committed.length(), new, s.committed.length()))

    @action("voter", where=lambda m, v: m.fixed("KAFKA-15489") and m.n_voters > 1)
    def leader_resign_without_quorum(m, s, voter):
        """KAFKA-15489's check quorum: a leader that has had no fetch from a majority for
        1.5 × ``controller.quorum.fetch.timeout.ms`` resigns (here: it is cut off from every
        other voter and the quorum has more than one voter)."""
        x = voter
        require(s.up[x] & (s.role[x] == "LEADER") & s.isolated[x])
        s.role[x] = "RESIGNED"
