"""zk-cluster: Apache Kafka 3.9 in ZooKeeper mode — brokers, the controller, ISR elections.

The protocol. Every broker registers an *ephemeral* znode ``/brokers/ids/<id>`` when it
starts; the znode lives exactly as long as the broker's ZooKeeper session, and its creation
zxid (czxid) is the broker's *epoch* (KIP-380). One broker is the *controller*: it won the
ephemeral ``/controller`` znode and, in the same ZooKeeper ``multi``, bumped
``/controller_epoch``. The controller watches ``/brokers/ids``; when the children change, a
``BrokerChange`` event enters its single-threaded event queue, and processing it compares
ZooKeeper's registrations with the controller's cached live set: new brokers get
LeaderAndIsr, dead (and, since KIP-380, *bounced*) brokers trigger ``onBrokerFailure``:
partitions they led are re-elected with ``offlinePartitionLeaderElection`` — the first replica
in assignment order that is live and in the ISR (or, with
``unclean.leader.election.enable``, any live replica) — and their replicas leave the ISR
(``OfflineReplica``; the last ISR member is kept). Each partition's state znode
``/brokers/topics/<t>/partitions/<p>/state`` holds (leader, leader_epoch, isr,
controller_epoch); every controller write to ZooKeeper carries a ``CheckOp`` on the
``/controller_epoch`` version (KAFKA-6082), so a deposed "zombie" controller cannot write.
The controller then sends LeaderAndIsr to the brokers, each separately: until its request
arrives a broker acts on what it last heard. Brokers apply a request only from a controller
epoch at least the newest they know, and only for a larger leader epoch.

Leaders keep the ISR: they drop followers that stopped fetching or lag (``maybeShrinkIsr``)
and re-admit caught-up ones (``maybeExpandIsr``), through AlterPartition to the controller.
A producer with ``acks=all`` is refused when the ISR is smaller than ``min.insync.replicas``
and acknowledged once every ISR member has the record (the high watermark passed it).

A *controlled shutdown* (C17): the broker goes to PENDING_CONTROLLED_SHUTDOWN and asks the
controller, which moves leadership of the partitions the broker leads
(``controlledShutdownPartitionLeaderElection``), removes it from the ISRs it follows, and
answers with the partitions it still leads; the broker retries up to
``controlled.shutdown.max.retries`` times and then shuts down anyway, flushing its logs.
A crash loses unflushed log data; its session lingers until ZooKeeper expires it.

Fairness, for liveness properties: what Kafka does on a timer or from a queue is weakly fair
(the controller processes its events, ZooKeeper expires a dead incarnation's session, requests
are delivered, a shutting-down broker retries and exits, leaders keep the ISR); crashes, the
loss of a live broker's session, the operator, producer and client owe nothing.

Abstracted away (each a deliberate choice, see docs/models/zk-cluster.md):
- ZooKeeper is a linearizable store with sessions: a write and the watch it fires are atomic;
  watches are one-shot, so changes made before the controller reads are coalesced.
- A controller event is one step: its ZooKeeper reads, the elections over all its partitions
  and their writes happen at once (batching, as in Kafka since 1.1). A write's zkVersion CAS
  then always succeeds, so partition zkVersions are not stored.
- Requests to a broker coalesce: the pending LeaderAndIsr/UpdateMetadata of a broker carries
  the newest sender epoch and, on arrival, the partition state then in ZooKeeper.
- AlterPartition is atomic (the leader's ISR change is validated and written in one step),
  and the leader's ISR is the one in ZooKeeper. Time is gone: "lagging for
  replica.lag.time.max.ms" is "may be dropped whenever it is behind".
- Logs hold leader epochs, one entry per record; a fetch truncates a follower to its common
  prefix with the leader (3.9's divergingEpoch truncation) and copies one record.
- One topic; one produce request in flight per partition; no reassignment, preferred-leader
  rebalance, topic deletion, log directories or racks.
"""

from __future__ import annotations

from kafkacheck.checker.lang import (TRUE, Bool, Domain, Enum, Int, Map, Maybe, Model, Or,
                                     Param, ParameterError, Seq, Set, action, all_of, any_of,
                                     choose, constraint, ite, maximum, require, set_of,
                                     when)

from . import replica_logs
from .zk_elections import (controlled_shutdown_partition_leader_election,
                           offline_partition_leader_election, remove_replica_from_isr)

BrokerState = Enum("BrokerState", "NOT_RUNNING", "STARTING", "RECOVERY", "RUNNING",
                   "PENDING_CONTROLLED_SHUTDOWN", "SHUTTING_DOWN")
"""``org.apache.kafka.metadata.BrokerState`` (values 4 and 5 are unused in Kafka)."""

ShutdownExchange = Enum("ShutdownExchange", "NONE", "REQUEST", "DONE", "RETRY")
"""Where a broker's ControlledShutdown request is: not sent, at the controller, answered with
no remaining partitions, failed (partitions remain, no controller, or an error)."""


# -- parameter parsing --------------------------------------------------------------------

def parse_broker_ids(text) -> tuple[int, ...]:
    """``3`` means ids 1..3; ``101,102,103`` lists the ids."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    text = str(text).strip()
    parts = [x.strip() for x in text.split(",") if x.strip()]
    if not parts:
        raise ValueError("give a broker count such as 3, or ids such as 101,102,103")
    try:
        nums = [int(x) for x in parts]
    except ValueError:
        raise ValueError(f"{text!r} is neither a count nor a list of integer ids") from None
    if len(nums) == 1:
        if not 1 <= nums[0] <= 6:
            raise ValueError(f"a broker count must be 1..6, not {nums[0]}")
        return tuple(range(1, nums[0] + 1))
    if len(set(nums)) != len(nums) or any(n < 0 for n in nums):
        raise ValueError(f"broker ids must be distinct non-negative integers: {text!r}")
    if len(nums) > 6:
        raise ValueError(f"at most 6 brokers are supported, not {len(nums)}")
    return tuple(nums)


def _normalize_brokers(text) -> str:
    return ",".join(map(str, parse_broker_ids(text))) if "," in str(text) else \
        str(len(parse_broker_ids(text)))


def parse_assignment(text) -> tuple[tuple[int, ...], ...]:
    """kafka-topics' ``--replica-assignment``: partitions by ``,``, replicas by ``:``."""
    text = str(text).strip()
    if not text:
        return ()
    out = []
    for part in text.split(","):
        try:
            reps = tuple(int(x) for x in part.split(":"))
        except ValueError:
            raise ValueError(f"bad replica assignment {text!r}: write e.g. 1:3 or "
                             "1:2:3,2:3:1 (partitions by ',', replicas by ':')") from None
        if len(set(reps)) != len(reps):
            raise ValueError(f"partition {len(out)} repeats a replica: {part!r}")
        out.append(reps)
    return tuple(out)


