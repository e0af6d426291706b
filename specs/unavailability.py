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
    "zookeeper.session.timeout.ms": 18000,   # ZkConfigs: a dead broker's session expires
    "zookeeper.tick.ms": 2000,               # ZooKeeper's tickTime: expiry is checked per tick
    "network.round.trip.ms": 5,              # one request and its response (an assumption)
    "zookeeper.write.ms": 5,                 # one ZooKeeper write or multi (an assumption)
}


def _session_expiry(t: dict) -> tuple[int, int]:
    """A crashed broker's session expires between 2/3 of the timeout after the crash (its
    last ping, sent every third of the timeout, was that long before) and the timeout plus
    one tick (ZooKeeper's ``ExpiryQueue`` rounds expiry up to the next tick)."""
    timeout = t["zookeeper.session.timeout.ms"]
    return timeout * 2 // 3, timeout + t["zookeeper.tick.ms"]

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
    controller: int
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
        if key == "zookeeper.session.timeout.ms":
            return _session_expiry(timings)
        return timings[key], timings[key]
    return {a: span(key) for a, key in DURATIONS[model].items()}


def measure(fault: str = "crash", *, k: int = 3, brokers: int = 3, leader: int = 1,
            retries: int = 2, timings: dict | None = None,
            max_states: int = 1_000_000) -> Downtime:
    """Measure per-partition unavailability after ``fault`` of broker ``leader``.

    >>> d = measure("crash", k=3)
    >>> [(r.steps["best"], r.ms["best"], r.ms["worst"]) for r in d.rows]
    [(3, 12010, 20040), (3, 12010, 20050), (3, 12010, 20040)]
    """
    _validate(fault, k, brokers, leader, retries)
    timings = {**TIMINGS, **(timings or {})}
    ids = tuple(range(1, brokers + 1))
    controller = leader if fault == "controller_crash" else \
        (ids[-1] if ids[-1] != leader else ids[0])
    model = ZkClusterSpec.from_settings({
        "brokers": str(brokers), "replica.assignment": leader_assignment(ids, leader, k),
        "controller": str(controller), "max_writes": "0",
        "max_crashes": "0" if fault == "controlled_shutdown" else "1",
        "max_shutdowns": "1" if fault == "controlled_shutdown" else "0"})
    system = model.compile()
    ms = durations("zk-cluster", timings)
    missing = sorted({a.split("(")[0] for a in system.actions} - set(ms))
    assert not missing, f"DURATIONS['zk-cluster'] lacks {missing}"
    label = f"broker_stop(broker={leader})" if fault == "controlled_shutdown" \
        else f"broker_crash(broker={leader})"
    start = next(t for a, t in system.successors(system.initial_states()[0])
                 if system.actions[a] == label)
    served, handled = _predicates(system, leader, fault)
    parts = list(range(len(model.partition)))
    weights = {"steps": lambda a: 1, "ms_least": lambda a: ms[a.split("(")[0]][0],
               "ms_most": lambda a: ms[a.split("(")[0]][1]}
    out = Downtime("zk-cluster", fault, leader, controller, ids, len(parts), retries,
                   timings)
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


def _predicates(system, leader, fault):
    layout = system.layout
    up = {"RUNNING", "PENDING_CONTROLLED_SHUTDOWN"}
    cache: dict = {}

    def decoded(s):
        d = cache.get(s)
        if d is None:
            d = cache[s] = layout.decode(s)
        return d

    def served(s, p):
        d = decoded(s)
        b = d["leader"][p]
        return b is not None and d["state"][b] in up and d["view_leader"][b][p] == b

    def handled(s, p):
        if not served(s, p):
            return False
        return fault != "controlled_shutdown" or decoded(s)["leader"][p] != leader
    return served, handled
