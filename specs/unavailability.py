"""How long partitions are without a serving leader after a crash and in a controlled shutdown.

Seed claims C15, C18 and C19 are about downtime: a partition whose leader is gone cannot be
written until a new leader is elected and told; clients retry a bounded number of times; a
controlled shutdown moves leaders while the old ones still serve; after a crash "the
controller elects them one partition at a time". This module measures it on the zk-cluster
model, in protocol steps (actions of the model), not seconds.

Setup: broker ``leader`` leads ``k`` partitions (replicas ``leader`` first, the other brokers
after it, alternating so that the new leaders differ), another broker is the controller, no
producer. The fault is applied to the initial state — ``broker_crash`` or ``broker_stop``
(``controlled.shutdown.enable=true``) — and the search starts from the state after it: a
``CompiledSystem`` whose ``initial_states()`` is that state. A partition is *unavailable* in a
state when no running broker both believes it leads it and is the leader in ZooKeeper.

For each partition it reports ``steps``: the fewest unavailable states on any path from the
fault to a state where the fault is handled (the partition is served by a broker other than
``leader``; after a controlled shutdown, the broker has also exited) — a 0-1 shortest path;
and ``on_shortest_path``: how many states it is unavailable along one shortest path to the
state where every partition is handled, which shows whether some partitions wait for others.
A client that makes one attempt per protocol step with ``retries`` retries sees a failed
write when ``steps > retries``.

There is no upper bound without fairness (a controller may take arbitrarily long), so only
shortest paths are measured.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field

from kafkacheck.checker.lang import ParameterError
from kafkacheck.specs.zk_cluster import ZkClusterSpec

FAULTS = ("crash", "controlled_shutdown")


@dataclass
class PartitionDowntime:
    partition: int
    new_leader: int | None
    steps: int | None
    on_shortest_path: int | None
    failed_write: bool | None


@dataclass
class Downtime:
    fault: str
    leader: int
    brokers: tuple
    partitions: int
    retries: int
    path: list[str] = field(default_factory=list)
    rows: list[PartitionDowntime] = field(default_factory=list)
    distinct_states: int = 0

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


def measure(fault: str = "crash", *, k: int = 3, brokers: int = 3, leader: int = 1,
            retries: int = 2, max_states: int = 2_000_000) -> Downtime:
    """Measure per-partition unavailability after ``fault`` of broker ``leader``.

    >>> d = measure("crash", k=3)
    >>> [r.steps for r in d.rows]
    [3, 3, 3]
    """
    if fault not in FAULTS:
        raise ParameterError(f"unknown fault {fault!r}: use one of {', '.join(FAULTS)}")
    if k < 1 or k > 6:
        raise ParameterError(f"k={k}: a broker can lead 1..6 partitions in this model")
    if brokers < 2 or brokers > 6:
        raise ParameterError(f"brokers={brokers}: use 2..6")
    if retries < 0:
        raise ParameterError(f"retries={retries} must be at least 0")
    ids = tuple(range(1, brokers + 1))
    if leader not in ids:
        raise ParameterError(f"leader={leader} is not a broker id (1..{brokers})")
    controller = ids[-1] if ids[-1] != leader else ids[0]
    settings = {
        "brokers": str(brokers), "replica.assignment": leader_assignment(ids, leader, k),
        "controller": str(controller), "max_writes": "0",
        "max_crashes": "1" if fault == "crash" else "0",
        "max_shutdowns": "1" if fault == "controlled_shutdown" else "0",
    }
    model = ZkClusterSpec.from_settings(settings)
    system = model.compile()
    label = f"broker_crash(broker={leader})" if fault == "crash" \
        else f"broker_stop(broker={leader})"
    start = system.initial_states()[0]
    after = [t for a, t in system.successors(start) if system.actions[a] == label]
    assert after, label
    start = after[0]
    served, handled = _predicates(model, system, leader, fault)

    # 0-1 BFS per partition: cost = number of unavailable states on the path (the first one
    # included), goal = handled.
    parts = list(range(len(model.partition)))
    best = {p: _zero_one(system, start, p, served, handled, max_states) for p in parts}

    # one shortest path to "every partition handled"
    path, states, seen = _shortest(system, start, lambda s: all(handled(s, p) for p in parts),
                                   max_states)
    along = {p: sum(1 for s in states if not served(s, p)) for p in parts} if states else {}
    final = system.decode(states[-1]) if states else None
    result = Downtime(fault, leader, ids, len(parts), retries, [label, *path], [], seen)
    for p in parts:
        steps = best[p]
        new_leader = final["leader"][p] if final else None
        result.rows.append(PartitionDowntime(p, new_leader, steps, along.get(p),
                                             None if steps is None else steps > retries))
    return result


def _predicates(model, system, leader, fault):
    layout = system.layout
    up = {"RUNNING", "PENDING_CONTROLLED_SHUTDOWN"}

    def decoded(s, cache={}):
        d = cache.get(s)
        if d is None:
            if len(cache) > 200_000:
                cache.clear()
            d = cache[s] = layout.decode(s)
        return d

    def served(s, p):
        d = decoded(s)
        b = d["leader"][p]
        return b is not None and d["state"][b] in up and d["view_leader"][b][p] == b

    def handled(s, p):
        d = decoded(s)
        if not served(s, p) or d["leader"][p] == leader:
            return False
        return fault == "crash" or d["state"][leader] == "NOT_RUNNING"
    return served, handled


def _zero_one(system, start, p, served, handled, max_states):
    cost = {start: 0 if served(start, p) else 1}
    dq = deque([start])
    while dq:
        s = dq.popleft()
        c = cost[s]
        if handled(s, p):
            return c
        if len(cost) > max_states:
            return None
        for _, t in system.successors(s):
            w = 0 if served(t, p) else 1
            if t not in cost or c + w < cost[t]:
                cost[t] = c + w
                (dq.appendleft if w == 0 else dq.append)(t)
    return None


def _shortest(system, start, goal, max_states):
    parent = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for s in frontier:
            if goal(s):
                states, labels = [s], []
                while parent[s] is not None:
                    s, a = parent[s]
                    states.append(s)
                    labels.append(system.actions[a])
                return labels[::-1], states[::-1], len(parent)
            for a, t in system.successors(s):
                if t not in parent:
                    parent[t] = (s, a)
                    nxt.append(t)
        if len(parent) > max_states:
            break
        frontier = nxt
    return [], [], len(parent)


def compare(k: int = 3, *, brokers: int = 3, leader: int = 1, retries: int = 2) -> dict:
    """Both faults side by side: ``{"crash": Downtime, "controlled_shutdown": Downtime}``."""
    return {f: measure(f, k=k, brokers=brokers, leader=leader, retries=retries)
            for f in FAULTS}
