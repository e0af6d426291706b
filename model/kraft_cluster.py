"""kraft-cluster: Apache Kafka 3.9 / 4.x in KRaft mode — controllers, brokers, partitions.

The protocol. The controllers (``controller.quorum.voters``) form one Raft quorum whose log is
the cluster metadata log; its leader is the *active controller* (``QuorumController``). Every
change to the cluster is a metadata record the active controller appends and that takes effect
once committed (a majority of voters has it): RegisterBrokerRecord, BrokerRegistrationChange
(fence, unfence, in controlled shutdown), PartitionChangeRecord. The controller acts only on
the committed image; its heartbeat bookkeeping (``BrokerHeartbeatManager``) is soft state, lost
on failover (a new active controller gives every broker a fresh session).

Brokers (``BrokerLifecycleManager``) go NOT_RUNNING → STARTING (BrokerRegistrationRequest with
a new incarnation id: the controller commits a RegisterBrokerRecord whose offset is the new
*broker epoch*; the broker starts fenced) → RECOVERY (it caught up with the metadata log) →
RUNNING (a heartbeat unfences it). A broker whose heartbeats stop is fenced when its session
(``broker.session.timeout.ms``) expires; fencing removes it from every ISR and re-elects the
partitions it led (``ReplicationControlManager.handleBrokerFenced``). A controlled shutdown is a
heartbeat with ``wantShutDown``: the controller marks it in controlled shutdown, moves its
leaderships and removes it from ISRs; once it leads nothing the heartbeat answer is
SHUTDOWN_NOW and the broker flushes and exits. Partition changes go through
``PartitionChangeBuilder`` (``kraft_elections.py``), with the ELR of KIP-966. Leaders keep
their ISR with AlterPartition, which the controller validates: the leader epoch, KIP-841 (no
fenced or shutting-down broker joins the ISR: INELIGIBLE_REPLICA) and KIP-903 (the broker
epoch the follower fetched with must be its current registration's).

Fairness, for liveness properties: a voter's election timer (only while it hears no
leader), the brokers' metadata fetches and heartbeats and the active controller's handling of
them, fencing on session expiry, and ISR upkeep are weakly fair; crashes, isolations, disk
loss, controller restarts and the operator owe nothing.

Abstracted (compositional: ``kraft-quorum`` checks the Raft protocol step by step; this model
keeps the parts of the quorum the cluster sees, see docs/models/kraft-cluster.md):
- A controller is its epoch, a role (LEADER / FOLLOWER / UNATTACHED / RESIGNED), up, cut off
  from the other voters, and whether its log holds every committed record. A candidacy and its
  votes are one step, ``controller_elect``: a voter holding the committed log with an up,
  connected majority of voters at lower epochs moves them to epoch + 1 and leads (sound because
  a vote is granted at most once per epoch and only to an up-to-date log: kraft-quorum proves
  election safety and leader completeness). Check-quorum (KAFKA-15489) is ``controller_resign``.
- A record is appended and committed in one step, which needs the leader's up, connected
  majority; a leader cut off from it cannot change metadata. The committed image is the shared
  state; brokers copy it when they fetch from a controller holding it (coalesced), so their
  view lags; a fetch from a stale, cut-off leader brings nothing new. Brokers reach every up
  controller (the cut is between voters). With ``max_isolations > 0`` each broker follows one
  controller (its metadata observer's leader, also the target of its heartbeats and
  AlterPartition requests) and looks for another only when that one fails its fetches; without
  isolations that adds nothing, so it is not tracked.
- Time is gone: any timeout may expire whenever its precondition holds.
- Partition epochs, leader recovery state, offsets of records in the metadata log, snapshots,
  observers, Pre-Vote and dynamic voters are not modeled; one topic; no reassignment.
- Data: as in zk-cluster (``replica_logs.py``): logs of leader epochs, a flushed prefix lost
  in a power loss, fetch with truncation, one produce request in flight per partition.
"""

from __future__ import annotations

from kafkacheck.checker.lang import (Bool, Domain, Enum, Int, Map, Maybe, Model, Or, Param,
                                     ParameterError, Seq, Set, action, all_of, any_of,
                                     constraint, count_of, ite, require, set_of, when)

from . import replica_logs as logs
from .kraft_elections import elect_leader, target_isr_and_elr
from .kraft_quorum import VOTERS_DOC, parse_voters, voter_domain
from .zk_cluster import _normalize_assignment, assign_replicas, parse_assignment

Role = Enum("Role", "UNATTACHED", "FOLLOWER", "LEADER", "RESIGNED")
"""Voter roles of ``org.apache.kafka.raft.QuorumState`` (a candidacy is inside one step)."""

BrokerState = Enum("BrokerState", "NOT_RUNNING", "STARTING", "RECOVERY", "RUNNING",
                   "PENDING_CONTROLLED_SHUTDOWN")
"""``org.apache.kafka.metadata.BrokerState`` (SHUTTING_DOWN is inside ``broker_shutdown_now``)."""


