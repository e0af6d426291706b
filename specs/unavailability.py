"""How long partitions are without a serving leader after a failure: protocol steps and ms.

Seed claims C12, C14, C15, C18 and C19 are about downtime: a partition whose leader is gone
cannot be written until a new leader is elected and told; clients retry a bounded number of
times; a controlled shutdown moves leaders while the old ones still serve. This module
measures it on a model, over every explored run, in two units:

- **steps**: actions of the model taken while the partition is unavailable;
- **milliseconds**: the same steps weighted by durations taken from Kafka's configuration
  (a session expiry between 2/3 of ``zookeeper.session.timeout.ms`` and the timeout plus one
  ZooKeeper tick, a network round trip for a request),
  declared per model in ``DURATIONS`` below. Every action of the model has an entry, so that no
  step is free by omission.

Two models: ``zk-cluster`` (ZooKeeper mode) and ``kraft-cluster`` (KRaft), each staged the
same way (``STAGINGS``), so the same failure can be compared in both. In KRaft a crashed
broker is fenced when ``broker.session.timeout.ms`` passes without a heartbeat; a crash of the
active controller's host (``process.roles=broker,controller``) costs a Raft election
(``controller.quorum.fetch.timeout.ms`` then a random election timeout) before the new
controller gives every broker a fresh session.

Setup: broker ``leader`` leads ``k`` partitions (replicas ``leader`` first, the others after it,
alternating so that the new leaders differ), no producer. The fault is applied to the initial
state and the search starts from the state after it. Faults: ``crash`` (a broker that leads
partitions dies; another broker is the controller), ``controller_crash`` (the same broker is
also the active controller), ``controlled_shutdown`` (``controlled.shutdown.enable=true``).

A partition is *unavailable* in a state when no running broker both believes it leads it and is
its leader in ZooKeeper. It is *handled* when it is served again — by a new leader, or by the
crashed broker itself if it restarts first (a restart counts as instantaneous); after a
controlled shutdown, by a broker other than the one shutting down. For each partition: **best** = the least total over
runs from the fault to a handled state (weighted shortest path), **worst** = the greatest
(weighted longest path; the explored graphs are acyclic, and a cycle would be reported as
unbounded). Steps are taken one after another, so the worst case adds up steps that in a real
cluster could overlap: it is an upper bound, the best case is what a quick cluster achieves.
A client making one attempt per step with ``retries`` retries sees a failed write when the best
``steps`` exceed ``retries``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kafkacheck.checker.lang import ParameterError
from kafkacheck.checker.paths import PathLimit, explore, path_costs
from kafkacheck.specs.zk_cluster import ZkClusterSpec

FAULTS = ("crash", "controller_crash", "controlled_shutdown")

# Durations in milliseconds, by Kafka configuration key where Kafka has one.
TIMINGS = {
    # ZooKeeper mode
    "zookeeper.session.timeout.ms": 18000,   # ZkConfigs: a dead broker's session expires
    "zookeeper.tick.ms": 2000,               # ZooKeeper's tickTime: expiry is checked per tick
    "zookeeper.write.ms": 5,                 # one ZooKeeper write or multi (an assumption)
    # KRaft mode
    "broker.session.timeout.ms": 9000,       # KRaftConfigs: a silent broker is fenced
    "broker.heartbeat.interval.ms": 2000,    # KRaftConfigs: a broker heartbeats this often
    "controller.quorum.fetch.timeout.ms": 2000,     # QuorumConfig: a follower's leader is gone
    "controller.quorum.election.timeout.ms": 1000,  # QuorumConfig: random in [T, 2T)
    "controller.quorum.append.linger.ms": 25,       # QuorumConfig: a record batch waits this
    # both
    "network.round.trip.ms": 5,              # one request and its response (an assumption)
}


def _session_expiry(t: dict) -> tuple[int, int]:
    """A crashed broker's session expires between 2/3 of the timeout after the crash (its
    last ping, sent every third of the timeout, was that long before) and the timeout plus
    one tick (ZooKeeper's ``ExpiryQueue`` rounds expiry up to the next tick)."""
    timeout = t["zookeeper.session.timeout.ms"]
    return timeout * 2 // 3, timeout + t["zookeeper.tick.ms"]


def _broker_fenced(t: dict) -> tuple[int, int]:
    """``BrokerHeartbeatManager``: a broker is fenced ``broker.session.timeout.ms`` after its
    last heartbeat, which was up to one heartbeat interval before the crash; the fence and
    the partition changes it causes are one committed record batch."""
    timeout = t["broker.session.timeout.ms"]
    commit = _metadata_commit(t)[0]
    return max(0, timeout - t["broker.heartbeat.interval.ms"]) + commit, timeout + commit


def _metadata_commit(t: dict) -> tuple[int, int]:
    """The active controller's record commits: the batch lingers, then a majority fetches it
    (one round trip); the broker that asked learns it in its next fetch (one more)."""
    d = t["controller.quorum.append.linger.ms"] + 2 * t["network.round.trip.ms"]
    return d, d


def _heartbeat(t: dict) -> tuple[int, int]:
    """A broker's next heartbeat: at once (a state change sends one immediately) up to one
    interval later, plus its round trip."""
    rtt = t["network.round.trip.ms"]
    return rtt, t["broker.heartbeat.interval.ms"] + rtt


def _raft_election(t: dict) -> tuple[int, int]:
    """``KafkaRaftClient``: followers notice the leader is gone after
    ``controller.quorum.fetch.timeout.ms``, then a candidate's election timer runs a random
    [T, 2T) of ``controller.quorum.election.timeout.ms`` (the least: the first timer fires at
    once after the fetch timeout), and the votes take one round trip."""
    rtt, election = t["network.round.trip.ms"], t["controller.quorum.election.timeout.ms"]
    fetch = t["controller.quorum.fetch.timeout.ms"]
    return fetch + rtt, fetch + 2 * election + rtt


def _check_quorum(t: dict) -> tuple[int, int]:
    """KAFKA-15489: a leader resigns after 1.5 x the fetch timeout without a majority."""
    d = t["controller.quorum.fetch.timeout.ms"] * 3 // 2
    return d, d


SPANS = {"zookeeper.session.timeout.ms": _session_expiry,
         "broker.session.timeout.ms": _broker_fenced, "metadata.commit": _metadata_commit,
         "broker.heartbeat.interval.ms": _heartbeat, "raft.election": _raft_election,
         "check.quorum": _check_quorum}
"""Timing keys whose span is computed from several configuration values."""

# Per model: each action name -> the timing key its step takes (None: instantaneous).
DURATIONS = {
    "zk-cluster": {
        "broker_crash": None, "broker_stop": None, "broker_exit": None,
        "broker_session_expire": "zookeeper.session.timeout.ms",
        "broker_start": None, "broker_recover_logs": None,
        "broker_register": "zookeeper.write.ms",
        "controller_elect": "zookeeper.write.ms",
        "controller_resign": None,
        "controller_process_broker_change": "zookeeper.write.ms",
        "controller_controlled_shutdown": "zookeeper.write.ms",
        "broker_receive_leader_and_isr": "network.round.trip.ms",
        "broker_send_controlled_shutdown": "network.round.trip.ms",
        "broker_receive_controlled_shutdown_response": "network.round.trip.ms",
        "leader_shrink_isr": "zookeeper.write.ms", "leader_expand_isr": "zookeeper.write.ms",
        "producer_append": "network.round.trip.ms",
        "client_fetch_metadata": "network.round.trip.ms",
    },
    "kraft-cluster": {
        "controller_elect": "raft.election",
        "controller_learn_epoch": "network.round.trip.ms",
        "controller_resign": "check.quorum",
        "controller_isolate": None, "controller_heal": None,
        "controller_crash": None, "controller_restart": None,
        "broker_crash": None, "broker_disk_loss": None,
        "broker_register": "metadata.commit",
        "broker_fetch_metadata": "network.round.trip.ms",
        "broker_find_controller": "network.round.trip.ms",
        "broker_heartbeat_unfence": "broker.heartbeat.interval.ms",
        "broker_session_expire": "broker.session.timeout.ms",
        "broker_want_shutdown": None,
        "controller_controlled_shutdown": "metadata.commit",
        "broker_shutdown_now": "broker.heartbeat.interval.ms",
        "leader_shrink_isr": "metadata.commit", "leader_expand_isr": "metadata.commit",
        "follower_fetch": "network.round.trip.ms",
        "producer_append": "network.round.trip.ms",
        "leader_complete_produce": "network.round.trip.ms",
        "leader_fail_produce": "network.round.trip.ms",
    },
}


@dataclass
class PartitionDowntime:
    partition: int
    new_leader: int | None
    steps: dict            # {"best": n, "worst": n}
    ms: dict               # {"best": ms, "worst": ms}
    failed_write: bool | None


@dataclass
class Downtime:
    model: str
    fault: str
    leader: int
    controller: int | None     # the broker hosting the active controller; None: dedicated
    brokers: tuple
    partitions: int
    retries: int
    timings: dict
    path: list[str] = field(default_factory=list)
    rows: list[PartitionDowntime] = field(default_factory=list)
    distinct_states: int = 0
    stuck_states: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def leader_assignment(ids, leader, k) -> str:
    """``replica.assignment`` in which ``leader`` heads ``k`` partitions; the other brokers
    follow in an order that alternates, so the preferred successors differ."""
    others = [b for b in ids if b != leader]
    parts = []
    for p in range(k):
        order = others if p % 2 == 0 else list(reversed(others))
        parts.append(":".join(map(str, [leader, *order])))
    return ",".join(parts)


def durations(model: str, timings: dict) -> dict:
    """Action name -> (least, greatest) milliseconds for ``model`` under ``timings``."""
    if model not in DURATIONS:
        raise ParameterError(f"unavailability is measured on {', '.join(DURATIONS)}; "
                             f"got model {model!r}")
    def span(key):
        if key is None:
            return 0, 0
        if key in SPANS:
            return SPANS[key](timings)
        return timings[key], timings[key]
    return {a: span(key) for a, key in DURATIONS[model].items()}


@dataclass(frozen=True)
class Staging:
    """How one model stages the faults: its settings, the fault's first step, and when a
    partition is served (over a decoded state)."""

    spec: object                      # () -> the spec class (imported when used)
    settings: object                  # (fault, ids, leader, k) -> (settings, controller)
    start: object                     # (fault, leader) -> the fault's action label
    served: object                    # (decoded state, partition) -> bool


def _zk_settings(fault, ids, leader, k):
    controller = leader if fault == "controller_crash" else \
        (ids[-1] if ids[-1] != leader else ids[0])
    return {"brokers": str(len(ids)), "replica.assignment": leader_assignment(ids, leader, k),
            "controller": str(controller), "max_writes": "0",
            "max_crashes": "0" if fault == "controlled_shutdown" else "1",
            "max_shutdowns": "1" if fault == "controlled_shutdown" else "0"}, controller


def _zk_served(d, p):
    b = d["leader"][p]
    return b is not None and d["state"][b] in ("RUNNING", "PENDING_CONTROLLED_SHUTDOWN") \
        and d["view_leader"][b][p] == b


def _kraft_settings(fault, ids, leader, k):
    """Controllers on their own nodes, except for ``controller_crash``: then
    ``process.roles=broker,controller`` and the failing broker's host runs the active
    controller (node 1, as every kraft-cluster run starts)."""
    if fault == "controller_crash" and leader != 1:
        raise ParameterError("kraft-cluster starts with node 1 as the active controller: "
                             "use --leader 1 for controller_crash")
    combined = fault == "controller_crash"
    return {"brokers": str(len(ids)), "replica.assignment": leader_assignment(ids, leader, k),
            "process.roles": "broker,controller" if combined else "controller",
            "controller.quorum.voters": str(min(3, len(ids))) if combined else "3",
            "max_writes": "0",
            "max_crashes": "0" if fault == "controlled_shutdown" else "1",
            "max_shutdowns": "1" if fault == "controlled_shutdown" else "0",
            "max_restarts": "0" if fault == "controlled_shutdown" else "1"}, \
        (1 if combined else None)  # None: the controllers run on nodes of their own


def _kraft_served(d, p):
    """``KraftCluster.serves``: a running, unfenced broker that applied its own leadership at
    the image's leader epoch."""
    b = d["leader"][p]
    return b is not None and d["state"][b] in ("RUNNING", "PENDING_CONTROLLED_SHUTDOWN") \
        and not d["fenced"][b] and d["b_leader"][b][p] == b and \
        d["b_epoch"][b][p] == d["leader_epoch"][p]


def _zk_spec():
    return ZkClusterSpec


def _kraft_spec():
    from kafkacheck.specs.kraft_cluster import KraftClusterSpec
    return KraftClusterSpec


STAGINGS = {
    "zk-cluster": Staging(
        _zk_spec, _zk_settings,
        lambda fault, b: f"broker_stop(broker={b})" if fault == "controlled_shutdown"
        else f"broker_crash(broker={b})", _zk_served),
    "kraft-cluster": Staging(
        _kraft_spec, _kraft_settings,
        lambda fault, b: f"broker_want_shutdown(broker={b})" if fault == "controlled_shutdown"
        else f"broker_crash(broker={b})", _kraft_served),
}


def measure(fault: str = "crash", *, model: str = "zk-cluster", k: int = 3, brokers: int = 3,
            leader: int = 1, retries: int = 2, timings: dict | None = None,
            max_states: int = 1_000_000) -> Downtime:
    """Measure per-partition unavailability after ``fault`` of broker ``leader``.

    >>> d = measure("crash", k=3)
    >>> [(r.steps["best"], r.ms["best"], r.ms["worst"]) for r in d.rows]
    [(3, 12010, 20040), (3, 12010, 20050), (3, 12010, 20040)]
    """
    _validate(fault, k, brokers, leader, retries)
    if model not in STAGINGS:
        raise ParameterError(f"unavailability is measured on {', '.join(STAGINGS)}; "
                             f"got model {model!r}")
    staging = STAGINGS[model]
    timings = {**TIMINGS, **(timings or {})}
    ids = tuple(range(1, brokers + 1))
    settings, controller = staging.settings(fault, ids, leader, k)
    spec = staging.spec().from_settings(settings)
    system = spec.compile()
    ms = durations(model, timings)
    missing = sorted({a.split("(")[0] for a in system.actions} - set(ms))
    assert not missing, f"DURATIONS[{model!r}] lacks {missing}"
    label = staging.start(fault, leader)
    start = next(t for a, t in system.successors(system.initial_states()[0])
                 if system.actions[a] == label)
    served, handled = _predicates(system, leader, fault, staging.served)
    parts = list(range(len(spec.partition)))
    weights = {"steps": lambda a: 1, "ms_least": lambda a: ms[a.split("(")[0]][0],
               "ms_most": lambda a: ms[a.split("(")[0]][1]}
    out = Downtime(model, fault, leader, controller, ids, len(parts), retries, timings)
    try:
        every = path_costs(system, start, goal=lambda s: all(handled(s, p) for p in parts),
                           counted=lambda s: True, weights={"steps": weights["steps"]},
                           max_states=max_states)
        out.path = [label, *every.best_path]
        for p in parts:
            graph = explore(system, start, lambda s, p=p: handled(s, p), max_states=max_states)
            c = path_costs(system, start, goal=lambda s, p=p: handled(s, p),
                           counted=lambda s, p=p: not served(s, p), weights=weights,
                           graph=graph)
            out.distinct_states = max(out.distinct_states, c.distinct_states)
            out.stuck_states += c.stuck
            new_leader = _new_leader(system, graph[1], lambda s, p=p: handled(s, p), p)
            steps = c.best["steps"]
            out.rows.append(PartitionDowntime(
                p, new_leader, {"best": steps, "worst": c.worst["steps"]},
                {"best": c.best["ms_least"], "worst": c.worst["ms_most"]},
                None if steps is None else steps > retries))
    except PathLimit as e:
        raise Cut(f"{fault}: {e} (raise --max-states or use fewer brokers or "
                  "partitions)") from None
    return out


class Cut(Exception):
    """The graph was larger than the limit: no figure is given rather than a wrong one."""


def _validate(fault, k, brokers, leader, retries):
    if fault not in FAULTS:
        raise ParameterError(f"unknown fault {fault!r}: use one of {', '.join(FAULTS)}")
    if k < 1 or k > 6:
        raise ParameterError(f"k={k}: a broker can lead 1..6 partitions in this model")
    if brokers < 2 or brokers > 6:
        raise ParameterError(f"brokers={brokers}: use 2..6")
    if retries < 0:
        raise ParameterError(f"retries={retries} must be at least 0")
    if leader not in range(1, brokers + 1):
        raise ParameterError(f"leader={leader} is not a broker id (1..{brokers})")


def _new_leader(system, states, handled, p):
    leaders = sorted({system.decode(s)["leader"][p] for s in states if handled(s)})
    return leaders[0] if len(leaders) == 1 else (tuple(leaders) if leaders else None)


def _predicates(system, leader, fault, served_in):
    layout = system.layout
    cache: dict = {}

    def decoded(s):
        d = cache.get(s)
        if d is None:
            d = cache[s] = layout.decode(s)
        return d

    def served(s, p):
        return served_in(decoded(s), p)

    def handled(s, p):
        if not served(s, p):
            return False
        return fault != "controlled_shutdown" or decoded(s)["leader"][p] != leader
    return served, handled