def _normalize_assignment(text) -> str:
    return ",".join(":".join(map(str, r)) for r in parse_assignment(text))


def parse_bootstrap(text) -> str:
    text = str(text).strip()
    if text in ("", "none", "all"):
        return "" if text == "none" else text
    try:
        ids = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"bootstrap.servers takes broker ids such as 1 or 1,2,3, or 'all'; "
                         f"not {text!r}") from None
    return ",".join(map(str, ids))


def assign_replicas(ids, partitions, rf):
    """``AdminUtils.assignReplicasToBrokers`` (rack-unaware) with its random start index and
    shift fixed at 0: partition p's first replica is broker p mod N, the others follow it at
    a shift that grows each time the partitions wrap around the brokers."""
    n = len(ids)
    out = []
    shift = 0
    for p in range(partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = p % n
        reps = [ids[first]]
        for j in range(rf - 1):
            reps.append(ids[(first + 1 + (shift + j) % (n - 1)) % n] if n > 1 else ids[first])
        out.append(tuple(reps))
    return tuple(out)


def _dead_session(s, b):
    """The broker's ZooKeeper session belongs to a dead incarnation: it no longer
    heartbeats, so ZooKeeper expires it after ``zookeeper.session.timeout.ms`` (a timer,
    fair); expiring a live broker's session is a fault (not owed)."""
    return (s.state[b] == "NOT_RUNNING") | (s.state[b] == "STARTING") | \
        (s.state[b] == "RECOVERY")


def _pair(m, p, replica, leader) -> bool:
    """Static filter: two distinct replicas of partition ``p``."""
    return replica in m.replica_set[p] and leader in m.replica_set[p] and replica is not leader


class ZkCluster(Model):
    """Kafka 3.9 in ZooKeeper mode: broker lifecycle, ZooKeeper sessions, controller election
    and epochs, ISR elections, LeaderAndIsr propagation, controlled shutdown, ISR upkeep and,
    optionally, an acks producer over replica logs and a client's bootstrap metadata."""

    name = "zk-cluster"

    fixes = {
        "KAFKA-6082": "every controller write to ZooKeeper carries a CheckOp on the "
                      "/controller_epoch version, fencing zombie controllers (2.1.0)",
        "KIP-380": "the broker epoch (the czxid of /brokers/ids/<id>) lets the controller "
                   "see a broker that restarted between two watch events (2.2.0)",
        "KAFKA-14140": "the controller refuses an AlterPartition that adds a replica which is "
                       "not live or is shutting down (INELIGIBLE_REPLICA, 3.3.2 / 3.4.0)",
        "KAFKA-9189": "a broker in controlled shutdown finds the controller in its metadata "
                      "cache, not in ZooKeeper, so it cannot hang when ZooKeeper is "
                      "unreachable (3.0.0)",
    }
    bugs = {
        # KAFKA-2729 ("Cached zkVersion [v] not equal to that in zookeeper, skip updating
        # ISR"): the leader's ISR update is refused forever because a controller wrote the
        # partition state and the LeaderAndIsr carrying the new version never reached the
        # leader. In this model the only such write is a zombie controller's (its request
        # is refused for its stale controller epoch); AlterPartition (KIP-497, modeled here)
        # fails the same way on the stale leader epoch. The fence ended it.
        "KAFKA-2729": (("KAFKA-6082",), "a leader's ISR change fails forever on a partition "
                       "state it never heard of, written by a zombie controller"),
    }

    # -- cluster shape ---------------------------------------------------------------------
    brokers = Param("3", parse=_normalize_brokers,
                    doc="broker count N (ids 1..N) or explicit ids such as 101,102,103")
    partitions = Param(1, lo=1, hi=6, doc="partitions of the one topic (ids 0..P-1)")
    replication_factor = Param(3, key="replication.factor", lo=1, hi=6,
                               doc="replicas per partition (ignored with replica.assignment)")
    replica_assignment = Param("", key="replica.assignment", parse=_normalize_assignment,
                               doc="explicit replicas, kafka-topics style: 1:3 or 1:2:3,2:3:1;"
                                   " empty: AdminUtils' round-robin assignment")
    controller_id = Param(0, key="controller", lo=0,
                          doc="the broker that is controller in the initial state "
                              "(0: the last broker)")
    # -- Kafka configuration ---------------------------------------------------------------
    min_insync_replicas = Param(2, key="min.insync.replicas", lo=1, hi=6,
                                doc="ISR size an acks=all write needs (effective: at most RF)")
    unclean_leader_election_enable = Param(False, key="unclean.leader.election.enable",
                                           doc="elect a live non-ISR replica when no ISR "
                                               "member is live")
    controlled_shutdown_enable = Param(True, key="controlled.shutdown.enable",
                                       doc="brokers move leadership away before stopping")
    controlled_shutdown_max_retries = Param(3, key="controlled.shutdown.max.retries", lo=1,
                                            hi=5, doc="ControlledShutdown attempts before "
                                                      "an unclean shutdown")
    acks = Param("all", choices=("all", "1", "0"), doc="the producer's acks")
    bootstrap_servers = Param("", key="bootstrap.servers", parse=parse_bootstrap,
                              doc="broker ids the client starts from, or 'all'; empty: no "
                                  "client metadata is modeled")
    crash_loses_unflushed = Param(True, key="crash_loses_unflushed",
                                  doc="a crash loses log data not yet flushed to disk "
                                      "(a power loss; false: a process kill)")
    slow_followers = Param(True, key="slow_followers",
                           doc="a live follower may fall out of the ISR (it stopped fetching "
                               "or lags past replica.lag.time.max.ms); false: only followers "
                               "whose broker is down are dropped")
    operator = Param("free", choices=("free", "one_at_a_time", "waits_for_isr",
                                      "waits_for_controller"),
                     doc="when the operator may stop a broker: any time; only when every "
                         "other broker is RUNNING (a rolling restart); and, in addition, "
                         "only when no partition is under-replicated; and, in addition, "
                         "only when a running controller is active with nothing queued and "
                         "no LeaderAndIsr in flight (the cluster has settled)")
    # -- bounds ------------------------------------------------------------------------------
    max_crashes = Param(1, lo=0, hi=4, doc="broker crashes and ZooKeeper session losses of "
                                           "running brokers")
    max_shutdowns = Param(1, lo=0, hi=4, doc="operator-initiated broker shutdowns")
    max_writes = Param(0, lo=0, hi=3, doc="records produced in all (0: no producer, no logs)")
    max_controller_epoch = Param(3, lo=1, hi=8, doc="bound on /controller_epoch")
    max_leader_epoch = Param(4, lo=1, hi=12, doc="bound on every partition's leader epoch "
                                                 "(a state constraint)")

    # -- derived constants -------------------------------------------------------------------
    def setup(m):
        ids = parse_broker_ids(m.brokers)
        m.broker = Domain("broker", ids=ids)
        given = parse_assignment(m.replica_assignment)
        if given:
            unknown = sorted({r for reps in given for r in reps} - set(ids))
            if unknown:
                raise ParameterError(f"replica.assignment names broker {unknown[0]}, which is "
                                     f"not among brokers {','.join(map(str, ids))}")
            if len(given) != m.partitions:
                # the assignment defines the partitions, within the same range
                try:
                    type(m).partitions.validate(len(given))
                except ParameterError:
                    p = type(m).partitions
                    raise ParameterError(f"replica.assignment gives {len(given)} partitions; "
                                         f"partitions must be {p.lo}..{p.hi}") from None
                m.partitions = len(given)
            assignment = given
        else:
            if m.replication_factor > len(ids):
                raise ParameterError(f"replication.factor={m.replication_factor} exceeds the "
                                     f"{len(ids)} brokers")
            assignment = assign_replicas(ids, m.partitions, m.replication_factor)
        m.assignment_ids = assignment
        m.partition = Domain("partition", size=len(assignment))
        m.replicas = {p: [m.broker.of(r) for r in reps]
                      for p, reps in zip(m.partition, assignment)}
        m.replica_set = {p: set(m.replicas[p]) for p in m.partition}
        cid = m.controller_id or ids[-1]
        if cid not in ids:
            raise ParameterError(f"controller={cid} is not a broker id "
                                 f"({','.join(map(str, ids))})")
        m.first_controller = m.broker.of(cid)
        m.logs = m.max_writes > 0
        m.client = m.bootstrap_servers != ""
        if m.client:
            boot = ids if m.bootstrap_servers == "all" else \
                tuple(int(x) for x in m.bootstrap_servers.split(","))
            bad = [b for b in boot if b not in ids]
            if bad:
                raise ParameterError(f"bootstrap.servers names broker {bad[0]}, which is not "
                                     f"among brokers {','.join(map(str, ids))}")
            m.bootstrap = {m.broker.of(b) for b in boot}
        m.max_incarnation = 1 + m.max_crashes + m.max_shutdowns
        # action parameter pools

    def min_isr(m, p) -> int:
        """``Partition.effectiveMinIsr``: min(min.insync.replicas, replica count)."""
        return min(m.min_insync_replicas, len(m.replicas[p]))

    # -- state ---------------------------------------------------------------------------------
    def variables(m):
        B, P = m.broker, m.partition
        E, CE = m.max_leader_epoch, m.max_controller_epoch
        v = {
            # == per broker: the process ==
            "state": Map(B, BrokerState),              # KafkaServer.brokerState
            "known_ctrl_epoch": Map(B, Int(0, CE)),    # newest controller epoch it accepted
            "view_leader": Map(B, Map(P, Maybe(B))),   # leader in the last LeaderAndIsr applied
            "view_epoch": Map(B, Map(P, Int(-1, E + 2))),  # its leader epoch (-1: none yet)
            "cs_exchange": Map(B, ShutdownExchange),   # its ControlledShutdown request/reply
            "cs_attempts": Map(B, Int(0, m.controlled_shutdown_max_retries)),
            # == ZooKeeper ==
            "registered": Map(B, Bool),                # /brokers/ids/<b> (its session) exists
            "broker_epoch": Map(B, Int(0, m.max_incarnation)),  # its czxid, as a counter
            "controller": Maybe(B),                    # /controller; none: no znode
            "controller_epoch": Int(0, CE),            # /controller_epoch (= its zkVersion)
            "leader": Map(P, Maybe(B)),                # partition state znode: leader
            "leader_epoch": Map(P, Int(0, E + 2)),     # ... leader_epoch (bounded by a constraint)
            "isr": Map(P, Set(B)),                     # ... isr
            "written_by": Map(P, Int(0, CE)),          # ... controller_epoch of its writer
            # == per broker: its controller module (KafkaController, ControllerContext) ==
            "ctrl_epoch": Map(B, Int(0, CE)),          # controllerContext.epoch; 0: not active
            "ctx_live": Map(B, Set(B)),                # liveOrShuttingDownBrokerIds
            "ctx_shutting": Map(B, Set(B)),            # shuttingDownBrokerIds
            "change_queued": Map(B, Bool),             # a BrokerChange event in its queue
            # == controller -> broker channel ==
            "inflight": Map(B, Int(0, CE)),            # pending LeaderAndIsr: sender epoch, 0 none
            # == fault budget ==
            "crashes": Int(0, m.max_crashes),
            "shutdowns": Int(0, m.max_shutdowns),
            # == proof-only ghosts ==
            "cs_completed": Bool,            # ghost: a broker exited after a controlled shutdown
        }
        if m.fixed("KIP-380"):
            # the controller's cached broker epochs (liveBrokerEpochs); only KIP-380 has them
            v["ctx_broker_epoch"] = Map(B, Map(B, Int(0, m.max_incarnation)))
        if m.logs:
            W = m.max_writes
            v.update({
                # == per replica: the log ==
                "log": Map(B, Map(P, Seq(Int(0, E + 2), W))),  # leader epoch of each record
                "flushed": Map(B, Map(P, Int(0, W))),           # records safe on disk
                # == the producer ==
                "writes": Int(0, W),                            # records produced so far
                "produce_at": Map(P, Maybe(B)),                 # broker holding a DelayedProduce
                "produce_offset": Map(P, Int(0, W - 1)),        # ... for this offset
                "acked": Map(P, Seq(Int(0, E + 2), W)),         # ghost: acknowledged log prefix
            })
        if m.client:
            v.update({
                # == the client (a producer's metadata) ==
                "client_known": Set(B),                   # brokers it can ask for metadata
                "client_leader": Map(P, Maybe(B)),         # its cached partition leaders
                "md_leader": Map(B, Map(P, Maybe(B))),     # each broker's metadata cache
            })
        return v

    def init(m, s):
        """A running cluster: every broker RUNNING and registered, ``controller`` elected at
        epoch 1 and every partition led by its preferred replica with a full ISR, known to all
        its replicas (the state right after a clean start)."""
        c = m.first_controller
        for b in m.broker:
            s.state[b] = "RUNNING"
            s.registered[b] = True
            s.broker_epoch[b] = 1
            s.known_ctrl_epoch[b] = 1
            s.cs_exchange[b] = "NONE"
            for p in m.partition:
                if b in m.replica_set[p]:
                    s.view_leader[b][p] = m.replicas[p][0]
                    s.view_epoch[b][p] = 0
                else:
                    s.view_leader[b][p] = None
                    s.view_epoch[b][p] = -1
        s.controller = c
        s.controller_epoch = 1
        s.ctrl_epoch[c] = 1
        s.ctx_live[c] = set(m.broker)
        if m.fixed("KIP-380"):
            for b in m.broker:
                s.ctx_broker_epoch[c][b] = 1
        for p in m.partition:
            s.leader[p] = m.replicas[p][0]
            s.isr[p] = m.replica_set[p]
            s.leader_epoch[p] = 0
            s.written_by[p] = 1
        if m.logs:
            for p in m.partition:
                s.produce_at[p] = None
        if m.client:
            s.client_known = m.bootstrap
            for p in m.partition:
                s.client_leader[p] = None
                for b in m.broker:
                    s.md_leader[b][p] = m.replicas[p][0]

    # -- helpers (expressions over the state) -----------------------------------------------
    def is_up(m, s, b):
        """The broker process runs and serves requests."""
        return (s.state[b] == "RUNNING") | (s.state[b] == "PENDING_CONTROLLED_SHUTDOWN")

    def serves(m, s, p, b):
        """Broker ``b`` serves partition ``p`` as its leader: it is up, its last LeaderAndIsr
        made it leader, and ZooKeeper agrees."""
        return m.is_up(s, b) & (s.view_leader[b][p] == b) & (s.leader[p] == b)

    def served(m, s, p):
        return any_of(m.broker, lambda b: m.serves(s, p, b))

    def active(m, s, c):
        """``c`` is the controller ZooKeeper knows, and knows it."""
        return (s.controller == c) & (s.ctrl_epoch[c] == s.controller_epoch) & \
            (s.ctrl_epoch[c] > 0)

    def match_len(m, s, a, b, p):
        """Length of the common prefix of two replicas' logs (records equal by epoch)."""
        return replica_logs.match_len(s.log[a][p], s.log[b][p], m.max_writes)

    def _watchers_fire(m, s, except_broker=None):
        """ZooKeeper fires the one-shot /brokers/ids child watch: every controller whose
        session is alive gets a BrokerChange event in its queue."""
        for c in m.broker:
            if c is except_broker:
                continue
            with when((s.ctrl_epoch[c] > 0) & s.registered[c]):
                s.change_queued[c] = True

    def _forget_controller_role(m, s, c):
        """``onControllerResignation`` (or the process is gone): drop the context."""
        s.ctrl_epoch[c] = 0
        s.ctx_live[c] = set()
        s.ctx_shutting[c] = set()
        s.change_queued[c] = False
        if m.fixed("KIP-380"):
            for b in m.broker:
                s.ctx_broker_epoch[c][b] = 0

    def _lose_process_state(m, s, b):
        """Everything a broker keeps in memory is gone when its process ends."""
        s.known_ctrl_epoch[b] = 0
        s.inflight[b] = 0
        s.cs_exchange[b] = "NONE"
        s.cs_attempts[b] = 0
        for p in m.partition:
            s.view_leader[b][p] = None
            s.view_epoch[b][p] = -1
            if m.logs:
                with when(s.produce_at[p] == b):
                    s.produce_at[p] = None
                    s.produce_offset[p] = 0
        m._forget_controller_role(s, b)

    def _zk_write_partition(m, s, c, p, cond, leader, isr):
        """Controller ``c`` writes partition ``p``'s state znode (a new leader epoch) where
        ``cond`` holds, as ``KafkaZkClient.updateLeaderAndIsr`` does. Returns the condition
        under which the write was attempted.

        ``ZkPartitionStateMachine.doElectLeaderForPartitions`` first re-reads the znode and
        gives up if a newer controller wrote it (the read-then-write "soft" check). The real
        fence (KAFKA-6082) is the CheckOp on /controller_epoch, applied by the caller."""
        attempt = cond & (s.written_by[p] <= s.ctrl_epoch[c])
        commit = attempt
        if m.fixed("KAFKA-6082"):
            commit = attempt & (s.ctrl_epoch[c] == s.controller_epoch)
        with when(commit):
            if leader is not None:
                s.leader[p] = leader
            s.isr[p] = isr
            s.leader_epoch[p] = s.leader_epoch[p] + 1
            s.written_by[p] = s.ctrl_epoch[c]
        return attempt

    def _trigger_online(m, s, c, online, gate):
        """``triggerOnlinePartitionStateChange``: every partition whose leader is not online
        moves to OnlinePartition with ``OfflinePartitionLeaderElectionStrategy``; a failed
        election leaves it offline (no write)."""
        attempts = []
        for p in m.partition:
            old = s.leader[p]
            offline = old.is_none() | ~online.contains(old)
            leader, isr = offline_partition_leader_election(
                m.replicas[p], s.isr[p], online, m.unclean_leader_election_enable)
            attempts.append(m._zk_write_partition(s, c, p, gate & offline & leader.is_some(),
                                                   leader, isr))
        return attempts

    def _offline_replicas(m, s, c, failed, gate):
        """``ReplicaStateMachine`` → OfflineReplica for every replica on a failed broker:
        it leaves the ISR (unless it is the last member) and, if it is still the leader (its
        election failed), the partition loses its leader. One write per broker, in id order."""
        attempts = []
        for r in m.broker:
            for p in m.partition:
                if r not in m.replica_set[p]:
                    continue
                leader, isr = remove_replica_from_isr(s.isr[p], s.leader[p], r)
                attempts.append(m._zk_write_partition(
                    s, c, p, gate & failed.contains(r) & s.isr[p].contains(r), leader, isr))
        return attempts

    def _finish_event(m, s, c, attempts, targets):
        """End a controller event: send LeaderAndIsr/UpdateMetadata to ``targets`` and, if
        any partition state was written, to every live broker. With KAFKA-6082, an event
        whose writes failed the /controller_epoch CheckOp ends in ``ControllerMovedException``
        instead: nothing is sent and the controller resigns (``maybeResign``)."""
        wrote = Or(*attempts)
        live = s.ctx_live[c]
        sender = s.ctrl_epoch[c]
        send = ite(wrote, live | targets, targets)
        proceed = TRUE
        if m.fixed("KAFKA-6082"):
            aborted = wrote & (s.ctrl_epoch[c] != s.controller_epoch)
            proceed = ~aborted
            with when(aborted):
                m._forget_controller_role(s, c)
        with when(proceed):
            for b in m.broker:
                with when(send.contains(b)):
                    # Each controller has its own channel to a broker; coalescing them into
                    # one pending request keeps the newest sender, so a zombie's request
                    # never hides the active controller's.
                    s.inflight[b] = maximum(s.inflight[b], sender)

    def _load_context(m, s, c):
        """``onControllerFailover``: read the registrations, drop stale queued events."""
        s.ctx_live[c] = set_of(m.broker, lambda b: s.registered[b])
        s.ctx_shutting[c] = set()
        s.change_queued[c] = False
        if m.fixed("KIP-380"):
            for b in m.broker:
                s.ctx_broker_epoch[c][b] = ite(s.registered[b], s.broker_epoch[b], 0)

    # == broker lifecycle =====================================================================

    @action("broker")
    def broker_crash(m, s, broker):
        """The broker process dies (kill -9, power loss); its ZooKeeper session lingers until
        it expires (``zookeeper.session.timeout.ms``). With ``crash_loses_unflushed`` only a
        prefix of each log survives: at least what was flushed, at most all of it — which
        prefix the OS had written back is the nondeterministic choice ``kept``."""
        b = broker
        require(s.state[b] != "NOT_RUNNING")
        require(s.crashes < m.max_crashes)
        s.crashes = s.crashes + 1
        s.state[b] = "NOT_RUNNING"
        m._lose_process_state(s, b)
        if m.logs and m.crash_loses_unflushed:
            for p in m.partition:
                if b not in m.replica_set[p]:
                    continue
                name = "kept" if len(m.partition) == 1 else f"kept{p.value}"
                kept = choose(list(range(m.max_writes + 1)), name=name)
                require((kept >= s.flushed[b][p]) & (kept <= s.log[b][p].length()))
                s.log[b][p].truncate(kept)
                s.flushed[b][p] = kept

    @action("broker", fair="weak", fair_when=lambda m, s, b: _dead_session(s, b),
            lane="ZooKeeper", tells="broker")
    def broker_session_expire(m, s, broker):
        """ZooKeeper expires the broker's session and deletes its ephemeral znodes
        (``/brokers/ids/<id>``, and ``/controller`` if it holds it): the session of a dead
        incarnation, or — a fault — that of a running broker cut off from ZooKeeper or
        stalled in a GC pause longer than the session timeout (the zombie of KAFKA-6082)."""
        b = broker
        require(s.registered[b])
        dead_session = _dead_session(s, b)
        require(dead_session | (s.crashes < m.max_crashes))
        with when(~dead_session):
            s.crashes = s.crashes + 1
        s.registered[b] = False
        with when(s.controller == b):
            s.controller = None
        m._watchers_fire(s, except_broker=b)

    @action("broker")
    def broker_start(m, s, broker):
        """``KafkaServer.startup``: a stopped broker starts (STARTING) and opens a new
        ZooKeeper session."""
        require(s.state[broker] == "NOT_RUNNING")
        s.state[broker] = "STARTING"

    @action("broker", fair="weak")
    def broker_recover_logs(m, s, broker):
        """``LogManager.startup`` → ``loadLogs``: log recovery (RECOVERY). Unflushed data was
        already lost in the crash; after a clean shutdown there is nothing to recover (C20)."""
        require(s.state[broker] == "STARTING")
        s.state[broker] = "RECOVERY"

    @action("broker", fair="weak", fair_when=lambda m, s, b: s.state[b] == "RECOVERY",
            tells="ZooKeeper")
    def broker_register(m, s, broker):
        """``KafkaZkClient.registerBroker``: create ``/brokers/ids/<id>`` (a new czxid, the
        broker epoch) — at the end of startup (RECOVERY → RUNNING), or after a running
        broker's session expired (``RegisterBrokerAndReelect``). It fails while the previous
        session's znode still exists. Fair at startup; a running broker cut off from
        ZooKeeper re-registers only once the network heals, which is not owed."""
        b = broker
        require(~s.registered[b])
        starting = s.state[b] == "RECOVERY"
        require(starting | ((m.is_up(s, b)) & (s.ctrl_epoch[b] == 0)))
        require(s.broker_epoch[b] < m.max_incarnation)
        s.registered[b] = True
        s.broker_epoch[b] = s.broker_epoch[b] + 1
        with when(starting):
            s.state[b] = "RUNNING"
        m._watchers_fire(s)

    @action("broker", fair="weak")
    def broker_receive_leader_and_isr(m, s, broker):
        """``ReplicaManager.becomeLeaderOrFollower`` (+ UpdateMetadata): the broker applies
        the controller's pending request — rejected whole if its controller epoch is older
        than one already seen (STALE_CONTROLLER_EPOCH); per partition only a larger leader
        epoch is applied."""
        b = broker
        require(s.inflight[b] > 0)
        require(m.is_up(s, b))
        sender = s.inflight[b]
        fresh = sender >= s.known_ctrl_epoch[b]
        s.inflight[b] = 0
        with when(fresh):
            s.known_ctrl_epoch[b] = sender
            for p in m.partition:
                if m.client:
                    s.md_leader[b][p] = s.leader[p]
                if b not in m.replica_set[p]:
                    continue
                with when(s.leader_epoch[p] > s.view_epoch[b][p]):
                    s.view_leader[b][p] = s.leader[p]
                    s.view_epoch[b][p] = s.leader_epoch[p]

    # == the controller =======================================================================

    @action("broker", fair="weak", tells="ZooKeeper")
    def controller_elect(m, s, broker):
        """``KafkaController.elect`` → ``registerControllerAndIncrementControllerEpoch``: with
        no ``/controller`` znode, a running registered broker creates it and bumps
        ``/controller_epoch`` in one ZooKeeper multi, then ``onControllerFailover``: loads the
        live brokers, elects leaders for partitions whose leader is offline
        (``partitionStateMachine.startup``) and sends UpdateMetadata/LeaderAndIsr to all."""
        b = broker
        require(s.controller.is_none())
        require(m.is_up(s, b) & s.registered[b] & (s.ctrl_epoch[b] == 0))
        require(s.controller_epoch < m.max_controller_epoch)
        epoch = s.controller_epoch + 1
        s.controller = b
        s.controller_epoch = epoch
        s.ctrl_epoch[b] = epoch
        m._load_context(s, b)
        attempts = m._trigger_online(s, b, s.ctx_live[b], TRUE)
        m._finish_event(s, b, attempts, s.ctx_live[b])

    @action("broker", fair="weak", tells="ZooKeeper")
    def controller_process_broker_change(m, s, broker):
        """``KafkaController.processBrokerChange``: the controller reads ``/brokers/ids`` and
        compares it with its context — new brokers (``onBrokerStartup``), bounced brokers
        whose czxid grew (KIP-380: ``onBrokerFailure`` then ``onBrokerStartup``), dead brokers
        (``onBrokerFailure``: re-elect their partitions, OfflineReplica). A zombie controller
        (session expired, ``Expire`` not yet processed) can run it too."""
        c = broker
        require(s.ctrl_epoch[c] > 0)
        require(s.change_queued[c])
        s.change_queued[c] = False
        old = s.ctx_live[c]
        cur = set_of(m.broker, lambda b: s.registered[b])
        new = cur - old
        dead = old - cur
        if m.fixed("KIP-380"):
            bounced = set_of(m.broker, lambda b: cur.contains(b) & old.contains(b) &
                             (s.broker_epoch[b] != s.ctx_broker_epoch[c][b]))
            for b in m.broker:
                s.ctx_broker_epoch[c][b] = ite(cur.contains(b), s.broker_epoch[b], 0)
        else:
            bounced = set_of(m.broker, lambda b: False)
        shutting = s.ctx_shutting[c] - dead - bounced
        s.ctx_shutting[c] = shutting
        attempts = []
        live = old | new                                   # addLiveBrokers(new)
        attempts += m._trigger_online(s, c, live - shutting, ~new.is_empty())
        live = live - bounced                              # removeLiveBrokers(bounced)
        attempts += m._trigger_online(s, c, live - shutting, ~bounced.is_empty())
        attempts += m._offline_replicas(s, c, bounced, ~bounced.is_empty())
        live = live | bounced                              # addLiveBrokers(bounced)
        attempts += m._trigger_online(s, c, live - shutting, ~bounced.is_empty())
        live = live - dead                                 # removeLiveBrokers(dead)
        attempts += m._trigger_online(s, c, live - shutting, ~dead.is_empty())
        attempts += m._offline_replicas(s, c, dead, ~dead.is_empty())
        s.ctx_live[c] = live
        m._finish_event(s, c, attempts, new | bounced)

    @action("broker", fair="weak")
    def controller_resign(m, s, broker):
        """``onControllerResignation``: a controller processes ``Expire`` (its session is
        gone; ``clearAndPut`` drops its queued events) or ``ControllerChange`` (``/controller``
        names another broker), and stops acting as controller."""
        c = broker
        require(s.ctrl_epoch[c] > 0)
        require(~s.registered[c] | (s.controller != c) |
                (s.controller_epoch != s.ctrl_epoch[c]))
        m._forget_controller_role(s, c)

    @action("broker", "broker", fair="weak", lane="controller", tells="broker")
    def controller_controlled_shutdown(m, s, controller, broker):
        """``KafkaController.doControlledShutdown``: the controller adds the broker to
        ``shuttingDownBrokerIds``, moves leadership of every partition it leads (RF > 1) with
        ``controlledShutdownPartitionLeaderElection``, takes it out of the ISRs it follows
        (OfflineReplica), sends LeaderAndIsr, and answers with the partitions it still leads
        (``remainingPartitions``: those whose only live ISR member it is)."""
        c, b = controller, broker
        require(s.controller == c)
        require(s.ctrl_epoch[c] > 0)
        require(s.cs_exchange[b] == "REQUEST")
        known = s.ctx_live[c].contains(b)          # else BrokerNotAvailableException
        shutting = ite(known, s.ctx_shutting[c] | b, s.ctx_shutting[c])
        s.ctx_shutting[c] = shutting
        acted = [p for p in m.partition if b in m.replica_set[p] and len(m.replicas[p]) > 1]
        led = {p: s.leader[p] == b for p in acted}
        attempts = []
        for p in acted:
            leader, isr = controlled_shutdown_partition_leader_election(
                m.replicas[p], s.isr[p], s.ctx_live[c], shutting)
            attempts.append(m._zk_write_partition(s, c, p, known & led[p] & leader.is_some(),
                                                   leader, isr))
        for p in acted:
            leader, isr = remove_replica_from_isr(s.isr[p], s.leader[p], b)
            attempts.append(m._zk_write_partition(s, c, p, known & ~led[p] &
                                                   s.isr[p].contains(b), leader, isr))
        remaining = Or(*(s.leader[p] == b for p in acted))
        s.cs_exchange[b] = ite(known & ~remaining, ShutdownExchange.DONE, ShutdownExchange.RETRY)
        m._finish_event(s, c, attempts, set_of(m.broker, lambda x: False))

    # == controlled shutdown, broker side =====================================================

    @action("broker")
    def broker_stop(m, s, broker):
        """The operator stops the broker (SIGTERM, ``KafkaServer.shutdown``): with
        ``controlled.shutdown.enable`` it enters PENDING_CONTROLLED_SHUTDOWN
        (``controlledShutdown()``), otherwise it goes straight to SHUTTING_DOWN."""
        b = broker
        require(s.state[b] == "RUNNING")
        require(s.shutdowns < m.max_shutdowns)
        if m.operator != "free":
            require(all_of(m.broker, lambda x: (x == b) | (s.state[x] == "RUNNING")))
        if m.operator in ("waits_for_isr", "waits_for_controller"):
            require(all_of(m.partition, lambda p: s.isr[p].size() == len(m.replicas[p])))
        if m.operator == "waits_for_controller":
            require(any_of(m.broker, lambda c: m.active(s, c) & (s.state[c] == "RUNNING") &
                           ~s.change_queued[c]))
            require(all_of(m.broker, lambda x: s.inflight[x] == 0))
        s.shutdowns = s.shutdowns + 1
        s.state[b] = "PENDING_CONTROLLED_SHUTDOWN" if m.controlled_shutdown_enable \
            else "SHUTTING_DOWN"
        s.cs_attempts[b] = 0
        s.cs_exchange[b] = "NONE"

    @action("broker", fair="weak")
    def broker_send_controlled_shutdown(m, s, broker):
        """``KafkaServer.controlledShutdown``, one attempt: send ``ControlledShutdownRequest``
        to the controller (found in the metadata cache since KAFKA-9189); with no controller
        the attempt fails at once. Before KAFKA-9189 the broker reads ``/controller`` from
        ZooKeeper, which blocks while the broker cannot reach ZooKeeper (its session is
        gone): the shutdown waits until the connection is back."""
        b = broker
        require(s.state[b] == "PENDING_CONTROLLED_SHUTDOWN")
        require(s.cs_exchange[b] == "NONE")
        if not m.fixed("KAFKA-9189"):
            require(s.registered[b])
        s.cs_exchange[b] = ite(s.controller.is_some(), ShutdownExchange.REQUEST, ShutdownExchange.RETRY)

    @action("broker", fair="weak")
    def broker_receive_controlled_shutdown_response(m, s, broker):
        """The broker reads the answer: no remaining partitions → SHUTTING_DOWN; otherwise it
        retries after ``controlled.shutdown.retry.backoff.ms``, and after
        ``controlled.shutdown.max.retries`` failed attempts "proceeds to do an unclean
        shutdown" (SHUTTING_DOWN anyway)."""
        b = broker
        require(s.state[b] == "PENDING_CONTROLLED_SHUTDOWN")
        done = s.cs_exchange[b] == "DONE"
        require(done | (s.cs_exchange[b] == "RETRY"))
        tried = s.cs_attempts[b] + 1
        give_up = tried >= m.controlled_shutdown_max_retries
        with when(done | give_up):
            s.state[b] = "SHUTTING_DOWN"
        with when(~done & ~give_up):
            s.cs_attempts[b] = tried
            s.cs_exchange[b] = "NONE"

    @action("broker", fair="weak")
    def broker_exit(m, s, broker):
        """The end of ``KafkaServer.shutdown``: ``LogManager.shutdown`` flushes every log
        (C20), the ZooKeeper session is closed (its ephemeral znodes vanish at once), the
        process exits (NOT_RUNNING)."""
        b = broker
        require(s.state[b] == "SHUTTING_DOWN")
        s.cs_completed = s.cs_completed | (s.cs_exchange[b] == "DONE")
        if m.logs:
            for p in m.partition:
                s.flushed[b][p] = s.log[b][p].length()
        with when(s.registered[b]):
            m._watchers_fire(s, except_broker=b)
        s.registered[b] = False
        with when(s.controller == b):
            s.controller = None
        s.state[b] = "NOT_RUNNING"
        m._lose_process_state(s, b)

    # == partition leaders: ISR upkeep ========================================================

    def _isr_change_ok(m, s, p, leader):
        """AlterPartition from ``leader`` is accepted: it leads at the current leader epoch
        and an active, running controller receives it (``tryProcessAlterPartition``)."""
        return (s.leader[p] == leader) & m.serves(s, p, leader) & \
            (s.view_epoch[leader][p] == s.leader_epoch[p]) & \
            any_of(m.broker, lambda c: m.active(s, c) & m.is_up(s, c))

    def _fetching(m, s, p, r, leader):
        """Replica ``r`` fetches ``p`` from ``leader`` at the leader's epoch (KIP-320)."""
        return m.is_up(s, r) & (s.view_leader[r][p] == leader) & \
            (s.view_epoch[r][p] == s.view_epoch[leader][p])

    @action("partition", "broker", "broker", where=lambda m, p, r, b: _pair(m, p, r, b),
            fair="weak", lane="leader", tells="ZooKeeper")
    def leader_shrink_isr(m, s, partition, replica, leader):
        """``Partition.maybeShrinkIsr``: the leader drops a follower that stopped fetching or
        lags (for ``replica.lag.time.max.ms``), via AlterPartition."""
        p, r = partition, replica
        require(m._isr_change_ok(s, p, leader))
        require(s.isr[p].contains(r))
        fetching = m._fetching(s, p, r, leader)
        if not m.slow_followers:
            require(~m.is_up(s, r))
        if m.logs:
            behind = m.match_len(s, r, leader, p) < s.log[leader][p].length()
            require(~fetching | behind)
        else:
            require(~fetching)
        s.isr[p] = s.isr[p] - r
        s.written_by[p] = s.controller_epoch

    @action("partition", "broker", "broker", where=lambda m, p, r, b: _pair(m, p, r, b),
            fair="weak", lane="leader", tells="ZooKeeper")
    def leader_expand_isr(m, s, partition, replica, leader):
        """``Partition.maybeExpandIsr``: a follower that fetches at the leader's epoch and has
        caught up rejoins the ISR, via AlterPartition; the controller refuses replicas that
        are not live or are shutting down (KAFKA-14140; before that fix it checked only the
        leader and partition epochs)."""
        p, r = partition, replica
        require(m._isr_change_ok(s, p, leader))
        require(~s.isr[p].contains(r))
        require(m._fetching(s, p, r, leader))
        if m.logs:
            require(m.match_len(s, r, leader, p) == s.log[leader][p].length())
        if m.fixed("KAFKA-14140"):
            require(any_of(m.broker, lambda c: m.active(s, c) & s.ctx_live[c].contains(r) &
                           ~s.ctx_shutting[c].contains(r)))
        s.isr[p] = s.isr[p] | r
        s.written_by[p] = s.controller_epoch

    # == logs and the producer (max_writes > 0) ==============================================

    @action("partition", "broker", "broker", where=lambda m, p, r, b: m.logs and
            _pair(m, p, r, b), fair="weak", lane="replica", tells="leader")
    def follower_fetch(m, s, partition, replica, leader):
        """``ReplicaFetcherThread``: the follower fetches at its leader epoch; the leader
        answers only at that epoch (KIP-320); the follower truncates where its log diverges
        (KIP-101/279, divergingEpoch since 2.7) and appends the next record."""
        p, f = partition, replica
        require(m._fetching(s, p, f, leader))
        require(s.view_leader[leader][p] == leader)
        n = m.match_len(s, f, leader, p)
        flog, llog = s.log[f][p], s.log[leader][p]
        require((flog.length() > n) | (llog.length() > n))
        s.flushed[f][p] = replica_logs.fetch_step(flog, llog, n, s.flushed[f][p])

    @action("partition", "broker", where=lambda m, p, b: m.logs and b in m.replica_set[p],
            lane="client", tells="leader")
    def producer_append(m, s, partition, leader):
        """``ReplicaManager.appendRecords`` → ``Partition.appendRecordsToLeader``: the
        producer's record reaches the leader, which appends it at its leader epoch; with
        ``acks=all`` it is refused while the ISR is below ``min.insync.replicas``
        (NotEnoughReplicas), and otherwise waits in DelayedProduce."""
        p, L = partition, leader
        require(s.writes < m.max_writes)
        require(s.produce_at[p].is_none())
        require(m.serves(s, p, L))
        if m.client:
            require(s.client_leader[p] == L)
        if m.acks == "all":
            require(s.isr[p].size() >= m.min_isr(p))
        log = s.log[L][p]
        offset = log.length()
        log.append(s.view_epoch[L][p])
        s.writes = s.writes + 1
        if m.acks == "all":
            s.produce_at[p] = L
            s.produce_offset[p] = offset
        elif m.acks == "1":
            m._acknowledge(s, p, L, offset + 1)

    def _acknowledge(m, s, p, leader, n):
        """Ghost: the producer holds an acknowledgement for the leader's first ``n`` records."""
        replica_logs.acknowledge(s.acked[p], s.log[leader][p], n, m.max_writes)

    @action("partition", "broker", where=lambda m, p, b: m.logs and m.acks == "all" and
            b in m.replica_set[p], fair="weak", lane="leader", tells="client")
    def leader_complete_produce(m, s, partition, leader):
        """``DelayedProduce`` completes: the high watermark (the minimum log end over the
        ISR) passed the record and the ISR still has ``min.insync.replicas`` members
        (``checkEnoughReplicasReachOffset``); the producer gets its acknowledgement."""
        p, L = partition, leader
        require(s.produce_at[p] == L)
        require(m.serves(s, p, L))
        o = s.produce_offset[p]
        require(s.isr[p].size() >= m.min_isr(p))
        for r in m.replicas[p]:
            have = s.log[L][p].length() if r is L else m.match_len(s, r, L, p)
            require(~s.isr[p].contains(r) | (have > o))
        m._acknowledge(s, p, L, o + 1)
        s.produce_at[p] = None
        s.produce_offset[p] = 0

    @action("partition", "broker", where=lambda m, p, b: m.logs and m.acks == "all" and
            b in m.replica_set[p], fair="weak", lane="leader", tells="client")
    def leader_fail_produce(m, s, partition, leader):
        """The DelayedProduce fails: the broker is no longer the leader
        (NOT_LEADER_OR_FOLLOWER); the producer may send a new record."""
        p, L = partition, leader
        require(s.produce_at[p] == L)
        require(~m.serves(s, p, L))
        s.produce_at[p] = None
        s.produce_offset[p] = 0

    # == the client's metadata (bootstrap.servers set) ======================================

    @action("broker", where=lambda m, b: m.client, lane="client", tells="broker")
    def client_fetch_metadata(m, s, broker):
        """``NetworkClient`` / ``Metadata``: the client asks a broker it knows (at first only
        ``bootstrap.servers``) for metadata; the answer lists the live brokers, which it
        now knows, and each partition's leader from that broker's metadata cache (C4)."""
        b = broker
        require(s.client_known.contains(b) & m.is_up(s, b))
        s.client_known = set_of(m.broker, lambda x: s.registered[x])
        for p in m.partition:
            s.client_leader[p] = s.md_leader[b][p]

    # == bounds ===============================================================================

    @constraint
    def within_bounds(m, s):
        """Explore only while every leader epoch is within ``max_leader_epoch``."""
        return all_of(m.partition, lambda p: s.leader_epoch[p] <= m.max_leader_epoch)