class KraftCluster(Model):
    """Kafka in KRaft mode: the quorum as the cluster sees it, broker registration, fencing and
    controlled shutdown, PartitionChangeBuilder with ELR, and the data path."""

    name = "kraft-cluster"
    fixes = {
        "KIP-966": "eligible leader replicas and unclean-shutdown detection: a broker that "
                   "restarts after a crash leaves the ISRs and ELRs (3.9, enabled by "
                   "eligible.leader.replicas.enable)",
        "KAFKA-15489": "check-quorum: a leader without a majority of voters resigns (3.7.0)",
        "KAFKA-19522": "the last-known-leader path of balanced recovery tests "
                       "isAcceptableLeader (4.1.1 / 4.2.0)",
        "KIP-841": "AlterPartition may not add a fenced or shutting-down broker to the ISR "
                   "(INELIGIBLE_REPLICA, 3.3.2 / 3.4.0)",
        "KIP-903": "AlterPartition carries the broker epoch each new ISR member fetched "
                   "with; a stale one is refused (3.5.0)",
    }

    voters = Param("3", key="controller.quorum.voters", parse=parse_voters, doc=VOTERS_DOC)
    process_roles = Param("controller", key="process.roles",
                          choices=("controller", "broker,controller"),
                          doc="controller: dedicated controllers; broker,controller: "
                              "controller i runs on broker i (a host crash stops both)")
    brokers = Param(3, lo=1, hi=5, doc="number of brokers (ids 1..n)")
    partitions = Param(1, lo=1, hi=4, doc="partitions of the one topic")
    replication_factor = Param(3, key="replication.factor", lo=1, hi=5)
    replica_assignment = Param("", key="replica.assignment", parse=_normalize_assignment,
                               doc="explicit replicas, kafka-topics style: 1:3 or 1:2:3,2:3:1;"
                                   " empty: AdminUtils' round-robin assignment")
    min_insync_replicas = Param(2, key="min.insync.replicas", lo=1, hi=5)
    eligible_leader_replicas_enable = Param(True, key="eligible.leader.replicas.enable",
                                            doc="KIP-966's ELR (off by default in 3.9 and "
                                                "4.0; ignored --before KIP-966)")
    unclean_leader_election_enable = Param(False, key="unclean.leader.election.enable")
    acks = Param("all", choices=("all", "1"), doc="the producer's acks")
    max_crashes = Param(1, lo=0, hi=3, doc="broker (host) crashes, power losses")
    max_shutdowns = Param(1, lo=0, hi=3, doc="controlled shutdowns of brokers")
    max_restarts = Param(1, lo=0, hi=3, doc="broker restarts after a crash or shutdown")
    max_writes = Param(1, lo=0, hi=3, doc="records produced (0: no producer, no logs)")
    max_controller_crashes = Param(0, lo=0, hi=3, doc="controller process crashes")
    max_isolations = Param(0, lo=0, hi=2, doc="times a controller is cut off from the voters")
    max_disk_losses = Param(0, lo=0, hi=1, doc="a stopped broker's log disk is replaced")
    max_epoch = Param(2, lo=1, hi=5, doc="bound on controller (Raft) epochs")
    max_leader_epoch = Param(3, lo=1, hi=8, doc="bound on partition leader epochs")
    quorum_fetch_timeout_ms = Param(2000, key="controller.quorum.fetch.timeout.ms", lo=1,
                                    hi=3_600_000, doc="check-quorum resigns a leader after "
                                    "1.5 × this without fetches from a majority")
    broker_session_timeout_ms = Param(9000, key="broker.session.timeout.ms", lo=1,
                                      hi=3_600_000, doc="a broker without heartbeats for this "
                                      "long is fenced")

    def setup(m):
        if m.replication_factor > m.brokers and not m.replica_assignment:
            raise ParameterError("replication.factor exceeds brokers")
        m.combined = m.process_roles == "broker,controller"
        m.voter = voter_domain(m.voters)
        m.n_voters = len(m.voter)
        outside = [v for v in m.voter.ids if v not in range(1, m.brokers + 1)]
        if m.combined and outside:
            raise ParameterError(f"with process.roles=broker,controller every controller is "
                                 f"a broker: voter {outside[0]} is not among brokers "
                                 f"1..{m.brokers}")
        m.broker = Domain("broker", ids=range(1, m.brokers + 1))
        m.partition = Domain("partition", size=m.partitions)
        ids = tuple(range(1, m.brokers + 1))
        assignment = parse_assignment(m.replica_assignment) or \
            assign_replicas(ids, m.partitions, m.replication_factor)
        unknown = sorted({r for reps in assignment for r in reps} - set(ids))
        if unknown:
            raise ParameterError(f"replica.assignment names broker {unknown[0]}, which is not "
                                 f"among brokers 1..{m.brokers}")
        if not 1 <= len(assignment) <= type(m).partitions.hi:
            raise ParameterError(f"replica.assignment gives {len(assignment)} partitions; "
                                 f"use 1..{type(m).partitions.hi}")
        if len({len(reps) for reps in assignment}) != 1:
            raise ParameterError("replica.assignment: give every partition the same number of "
                                 "replicas (the model has one replication factor)")
        m.partitions = len(assignment)
        m.replication_factor = len(assignment[0])
        m.partition = Domain("partition", size=m.partitions)
        m.replicas = {p: [m.broker.of(r) for r in reps]
                      for p, reps in zip(m.partition, assignment)}
        m.majority = m.n_voters // 2 + 1
        m.elr_on = m.eligible_leader_replicas_enable and m.fixed("KIP-966")
        m.logs = m.max_writes > 0
        m.max_bepoch = 1 + m.max_restarts
        m.min_isr = min(m.min_insync_replicas, m.replication_factor)
        m.first_voter = m.voter.of(m.voter.ids[0])   # the active controller at the start
        m.follows = m.max_isolations > 0
        # A broker that follows a stale leader is fenced when its session runs out, unless
        # check-quorum resigns that leader first (then the broker finds the new one in time).
        m.stale_sessions_expire = m.follows and (
            not m.fixed("KAFKA-15489") or
            1.5 * m.quorum_fetch_timeout_ms >= m.broker_session_timeout_ms)

    def variables(m):
        V, B, P = m.voter, m.broker, m.partition
        E, LE, W, BE = m.max_epoch, m.max_leader_epoch, m.max_writes, m.max_bepoch
        v = {
            # == controllers (the quorum as the cluster sees it) ==
            "c_epoch": Map(V, Int(1, E)),
            "c_role": Map(V, Role),
            "c_up": Map(V, Bool),
            "c_current": Map(V, Bool),             # its log holds every committed record
            "isolated": Map(V, Bool),              # cut off from the other voters
            # == the committed metadata image ==
            "registered": Map(B, Bool),
            "bepoch": Map(B, Int(1, BE)),          # broker epoch of its registration
            "fenced": Map(B, Bool),
            "in_cs": Map(B, Bool),                 # in_controlled_shutdown
            "leader": Map(P, Maybe(B)),
            "leader_epoch": Map(P, Int(0, LE + 1)),
            "isr": Map(P, Set(B)),
            "elr": Map(P, Set(B)),
            "last_known": Map(P, Set(B)),          # lastKnownElr (the last leader)
            # == brokers ==
            "state": Map(B, BrokerState),
            "clean": Map(B, Bool),                 # its last stop was clean (flushed)
            "b_leader": Map(B, Map(P, Maybe(B))),  # applied metadata: each partition's leader
            "b_epoch": Map(B, Map(P, Int(-1, LE + 1))),
            "b_ctrl": Map(B, Maybe(V)),            # the controller it takes for the leader
            # == faults ==
            "crashes": Int(0, m.max_crashes),
            "shutdowns": Int(0, m.max_shutdowns),
            "restarts": Int(0, m.max_restarts),
            "c_crashes": Int(0, m.max_controller_crashes),
            "isolations": Int(0, m.max_isolations),
            "disk_losses": Int(0, m.max_disk_losses),
            # == ghosts ==
            "commit_epoch": Int(0, E),             # epoch of the last commit
            "committer": Maybe(V),                 # ... and the controller that made it
            "two_committers": Bool,                # two controllers committed in one epoch
            "stale_commit": Bool,                  # a commit at an epoch below an earlier one
            "failed_over": Bool,                   # a second controller led
            "refenced": Bool,                      # a broker was fenced and unfenced again
            "was_fenced": Map(B, Bool),
            "cs_completed": Bool,                  # a broker exited on SHUTDOWN_NOW
            "resigned_cut_off": Bool,              # a cut-off leader resigned
        }
        if not m.follows:
            del v["b_ctrl"]
        if m.logs:
            v.update({
                "log": Map(B, Map(P, Seq(Int(0, LE + 1), W))),
                "flushed": Map(B, Map(P, Int(0, W))),
                # the leader's follower state (``Replica``): log end and broker epoch of
                # the last fetch it saw from each replica
                "seen_len": Map(P, Map(B, Int(0, W))),
                "seen_epoch": Map(P, Map(B, Int(0, BE))),
                "writes": Int(0, W),
                "produce_at": Map(P, Maybe(B)),
                "produce_offset": Map(P, Int(0, W - 1)),
                "acked": Map(P, Seq(Int(0, LE + 1), W)),
            })
        return v

    def init(m, s):
        """A running cluster: controller 1 leads epoch 1, every broker registered, unfenced
        and RUNNING, every partition led by its first replica with a full ISR."""
        for x in m.voter:
            s.c_epoch[x] = 1
            s.c_up[x] = True
            s.c_current[x] = True
            s.c_role[x] = "LEADER" if x.value == 0 else "FOLLOWER"
        s.commit_epoch = 1
        s.committer = m.first_voter
        for b in m.broker:
            s.registered[b] = True
            s.bepoch[b] = 1
            s.state[b] = "RUNNING"
            s.clean[b] = True
            if m.follows:
                s.b_ctrl[b] = m.first_voter
            for p in m.partition:
                s.b_leader[b][p] = m.replicas[p][0]
                s.b_epoch[b][p] = 0
        for p in m.partition:
            s.leader[p] = m.replicas[p][0]
            s.isr[p] = set(m.replicas[p])
            if m.logs:
                s.produce_at[p] = None

    # -- helpers ---------------------------------------------------------------------------
    def host(m, c):
        """With ``process.roles=broker,controller``: the broker that runs controller ``c``
        (the same node id)."""
        return m.broker.of(m.voter.ids[c.value])

    def controller_on(m, b):
        """The controller running on broker ``b``'s node, or None."""
        ident = m.broker.ids[b.value]
        return m.voter.of(ident) if m.combined and ident in m.voter.ids else None

    def connected(m, s, a, b):
        return s.c_up[a] & s.c_up[b] & ((a == b) | (~s.isolated[a] & ~s.isolated[b]))

    def hears_leader(m, s, c):
        """Voter ``c`` reaches an up leader of its own epoch or a later one: its election
        timer does not fire (an election is then a fault, not owed)."""
        return any_of(m.voter, lambda x: (s.c_role[x] == "LEADER") & m.connected(s, c, x) &
                      (s.c_epoch[x] >= s.c_epoch[c]))

    def has_majority(m, s, c):
        """An up, connected majority of voters at ``c``'s epoch (a voter of a higher epoch
        refuses ``c``'s fetch answers: FENCED_LEADER_EPOCH)."""
        return count_of(m.voter, lambda x: m.connected(s, c, x) &
                        (s.c_epoch[x] == s.c_epoch[c])) >= m.majority

    def active(m, s, c):
        """``c`` leads its epoch and can commit: it is up with an up, connected majority."""
        return (s.c_role[c] == "LEADER") & m.has_majority(s, c)

    def some_active(m, s):
        return any_of(m.voter, lambda c: m.active(s, c))

    def commit(m, s):
        """The active controller appends and commits a record batch (the caller requires
        ``some_active``): the voters connected to it now hold the committed log."""
        for c in m.voter:
            with when(m.active(s.pre, c)):
                s.two_committers = s.two_committers | (
                    (s.commit_epoch == s.c_epoch[c]) & (s.committer != c))
                s.stale_commit = s.stale_commit | (s.c_epoch[c] < s.commit_epoch)
                s.commit_epoch = s.c_epoch[c]
                s.committer = c
                for x in m.voter:
                    s.c_current[x] = m.connected(s.pre, c, x)

    def reaches_active(m, s, b):
        """Broker ``b``'s heartbeats and AlterPartition requests reach the active controller
        (they go to the controller it follows)."""
        if not m.follows:
            return m.some_active(s)
        return any_of(m.voter, lambda c: (s.b_ctrl[b] == c) & m.active(s, c))

    def fetches_from(m, s, b, c):
        """``b`` fetches metadata from controller ``c``: ``c`` is up and takes itself for the
        leader (a resigned, unattached or crashed one fails the fetch)."""
        follows = (s.b_ctrl[b] == c) if m.follows else True
        return follows & s.c_up[c] & (s.c_role[c] == "LEADER")

    def metadata_behind(m, s, b):
        """``b`` has not applied the committed image (of the partitions' leaders)."""
        return Or(*(s.b_leader[b][p] != s.leader[p] for p in m.partition),
                  *(s.b_epoch[b][p] != s.leader_epoch[p] for p in m.partition))

    def is_up(m, s, b):
        return (s.state[b] == "RUNNING") | (s.state[b] == "PENDING_CONTROLLED_SHUTDOWN")

    def acceptable(m, s, r):
        """``PartitionChangeBuilder.isAcceptableLeader``: registered, unfenced, not shutting
        down."""
        return s.registered[r] & ~s.fenced[r] & ~s.in_cs[r]

    def serves(m, s, p, b):
        """Broker ``b`` serves partition ``p``: it runs unfenced, its applied metadata makes it
        leader at the image's leader epoch, and the image agrees."""
        return m.is_up(s, b) & ~s.fenced[b] & (s.b_leader[b][p] == b) & \
            (s.leader[p] == b) & (s.b_epoch[b][p] == s.leader_epoch[p])

    def served(m, s, p):
        return any_of(m.broker, lambda b: m.serves(s, p, b))

    def change_partition(m, s, p, new_isr):
        """``PartitionChangeBuilder.build`` for partition ``p`` with the target ISR
        ``new_isr``: ELR upkeep, leader election, a new leader epoch if the leader changed."""
        isr, elr = target_isr_and_elr(s.isr[p], new_isr, s.elr[p], m.min_isr, m.elr_on)
        old = s.leader[p]
        leader, isr, elr, clean = elect_leader(
            m.replicas[p], old, isr, elr, s.last_known[p], lambda r: m.acceptable(s, r),
            elr_on=m.elr_on, unclean=m.unclean_leader_election_enable,
            fixed_19522=m.fixed("KAFKA-19522"))
        changed = leader != old
        if m.elr_on:
            # the last leader is remembered when the partition goes leaderless with no ELR
            with when(leader.is_none() & old.is_some() & elr.is_empty()):
                s.last_known[p] = set_of(m.broker, lambda r: False) | old
            with when(leader.is_some()):
                s.last_known[p] = set()
        s.leader[p] = leader
        s.isr[p] = isr
        s.elr[p] = elr
        with when(changed):
            s.leader_epoch[p] = s.leader_epoch[p] + 1

    def remove_everywhere(m, s, b, from_elr=False):
        """Take ``b`` out of every ISR (and, for an unclean restart, every ELR: the last ELR
        member so removed is remembered in ``lastKnownElr`` for balanced recovery)."""
        for p in m.partition:
            if b in m.replicas[p]:
                if from_elr and m.elr_on:
                    with when(s.elr[p].contains(b)):
                        with when(s.isr[p].is_empty() & (s.elr[p] - b).is_empty()):
                            s.last_known[p] = set_of(m.broker, lambda r: False) | b
                        s.elr[p] = s.elr[p] - b
                m.change_partition(s, p, s.isr[p] - b)

    # == the controllers ======================================================================

    @action("voter", fair="weak",
            fair_when=lambda m, s, c: ~m.hears_leader(s, c))
    def controller_elect(m, s, voter):
        """``KafkaRaftClient`` candidacy + ``handleVoteRequest`` as one step (election or
        fetch timeout expired): a voter holding the committed log, with an up, connected
        majority of voters at lower or equal epochs, leads epoch + 1; they follow it."""
        c = voter
        require(s.c_up[c] & (s.c_role[c] != "LEADER") & s.c_current[c])
        require(s.c_epoch[c] < m.max_epoch)
        e = s.c_epoch[c]
        require(count_of(m.voter, lambda x: m.connected(s, c, x) &
                         (s.c_epoch[x] <= e)) >= m.majority)
        for x in m.voter:
            with when(m.connected(s.pre, c, x) & (s.pre.c_epoch[x] <= e)):
                s.c_epoch[x] = e + 1
                s.c_role[x] = "FOLLOWER"
        s.c_role[c] = "LEADER"
        s.failed_over = True

    @action("voter", where=lambda m, v: m.n_voters > 1, fair="weak")
    def controller_learn_epoch(m, s, voter):
        """A voter that can reach a voter of a higher epoch (a fetch or vote exchange)
        moves to it: a leader of an older epoch steps down (``transitionToUnattached``)."""
        c = voter
        hi = [x for x in m.voter if x is not c]
        require(any_of(hi, lambda x: m.connected(s, c, x) & (s.c_epoch[x] > s.c_epoch[c])))
        for x in hi:
            with when(m.connected(s.pre, c, x) & (s.pre.c_epoch[x] > s.c_epoch[c])):
                s.c_epoch[c] = s.pre.c_epoch[x]
        s.c_role[c] = "UNATTACHED"

    @action("voter", where=lambda m, v: m.fixed("KAFKA-15489") and m.n_voters > 1,
            fair="weak")
    def controller_resign(m, s, voter):
        """Check-quorum (KAFKA-15489): a leader without fetches from a majority for
        1.5 × ``controller.quorum.fetch.timeout.ms`` resigns."""
        c = voter
        require((s.c_role[c] == "LEADER") & s.c_up[c] & ~m.has_majority(s, c))
        s.c_role[c] = "RESIGNED"
        s.resigned_cut_off = s.resigned_cut_off | s.isolated[c]

    @action("voter", where=lambda m, v: m.max_isolations > 0)
    def controller_isolate(m, s, voter):
        """A network partition cuts the controller off from the other voters (brokers may
        still reach it)."""
        require(s.c_up[voter] & ~s.isolated[voter] & (s.isolations < m.max_isolations))
        s.isolated[voter] = True
        s.isolations = s.isolations + 1

    @action("voter", where=lambda m, v: m.max_isolations > 0)
    def controller_heal(m, s, voter):
        """The partition heals."""
        require(s.isolated[voter])
        s.isolated[voter] = False

    @action("voter", where=lambda m, v: m.max_controller_crashes > 0 and not m.combined)
    def controller_crash(m, s, voter):
        """The controller process dies; its quorum-state file and log survive."""
        require(s.c_up[voter] & (s.c_crashes < m.max_controller_crashes))
        s.c_crashes = s.c_crashes + 1
        s.c_up[voter] = False

    @action("voter", where=lambda m, v: m.max_controller_crashes > 0 or m.combined)
    def controller_restart(m, s, voter):
        """``QuorumState.initialize``: a leader restarts RESIGNED in its epoch, any other
        voter UNATTACHED."""
        c = voter
        require(~s.c_up[c])
        if m.combined:
            require(s.state[m.host(c)] != "NOT_RUNNING")
        s.c_up[c] = True
        s.c_role[c] = ite(s.c_role[c] == "LEADER", Role.RESIGNED, Role.UNATTACHED)

    # == brokers ==============================================================================

    @action("broker")
    def broker_crash(m, s, broker):
        """The host loses power: unflushed log data is gone; the session lingers until it
        expires. With ``process.roles=broker,controller`` the controller on it stops too."""
        b = broker
        require(m.is_up(s, b) | (s.state[b] == "STARTING") | (s.state[b] == "RECOVERY"))
        require(s.crashes < m.max_crashes)
        s.crashes = s.crashes + 1
        s.state[b] = "NOT_RUNNING"
        s.clean[b] = False
        m._lose_process_state(s, b)
        if m.logs:
            for p in m.partition:
                s.log[b][p].truncate(s.flushed[b][p])
        if m.combined and m.controller_on(b) is not None:
            s.c_up[m.controller_on(b)] = False

    def _lose_process_state(m, s, b):
        if m.follows:
            s.b_ctrl[b] = None
        for p in m.partition:
            s.b_leader[b][p] = None
            s.b_epoch[b][p] = -1
            if m.logs:
                with when(s.produce_at[p] == b):
                    s.produce_at[p] = None
                    s.produce_offset[p] = 0

    @action("broker", where=lambda m, b: m.max_disk_losses > 0)
    def broker_disk_loss(m, s, broker):
        """The stopped broker's log disk is replaced by an empty one (KIP-903's case)."""
        b = broker
        require((s.state[b] == "NOT_RUNNING") & (s.disk_losses < m.max_disk_losses))
        s.disk_losses = s.disk_losses + 1
        s.clean[b] = False
        if m.logs:
            for p in m.partition:
                s.log[b][p].truncate(0)
                s.flushed[b][p] = 0

    @action("broker")
    def broker_register(m, s, broker):
        """``BrokerLifecycleManager``: the restarted broker sends BrokerRegistrationRequest
        with a new incarnation id; the active controller commits a RegisterBrokerRecord (a
        new broker epoch, fenced). With KIP-966 a broker whose previous stop was unclean
        leaves every ISR and ELR (``previousBrokerEpoch`` does not match)."""
        b = broker
        require((s.state[b] == "NOT_RUNNING") & (s.restarts < m.max_restarts))
        # an unexpired session of the old incarnation: DUPLICATE_BROKER_REGISTRATION
        require(s.fenced[b])
        require(m.some_active(s))
        s.restarts = s.restarts + 1
        s.state[b] = "STARTING"
        m.commit(s)
        s.registered[b] = True
        s.fenced[b] = True
        s.in_cs[b] = False
        s.bepoch[b] = s.bepoch[b] + 1
        if m.follows:
            for c in m.voter:
                with when(m.active(s.pre, c)):
                    s.b_ctrl[b] = c
        if m.fixed("KIP-966") and m.elr_on:
            with when(~s.clean[b]):
                m.remove_everywhere(s, b, from_elr=True)

    @action("broker", fair="weak")
    def broker_fetch_metadata(m, s, broker):
        """The broker fetches the metadata log from a controller holding the committed log
        and applies it (``BrokerMetadataPublisher``): STARTING brokers are now caught up
        (RECOVERY). A fetch from a stale leader brings nothing and is not a step."""
        b = broker
        require(any_of(m.voter, lambda c: m.fetches_from(s, b, c) & s.c_current[c]))
        require(m.is_up(s, b) | (s.state[b] == "STARTING") | (s.state[b] == "RECOVERY"))
        require(m.metadata_behind(s, b) | (s.state[b] == "STARTING"))
        for p in m.partition:
            s.b_leader[b][p] = s.leader[p]
            s.b_epoch[b][p] = s.leader_epoch[p]
        with when(s.state[b] == "STARTING"):
            s.state[b] = "RECOVERY"

    @action("broker", fair="weak")
    def broker_heartbeat_unfence(m, s, broker):
        """A caught-up broker's heartbeat: the controller commits a BrokerRegistrationChange
        unfencing it, and the broker is RUNNING. A running broker fenced while it heartbeated
        a stale leader is unfenced the same way once it is caught up
        (``BrokerHeartbeatManager.calculateNextBrokerState``)."""
        b = broker
        recovered = s.state[b] == "RECOVERY"
        if m.stale_sessions_expire:
            recovered = recovered | ((s.state[b] == "RUNNING") & s.fenced[b] &
                                     ~m.metadata_behind(s, b))
        require(recovered & m.reaches_active(s, b))
        m.commit(s)
        s.refenced = s.refenced | s.was_fenced[b]
        s.fenced[b] = False
        s.state[b] = "RUNNING"
        # the controller may now elect it where a partition has no leader
        for p in m.partition:
            if b in m.replicas[p]:
                with when(s.leader[p].is_none()):
                    m.change_partition(s, p, s.isr[p])

    @action("broker", fair="weak")
    def broker_session_expire(m, s, broker):
        """``broker.session.timeout.ms`` passes without a heartbeat reaching the active
        controller: it fences the broker (``handleBrokerFenced``), removing it from the ISRs
        and re-electing the partitions it led. The broker is down, or (see
        ``stale_heartbeats``) it heartbeats a stale leader."""
        b = broker
        require(s.registered[b] & ~s.fenced[b] &
                ((s.state[b] == "NOT_RUNNING") | m.stale_heartbeats(s, b)))
        require(m.some_active(s))
        m.commit(s)
        s.fenced[b] = True
        s.was_fenced[b] = True
        m.remove_everywhere(s, b)

    def stale_heartbeats(m, s, b):
        """A running broker whose heartbeats go to a cut-off leader that still takes itself
        for the leader (``RaftControllerNodeProvider`` names the leader the broker's
        observer knows). Before KAFKA-15489 that leader never resigns, so the active
        controller's session for the broker runs out. With check-quorum it resigns after
        1.5 × ``controller.quorum.fetch.timeout.ms`` and the broker finds the new leader
        before ``broker.session.timeout.ms`` passes, unless that timeout is the shorter."""
        if not m.stale_sessions_expire:
            return False
        return m.is_up(s, b) & any_of(m.voter, lambda c: (s.b_ctrl[b] == c) & s.c_up[c] &
                                      (s.c_role[c] == "LEADER") & ~m.active(s, c))

    @action("broker", "voter", where=lambda m, b, v: m.follows, tells="voter")
    def broker_find_controller(m, s, broker, voter):
        """The controller the broker follows fails its fetch (it crashed, resigned, or
        learned a newer epoch): the broker's observer asks the voters and follows the leader
        they name (``KafkaRaftClient`` as an observer, ``FetchResponse.currentLeader``)."""
        b, c = broker, voter
        require(m.is_up(s, b) | (s.state[b] == "STARTING") | (s.state[b] == "RECOVERY"))
        require(s.b_ctrl[b] != c)
        require(all_of(m.voter, lambda x: ~(m.fetches_from(s, b, x))))
        require(s.c_up[c] & (s.c_role[c] == "LEADER"))
        s.b_ctrl[b] = c

    @action("broker")
    def broker_want_shutdown(m, s, broker):
        """The operator stops the broker: heartbeats now carry ``wantShutDown``."""
        b = broker
        require((s.state[b] == "RUNNING") & (s.shutdowns < m.max_shutdowns))
        s.shutdowns = s.shutdowns + 1
        s.state[b] = "PENDING_CONTROLLED_SHUTDOWN"

    @action("broker", fair="weak")
    def controller_controlled_shutdown(m, s, broker):
        """The heartbeat with ``wantShutDown`` reaches the active controller: it commits the
        broker as in controlled shutdown (CONTROLLED_SHUTDOWN), moves its leaderships and
        takes it out of the ISRs (``handleBrokerInControlledShutdown``)."""
        b = broker
        require((s.state[b] == "PENDING_CONTROLLED_SHUTDOWN") & ~s.in_cs[b] & ~s.fenced[b])
        require(m.reaches_active(s, b))
        m.commit(s)
        s.in_cs[b] = True
        m.remove_everywhere(s, b)

    @action("broker", fair="weak")
    def broker_shutdown_now(m, s, broker):
        """The heartbeat answer is SHUTDOWN_NOW (the broker leads nothing in the image, or it
        is fenced already): it flushes its logs and exits; the controller fences it."""
        b = broker
        require((s.state[b] == "PENDING_CONTROLLED_SHUTDOWN") & (s.in_cs[b] | s.fenced[b]))
        require(all_of(m.partition, lambda p: s.leader[p] != b))
        require(m.reaches_active(s, b))
        m.commit(s)
        s.fenced[b] = True
        s.was_fenced[b] = True
        s.state[b] = "NOT_RUNNING"
        s.clean[b] = True
        s.cs_completed = True
        if m.logs:
            for p in m.partition:
                s.flushed[b][p] = s.log[b][p].length()
        m._lose_process_state(s, b)
        if m.combined and m.controller_on(b) is not None:
            s.c_up[m.controller_on(b)] = False

    # == partition leaders: ISR upkeep (AlterPartition) ======================================

    def _alter_ok(m, s, p, leader):
        return m.serves(s, p, leader) & m.reaches_active(s, leader)

    @action("partition", "broker", "broker",
            where=lambda m, p, r, b: r in m.replicas[p] and b in m.replicas[p] and r is not b, fair="weak",
            lane="leader")
    def leader_shrink_isr(m, s, partition, replica, leader):
        """``Partition.maybeShrinkIsr``: the leader drops a follower that lags or stopped
        fetching; the controller commits the PartitionChangeRecord (maybe growing the ELR)."""
        p, r = partition, replica
        require(m._alter_ok(s, p, leader) & s.isr[p].contains(r))
        if m.logs:
            require(~m.is_up(s, r) | (logs.match_len(s.log[r][p], s.log[leader][p],
                                                     m.max_writes) < s.log[leader][p].length()))
        else:
            require(~m.is_up(s, r))
        m.commit(s)
        m.change_partition(s, p, s.isr[p] - r)

    @action("partition", "broker", "broker",
            where=lambda m, p, r, b: m.logs and r in m.replicas[p] and b in m.replicas[p]
            and r is not b, fair="weak", lane="leader")
    def leader_expand_isr(m, s, partition, replica, leader):
        """``Partition.maybeExpandIsr``: a follower the leader saw caught up rejoins the ISR
        through AlterPartition. The controller checks the leader epoch; KIP-841: the replica
        is registered, unfenced and not shutting down; KIP-903: the broker epoch it fetched
        with is its current one."""
        p, r = partition, replica
        require(m._alter_ok(s, p, leader) & ~s.isr[p].contains(r))
        require((s.seen_epoch[p][r] > 0) & (s.seen_len[p][r] == s.log[leader][p].length()))
        if m.fixed("KIP-841"):
            require(s.registered[r] & ~s.fenced[r] & ~s.in_cs[r])
        if m.fixed("KIP-903"):
            require(s.seen_epoch[p][r] == s.bepoch[r])
        m.commit(s)
        m.change_partition(s, p, s.isr[p] | r)
        s.elr[p] = s.elr[p] - r

    # == data =================================================================================

    @action("partition", "broker", "broker",
            where=lambda m, p, r, b: m.logs and r in m.replicas[p] and b in m.replicas[p]
            and r is not b, fair="weak", lane="replica", tells="leader")
    def follower_fetch(m, s, partition, replica, leader):
        """``ReplicaFetcherThread``: the follower, running at the leader's epoch, fetches
        (with its broker epoch, KIP-903), truncates where it diverges and appends the next
        record; the leader notes whether it caught up and with which broker epoch."""
        p, f = partition, replica
        require(m.is_up(s, f) | (s.state[f] == "RECOVERY"))
        require((s.b_leader[f][p] == leader) & (s.b_epoch[f][p] == s.b_epoch[leader][p]))
        require(m.serves(s, p, leader))
        n = logs.match_len(s.log[f][p], s.log[leader][p], m.max_writes)
        llen = s.log[leader][p].length()
        require((s.log[f][p].length() > n) | (llen > n) | (s.seen_epoch[p][f] != s.bepoch[f]))
        s.flushed[f][p] = logs.fetch_step(s.log[f][p], s.log[leader][p], n, s.flushed[f][p])
        s.seen_len[p][f] = ite(llen > n, n + 1, n)
        s.seen_epoch[p][f] = s.bepoch[f]

    @action("partition", "broker", where=lambda m, p, b: m.logs and b in m.replicas[p],
            lane="client", tells="leader")
    def producer_append(m, s, partition, leader):
        """``Partition.appendRecordsToLeader``: acks=all is refused below min ISR."""
        p, L = partition, leader
        require((s.writes < m.max_writes) & s.produce_at[p].is_none() & m.serves(s, p, L))
        if m.acks == "all":
            require(s.isr[p].size() >= m.min_isr)
        log = s.log[L][p]
        offset = log.length()
        log.append(s.b_epoch[L][p])
        s.writes = s.writes + 1
        if m.acks == "all":
            s.produce_at[p] = L
            s.produce_offset[p] = offset
        else:
            logs.acknowledge(s.acked[p], s.log[L][p], offset + 1, m.max_writes)

    @action("partition", "broker", where=lambda m, p, b: m.logs and m.acks == "all" and
            b in m.replicas[p], fair="weak", lane="leader", tells="client")
    def leader_complete_produce(m, s, partition, leader):
        """``DelayedProduce`` completes: every ISR member has the record and the ISR has
        ``min.insync.replicas`` members."""
        p, L = partition, leader
        require((s.produce_at[p] == L) & m.serves(s, p, L))
        o = s.produce_offset[p]
        require(s.isr[p].size() >= m.min_isr)
        for r in m.replicas[p]:
            have = s.log[L][p].length() if r is L else \
                logs.match_len(s.log[r][p], s.log[L][p], m.max_writes)
            require(~s.isr[p].contains(r) | (have > o))
        logs.acknowledge(s.acked[p], s.log[L][p], o + 1, m.max_writes)
        s.produce_at[p] = None
        s.produce_offset[p] = 0

    @action("partition", "broker", where=lambda m, p, b: m.logs and m.acks == "all" and
            b in m.replicas[p], fair="weak", lane="leader", tells="client")
    def leader_fail_produce(m, s, partition, leader):
        """The DelayedProduce fails: the broker no longer leads (NOT_LEADER_OR_FOLLOWER)."""
        p, L = partition, leader
        require((s.produce_at[p] == L) & ~m.serves(s, p, L))
        s.produce_at[p] = None
        s.produce_offset[p] = 0

    @constraint
    def within_bounds(m, s):
        """Explore only while leader epochs are within ``max_leader_epoch``."""
        return all_of(m.partition, lambda p: s.leader_epoch[p] <= m.max_leader_epoch)
