"""ensemble: a ZooKeeper ensemble running Zab (leader election, discovery, sync, broadcast).

A ZooKeeper ensemble is ``servers`` QuorumPeers. Each keeps, on disk, its transaction log
(the *history*: transactions ordered by zxid), ``acceptedEpoch`` (the last epoch it promised
to a prospective leader) and ``currentEpoch`` (the epoch of the last leader it synced with).
Everything else (its role, whom it follows) is lost when the process crashes.

The protocol runs in four phases, each a step here:

1. **Election** (FastLeaderElection). A LOOKING server votes for the candidate with the
   most up-to-date history, comparing (currentEpoch, lastZxid) as ``totalOrderPredicate``
   does; a zxid is (epoch, counter), so lastZxid compares as (epoch of the last
   transaction, length of the history). When a quorum of LOOKING servers votes for one
   candidate it becomes LEADING and the voters FOLLOWING. A LOOKING server may also join a
   leader that is already running (``follower_join``).
2. **Discovery** (Leader.getEpochToPropose, Learner.registerWithLeader). Once a quorum of
   followers (with the leader) has connected, the leader proposes the new epoch
   e' = max(acceptedEpoch) + 1 over them; each sets acceptedEpoch = e' (LEADERINFO /
   ACKEPOCH). A server never accepts an epoch below its acceptedEpoch, and the leader
   refuses a follower whose (currentEpoch, lastZxid) is ahead of its own
   (Leader.waitForEpochAck): without that check a committed transaction can be lost.
3. **Synchronization** (LearnerHandler.syncFollower, Leader.waitForNewLeaderAck). Each
   follower truncates or extends its history to the leader's (TRUNC / DIFF / SNAP) and sets
   currentEpoch = e' (NEWLEADER); once a quorum has acknowledged, the leader is
   *established* and its whole history is committed.
4. **Broadcast** (Leader.propose, Follower.processPacket, Leader.tryToCommit). The
   established leader appends a transaction with zxid (e', n); followers log it in order and
   acknowledge; it is committed once a quorum has logged it.

A quorum is QuorumMaj.containsQuorum: strictly more than half of the servers
(``quorum=majority``). ``quorum=half`` accepts any half (2|S| >= n), the known-unsafe
variant: with an even ensemble two disjoint halves elect two leaders of one epoch. For an
odd ensemble both rules coincide, which is why ensembles have an odd size (seed claim C9).

Abstracted away (see docs/models/ensemble.md):

- Messages: each phase step is atomic over the servers taking part (the voters, the
  connected followers); a server's crash, a timeout or a partition is a separate step.
- Transaction payloads: a transaction is its zxid (the epoch that proposed it and its
  position), which is all ZooKeeper compares during election and synchronization.
- Acknowledgements are read from the disk state: a server has acknowledged the leader's
  transaction k when it is in the leader's epoch and has logged k (a follower logs a
  proposal before it acks, and only a sync with a newer leader can truncate it).
- The leader's commit index and the followers' COMMIT processing: commitment is observed
  by proof-only variables; reads, sessions, snapshots, observers, dynamic reconfiguration
  and FLE's election rounds (logicalclock) are not modeled. Ties in FLE votes (broken by
  the larger server id) may go either way, so that the server ids stay symmetric.
- Crashed followers rejoin through election (LOOKING), and a leader's followers notice at
  once when it crashes or gives up leadership.

Every growth is bounded: epochs by ``max_epoch``, histories by ``max_txns``; servers crash
and recover any number of times, at most ``max_down`` of them down at once.
"""

from itertools import combinations

from kafkacheck.checker.lang import (Bool, Domain, Enum, Int, Map, Maybe, Model, Not, Param,
                                     Seq, Set, action, any_of, count_of, ite, maximum, require,
                                     when)

ServerState = Enum("ServerState", "LOOKING", "FOLLOWING", "LEADING")
"""QuorumPeer.ServerState (OBSERVING is not modeled)."""

ZabPhase = Enum("ZabPhase", "ELECTION", "DISCOVERY", "SYNCHRONIZATION", "BROADCAST")
"""The Zab phase a server is in: ELECTION while LOOKING, then the three phases of a leader
and its followers."""


class Voters(tuple):
    """A minimal quorum of servers that elects a candidate, shown as ``{1,2}`` in labels."""

    def __new__(cls, elements, ids):
        self = super().__new__(cls, elements)
        self.ids = tuple(ids)
        return self

    def __str__(self):
        return "{" + ",".join(map(str, self.ids)) + "}"

    __repr__ = __str__


def _parse_quorum(text: str) -> str:
    value = text.strip().lower()
    if value not in ("majority", "half"):
        raise ValueError(f"quorum must be majority or half, not {text!r}")
    return value


class Ensemble(Model):
    """A ZooKeeper ensemble: servers that crash and recover, elect a leader per epoch with a
    quorum of votes, synchronize followers to it and commit its transactions."""

    name = "ensemble"

    servers = Param(3, lo=1, hi=7, doc="number of ZooKeeper servers n (ids 1..n)")
    quorum = Param("majority", choices=("majority", "half"), parse=_parse_quorum,
                   doc="quorum rule: majority (more than half, QuorumMaj) or half "
                       "(any half, the known-unsafe variant)")
    max_epoch = Param(2, lo=1, hi=7, doc="bound on epochs: leaders are established in "
                                         "epochs 1..max_epoch")
    max_txns = Param(2, lo=1, hi=6, doc="bound on each server's history (transactions)")
    max_down = Param(1, lo=0, hi=7, doc="bound on servers down at the same time (the "
                                        "failures the run may suffer at once)")

    def setup(m):
        n = m.servers
        # the servers are interchangeable (check --symmetry proves it, then uses it)
        m.server = Domain("server", ids=range(1, n + 1), symmetric=True)
        m.epoch = Domain("epoch", ids=range(1, m.max_epoch + 1))
        # QuorumMaj.containsQuorum: |S| > n/2 (half = n / 2 in integer division); the unsafe
        # rule counts any half: 2|S| >= n. Both agree when n is odd.
        m.quorum_size = n // 2 + 1 if m.quorum == "majority" else (n + 1) // 2
        members = list(m.server)
        m.voter_sets = [Voters(c, (m.server.ids[e.value] for e in c))
                        for c in combinations(members, m.quorum_size)]

    def variables(m):
        e, t = m.max_epoch, m.max_txns
        return {
            # per server: the process
            "up": Map(m.server, Bool),                       # the QuorumPeer process runs
            "state": Map(m.server, ServerState),             # volatile: lost in a crash
            "phase": Map(m.server, ZabPhase),                # volatile
            "leader": Map(m.server, Maybe(m.server)),        # whom it follows (itself when
                                                             # leading); none when LOOKING
            # per server: on disk, kept across crashes
            "accepted_epoch": Map(m.server, Int(0, e)),      # the acceptedEpoch file
            "current_epoch": Map(m.server, Int(0, e)),       # the currentEpoch file
            "history": Map(m.server, Seq(Int(0, e), t)),     # txn log: the epoch of each
                                                             # zxid; the position is its counter
            # proof-only (ghost) variables: read by properties, never by the protocol
            "led": Map(m.epoch, Set(m.server)),              # servers ever established as
                                                             # leader of each epoch
            "committed": Seq(Int(0, e), t),                  # committed txns by position
            "committed_in": Seq(Int(0, e), t),               # the epoch that committed each
            "commit_conflict": Bool,                         # two leaders committed different
                                                             # txns at one position
        }

    def init(m, s):
        for x in m.server:
            s.up[x] = True
            s.state[x] = "LOOKING"
            s.phase[x] = "ELECTION"
            s.leader[x] = None
            s.accepted_epoch[x] = 0
            s.current_epoch[x] = 0

    # -- helpers (traced expressions, not steps) ---------------------------------------------
    def is_quorum(m, count):
        """QuorumVerifier.containsQuorum, given how many servers a set holds."""
        return count >= m.quorum_size

    def at_least_as_up_to_date(m, s, a, b):
        """FastLeaderElection.totalOrderPredicate without the id tie-break: a's
        (currentEpoch, lastZxid) >= b's, where lastZxid = (last txn's epoch, counter)."""
        ha, hb = s.history[a], s.history[b]
        ea, eb = s.current_epoch[a], s.current_epoch[b]
        la, lb = ha.last(), hb.last()
        return (ea > eb) | ((ea == eb) & ((la > lb) | ((la == lb) &
                                                       (ha.length() >= hb.length()))))

    def ahead_of(m, s, follower, leader):
        """StateSummary.isMoreRecentThan: the follower's (currentEpoch, lastZxid) is greater
        than the leader's, so Leader.waitForEpochAck refuses it."""
        return ~m.at_least_as_up_to_date(s, leader, follower)

    def copy_history(m, s, dst, src):
        """dst's log becomes src's (TRUNC / DIFF / SNAP all end with the leader's history)."""
        for k in range(m.max_txns):
            s.history[dst][k] = s.history[src][k]
        s.history[dst].truncate(s.history[src].length())

    def observe_commit(m, s, leader, upto, epoch):
        """Proof-only: the leader's history up to position ``upto`` is committed in
        ``epoch``. Positions committed before keep their first commit; a different
        transaction committed at one of them sets ``commit_conflict``. Returns whether this
        changes the ghost state (a commit that changes nothing need not be a step)."""
        old = s.committed.length()
        h = s.history[leader]
        clash = any_of(range(m.max_txns), lambda k: (old > k) & (upto > k) &
                       (h[k] != s.committed[k]))
        changes = (upto > old) | (clash & ~s.commit_conflict)
        with when(clash):
            s.commit_conflict = True
        for k in range(m.max_txns):
            with when((old <= k) & (upto > k)):
                s.committed[k] = h[k]
                s.committed_in[k] = epoch
        s.committed.truncate(maximum(old, upto))
        s.committed_in.truncate(maximum(old, upto))
        return changes

    def become_looking(m, s, x):
        s.state[x] = "LOOKING"
        s.phase[x] = "ELECTION"
        s.leader[x] = None

    def follows(m, s, x, leader, phase):
        """x is connected to ``leader`` (or is it) in the given Zab phase."""
        return (s.leader[x] == leader) & (s.phase[x] == phase)

    # -- the environment -----------------------------------------------------------------------
    @action("server")
    def crash(m, s, server):
        """A server process dies; its disk (log, acceptedEpoch, currentEpoch) survives.

        Its followers, if it was leading, lose the connection and go back to LOOKING
        (Follower.followLeader ends when the socket to the leader breaks)."""
        require(s.up[server])
        require(count_of(m.server, lambda x: ~s.up[x]) < m.max_down)
        leading = s.state[server] == "LEADING"
        for x in m.server:
            if x is server:
                continue
            with when(leading & (s.leader[x] == server)):
                m.become_looking(s, x)
        s.up[server] = False
        m.become_looking(s, server)

    @action("server")
    def recover(m, s, server):
        """A crashed server restarts: QuorumPeer loads its disk state and starts LOOKING."""
        require(~s.up[server])
        s.up[server] = True

    # -- phase 0: election ---------------------------------------------------------------------
    @action("server", "voter_sets", where=lambda m, c, v: c.value in [e.value for e in v],
            lane="candidate", tells="voters")
    def elect_leader(m, s, candidate, voters):
        """A quorum of LOOKING servers elects the candidate (FastLeaderElection.lookForLeader).

        Each voter votes for the most up-to-date history it has seen, so the candidate's
        (currentEpoch, lastZxid) is at least every voter's; when a quorum agrees
        (termPredicate), the candidate turns LEADING and the voters FOLLOWING."""
        for v in voters:
            require(s.up[v] & (s.state[v] == "LOOKING"))
        for v in voters:
            if v is not candidate:
                require(m.at_least_as_up_to_date(s, candidate, v))
        for v in voters:
            s.state[v] = "LEADING" if v is candidate else "FOLLOWING"
            s.phase[v] = "DISCOVERY"
            s.leader[v] = candidate

    @action("server", "server", where=lambda m, f, ld: f.value != ld.value,
            lane="follower", tells="leader")
    def follower_join(m, s, follower, leader):
        """A LOOKING server joins a running leader (FLE learns it from FOLLOWING/LEADING
        notifications; Learner.registerWithLeader).

        During discovery it is one more connecting follower. Later it receives the leader's
        epoch in LEADERINFO and refuses one below its acceptedEpoch; a leader that is already
        established syncs it at once (LearnerHandler.syncFollower)."""
        require(s.up[follower] & (s.state[follower] == "LOOKING"))
        require(s.state[leader] == "LEADING")
        lphase = s.phase[leader]
        e = s.accepted_epoch[leader]
        require((lphase == "DISCOVERY") | (e >= s.accepted_epoch[follower]))
        s.state[follower] = "FOLLOWING"
        s.leader[follower] = leader
        s.phase[follower] = lphase
        with when(lphase != "DISCOVERY"):
            s.accepted_epoch[follower] = e
        with when(lphase == "BROADCAST"):
            s.current_epoch[follower] = e
            m.copy_history(s, follower, leader)

    @action("server")
    def follower_leave(m, s, server):
        """A follower gives up its leader (a read timeout or a partition: Follower
        .followLeader throws) and goes back to LOOKING."""
        require(s.state[server] == "FOLLOWING")
        m.become_looking(s, server)

    @action("server")
    def leader_quit(m, s, server):
        """A leader without a quorum of connected followers shuts down (Leader.lead: "Not
        sufficient followers synced"); its followers go back to LOOKING with it."""
        require(s.state[server] == "LEADING")
        connected = count_of(m.server, lambda x: s.leader[x] == server)
        require(~m.is_quorum(connected))
        for x in m.server:
            with when(s.leader[x] == server):
                m.become_looking(s, x)

    # -- phase 1: discovery ----------------------------------------------------------------------
    @action("server")
    def leader_new_epoch(m, s, server):
        """The leader proposes epoch e' = max(acceptedEpoch) + 1 over itself and its connected
        followers, once they are a quorum (Leader.getEpochToPropose), and collects ACKEPOCH.

        Each connected follower sets acceptedEpoch = e' (LEADERINFO) and replies with its
        currentEpoch and lastZxid; one more up to date than the leader is refused and drops
        back to LOOKING (Leader.waitForEpochAck: "Follower is ahead of the leader"). If the
        others still form a quorum they move on to synchronization; if not, the leader times
        out waiting for the epoch acks (initLimit) and everyone connected goes LOOKING."""
        require((s.state[server] == "LEADING") & (s.phase[server] == "DISCOVERY"))
        joined = {x.value: m.follows(s, x, server, "DISCOVERY") for x in m.server}
        require(m.is_quorum(count_of(m.server, lambda x: joined[x.value])))
        top = s.accepted_epoch[server]
        for x in m.server:
            if x is not server:
                top = maximum(top, ite(joined[x.value], s.accepted_epoch[x], 0))
        new = top + 1
        require(new <= m.max_epoch)
        acked = {x.value: joined[x.value] if x is server else
                 joined[x.value] & Not(m.ahead_of(s, x, server)) for x in m.server}
        enough = m.is_quorum(count_of(m.server, lambda x: acked[x.value]))
        for x in m.server:
            with when(joined[x.value]):
                s.accepted_epoch[x] = new
            with when(enough & acked[x.value]):
                s.phase[x] = "SYNCHRONIZATION"
            with when(joined[x.value] & ~(enough & acked[x.value])):
                m.become_looking(s, x)

    # -- phase 2: synchronization ----------------------------------------------------------------
    @action("server")
    def leader_establish(m, s, server):
        """A quorum of followers has synced to the leader's history and acknowledged
        NEWLEADER (Leader.waitForNewLeaderAck): each set currentEpoch = e' and the leader is
        established, its history committed (UPTODATE)."""
        require((s.state[server] == "LEADING") & (s.phase[server] == "SYNCHRONIZATION"))
        e = s.accepted_epoch[server]
        synced = {x.value: m.follows(s, x, server, "SYNCHRONIZATION") for x in m.server}
        require(m.is_quorum(count_of(m.server, lambda x: synced[x.value])))
        for x in m.server:
            with when(synced[x.value]):
                s.current_epoch[x] = e
                s.phase[x] = "BROADCAST"
                if x is not server:
                    m.copy_history(s, x, server)
        # proof-only
        for k in m.epoch:
            with when(e == m.epoch.ids[k.value]):
                s.led[k] = s.led[k] | server
        m.observe_commit(s, server, s.history[server].length(), e)

    # -- phase 3: broadcast ----------------------------------------------------------------------
    @action("server")
    def leader_propose(m, s, server):
        """The established leader logs a new transaction with zxid (e', n+1)
        (Leader.propose; the leader's own SyncRequestProcessor logs it)."""
        require((s.state[server] == "LEADING") & (s.phase[server] == "BROADCAST"))
        require(s.history[server].length() < m.max_txns)
        s.history[server].append(s.current_epoch[server])

    @action("server", "server", where=lambda m, f, ld: f.value != ld.value,
            lane="leader", tells="follower")
    def follower_log(m, s, follower, leader):
        """A follower logs the leader's next proposal, in zxid order, and acknowledges it
        (Follower.processPacket PROPOSAL; SyncRequestProcessor, SendAckRequestProcessor)."""
        require((s.leader[follower] == leader) & (s.phase[follower] == "BROADCAST"))
        require(s.state[follower] == "FOLLOWING")
        n = s.history[follower].length()
        require(n < s.history[leader].length())
        s.history[follower].append(s.history[leader][n])

    @action("server")
    def leader_commit(m, s, server):
        """The leader commits its transactions that a quorum has logged in its epoch
        (Leader.processAck, tryToCommit: in zxid order, once containsQuorum(acks))."""
        require((s.state[server] == "LEADING") & (s.phase[server] == "BROADCAST"))
        e = s.current_epoch[server]
        upto = 0
        for k in range(1, m.max_txns + 1):
            acked = count_of(m.server, lambda x: (s.current_epoch[x] == e) &
                             (s.history[x].length() >= k))
            upto = ite(m.is_quorum(acked) & (s.history[server].length() >= k), k, upto)
        require(upto > 0)
        changes = m.observe_commit(s, server, upto, e)
        # Commitment lives in proof-only variables, so a commit that changes none of them
        # leads back to the same state: leave that self-loop out.
        require(changes)

