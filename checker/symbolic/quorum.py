"""Quorum systems and Z3 queries about them: intersection, failures survived, reconfiguration.

A quorum system is a finite set of voters and a rule saying which subsets are quorums. Every
rule here is monotone (a superset of a quorum is a quorum), as protocols need. The rules:

- ``majority(voters)``: more than half of the voters (ZooKeeper's ``QuorumMaj``, Raft);
- ``threshold(voters, t)``: at least ``t`` voters; ``half(voters)`` is at least half of them
  (``ceil(n/2)``), the classic unsafe choice for an even number of voters;
- ``weighted(weights)``: the voters' weights add up to more than half of the total;
- ``hierarchical(groups, weights)``: ZooKeeper's ``QuorumHierarchical`` (``group.N`` and
  ``weight.N`` in zoo.cfg): a non-empty set is a quorum when more than half of the groups
  (groups of total weight zero not counted) each see more than half of their weight,
  "more than half" being ``> total // 2`` in integer arithmetic as ZooKeeper computes it;
  voters without a weight weigh 1.

Queries, each answered by Z3 over 0/1 integer variables (one per voter and set), so that the
linear relaxation settles counting arguments at once:

- ``intersection(q)``: do every two quorums intersect? If not, a minimal pair of disjoint
  quorums (smallest total size);
- ``resilience(q)``: how many failures are always survived, the smallest failure sets that
  break availability, and the most failures survived when the right voters fail;
- ``reconfiguration(old, new)``: can a quorum of the old system and a quorum of the new one
  be disjoint (two leaders, one per configuration)? ``stepwise(old, new)`` checks a change
  made one voter at a time;
- ``table(max_n)``: majority size and failures tolerated for n = 1..max_n, odd against even;
- ``majority_intersects_for_all_n()`` and ``single_change_safe_for_all_n()``: the same facts
  for every n at once, as linear-arithmetic proofs.

>>> intersection(majority(range(1, 6))).intersect
True
>>> r = intersection(half(range(1, 5)))
>>> r.intersect, sorted(map(sorted, r.witness))
(False, [[1, 2], [3, 4]])
>>> resilience(majority([1, 2, 3])).tolerated
1
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3


class QuorumError(ValueError):
    """A quorum system is malformed (no voters, a voter in two groups, a negative weight)."""


# -- quorum systems ------------------------------------------------------------------------

@dataclass(frozen=True)
class QuorumSystem:
    """A set of voters and a monotone rule for which subsets are quorums.

    ``kind`` is ``threshold``, ``weighted`` or ``hierarchical``; ``threshold`` is the least
    number of voters (threshold systems); ``weights`` maps each voter to its weight;
    ``groups`` maps a group id to its voters (hierarchical systems).
    """

    name: str
    kind: str
    voters: tuple
    threshold: int = 0
    weights: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)

    def __hash__(self):
        return hash((self.name, self.kind, self.voters))

    # -- the rule, in Python -----------------------------------------------------------------
    def is_quorum(self, subset) -> bool:
        """Whether ``subset`` (any iterable of voters) is a quorum."""
        s = set(subset) & set(self.voters)
        if self.kind == "threshold":
            return len(s) >= self.threshold
        if self.kind == "weighted":
            return sum(self.weights[v] for v in s) > self.total_weight() // 2
        if not s:
            return False
        covered = sum(1 for g in self.groups.values()
                      if sum(self.weights[v] for v in s if v in g) >
                      sum(self.weights[v] for v in g) // 2)
        return covered > self.counted_groups() // 2

    def total_weight(self) -> int:
        return sum(self.weights[v] for v in self.voters)

    def counted_groups(self) -> int:
        """Groups whose total weight is not zero (ZooKeeper ignores the others)."""
        return sum(1 for g in self.groups.values() if sum(self.weights[v] for v in g) > 0)

    # -- the rule, in Z3 -------------------------------------------------------------------
    def formula(self, x: dict) -> z3.BoolRef:
        """``x`` maps each voter to a 0/1 integer term: the chosen set is a quorum."""
        if self.kind == "threshold":
            return z3.Sum([x[v] for v in self.voters]) >= self.threshold
        if self.kind == "weighted":
            return _weight(self.weights, self.voters, x) >= self.total_weight() // 2 + 1
        covered = []
        for g in self.groups.values():
            w = sum(self.weights[v] for v in g)
            if w > 0:
                covered.append(z3.If(_weight(self.weights, g, x) >= w // 2 + 1, 1, 0))
        return z3.And(z3.Sum([x[v] for v in self.voters]) >= 1,
                      z3.Sum(covered or [z3.IntVal(0)]) >= self.counted_groups() // 2 + 1)

    def describe(self) -> str:
        if self.kind == "threshold":
            return f"{self.name}: at least {self.threshold} of {len(self.voters)} voters"
        if self.kind == "weighted":
            return (f"{self.name}: weight > {self.total_weight() // 2} of "
                    f"{self.total_weight()} ({_show_weights(self.weights)})")
        groups = "; ".join(f"group {g}: {':'.join(map(str, vs))}"
                           for g, vs in self.groups.items())
        return (f"{self.name}: a weight majority in more than half of the groups "
                f"({groups}; weights {_show_weights(self.weights)})")

    def to_json(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "voters": list(self.voters)}
        if self.kind == "threshold":
            out["threshold"] = self.threshold
        else:
            out["weights"] = {str(k): v for k, v in self.weights.items()}
        if self.kind == "hierarchical":
            out["groups"] = {str(k): list(v) for k, v in self.groups.items()}
        return out


def _weight(weights, voters, x):
    return z3.Sum([weights[v] * x[v] for v in voters] or [z3.IntVal(0)])


def _show_weights(weights) -> str:
    return ", ".join(f"{v}={w}" for v, w in weights.items())


def _voters(voters) -> tuple:
    vs = tuple(voters)
    if not vs:
        raise QuorumError("a quorum system needs at least one voter")
    if len(set(vs)) != len(vs):
        raise QuorumError(f"duplicate voter in {list(vs)}")
    return vs


def threshold(voters, t: int, name: str | None = None) -> QuorumSystem:
    """Quorums are the sets of at least ``t`` voters."""
    vs = _voters(voters)
    if not 1 <= t <= len(vs):
        raise QuorumError(f"a threshold must be between 1 and {len(vs)}, not {t}")
    return QuorumSystem(name or f"threshold-{t}-of-{len(vs)}", "threshold", vs, threshold=t)


def majority(voters) -> QuorumSystem:
    """More than half of the voters: ``n // 2 + 1`` (ZooKeeper's QuorumMaj, Raft, KRaft)."""
    vs = _voters(voters)
    return threshold(vs, len(vs) // 2 + 1, f"majority-of-{len(vs)}")


def half(voters) -> QuorumSystem:
    """At least half of the voters, ``ceil(n / 2)``: the same as majority for odd n, unsafe
    for even n (two disjoint halves)."""
    vs = _voters(voters)
    return threshold(vs, (len(vs) + 1) // 2, f"half-of-{len(vs)}")


def weighted(weights: dict) -> QuorumSystem:
    """The voters' weights add up to more than half of the total weight."""
    ws = _check_weights(weights)
    return QuorumSystem(f"weighted-{len(ws)}", "weighted", tuple(ws), weights=ws)


def hierarchical(groups: dict, weights: dict | None = None) -> QuorumSystem:
    """ZooKeeper's hierarchical quorums: ``groups`` maps a group id to its voters (zoo.cfg's
    ``group.N=1:2:3``), ``weights`` a voter to its weight (``weight.N=2``; default 1)."""
    if not groups:
        raise QuorumError("a hierarchical quorum system needs at least one group")
    seen: dict = {}
    for gid, members in groups.items():
        members = tuple(members)
        if not members:
            raise QuorumError(f"group {gid} has no voters")
        for v in members:
            if v in seen:
                raise QuorumError(f"voter {v} is in group {seen[v]} and in group {gid}; a "
                                  "voter belongs to exactly one group")
            seen[v] = gid
    weights = dict(weights or {})
    stray = [v for v in weights if v not in seen]
    if stray:
        raise QuorumError(f"voter {stray[0]} has a weight but is in no group (every voter "
                          "must be in a group)")
    ws = _check_weights({v: weights.get(v, 1) for v in seen})
    return QuorumSystem(f"hierarchical-{len(groups)}-groups", "hierarchical", tuple(seen),
                        weights=ws, groups={g: tuple(vs) for g, vs in groups.items()})


def _check_weights(weights: dict) -> dict:
    ws = dict(weights)
    if not ws:
        raise QuorumError("a weighted quorum system needs at least one voter")
    for v, w in ws.items():
        if not isinstance(w, int) or isinstance(w, bool) or w < 0:
            raise QuorumError(f"the weight of voter {v} must be a non-negative integer, "
                              f"not {w!r}")
        if w > 2 ** 32:
            raise QuorumError(f"the weight of voter {v} is too large ({w}); weights are small "
                              "integers")
    if not any(ws.values()):
        raise QuorumError("every weight is 0, so no set of voters is a quorum (and "
                          "'every two quorums intersect' would say nothing); give at least "
                          "one voter a positive weight")
    return ws


def parse_properties(text: str) -> dict[str, str]:
    """Generic ``key=value`` lines (``#`` comments, blank lines ignored), as in a Java
    properties file such as zoo.cfg."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise QuorumError(f"line {n}: expected key=value, got {line!r}")
        out[key.strip()] = value.strip()
    return out


def from_properties(props: dict[str, str]) -> QuorumSystem:
    """The quorum system of ``group.N`` / ``weight.N`` keys (hierarchical), or, without
    groups, a majority of the ids of the ``server.N`` keys."""
    groups, weights, servers = {}, {}, []
    for key, value in props.items():
        prefix, _, ident = key.partition(".")
        if prefix not in ("group", "weight", "server"):
            continue
        try:
            ident = int(ident)
            if prefix == "group":
                groups[ident] = [int(v) for v in value.split(":") if v.strip()]
            elif prefix == "weight":
                weights[ident] = int(value)
            elif not value.rstrip().endswith(":observer"):
                servers.append(ident)
        except ValueError:
            raise QuorumError(f"{key}={value}: expected integer ids (group.N=1:2:3, "
                              "weight.N=W)") from None
    if groups:
        return hierarchical(groups, weights)
    if weights:
        raise QuorumError("weight.N is only used with group.N (as in ZooKeeper); give groups")
    if not servers:
        raise QuorumError("no server.N, group.N or weight.N keys found")
    return majority(sorted(servers))


# -- queries -------------------------------------------------------------------------------

def _solver():
    """A solver for 0/1 linear problems: Z3's core without preprocessing tactics, so the
    problem stays in linear arithmetic, whose relaxation refutes counting arguments at once
    (the default solver's tactics turn them into pigeonhole problems for SAT)."""
    return z3.SimpleSolver()


def _least(solver, size, order, time_limit):
    """The model of ``solver`` with the least ``size``, and among those the first in
    ``order`` (a list of 0/1 terms, preferring 1 early): deterministic, readable witnesses.
    ``solver`` must be satisfiable; it is left constrained to that model."""
    if not _solve(solver, time_limit):
        raise AssertionError("_least needs a satisfiable solver")
    model = solver.model()
    best = model.eval(size, model_completion=True).as_long()
    while True:  # descend on the size; the linear relaxation ends it quickly
        solver.push()
        solver.add(size <= best - 1)
        found = _solve(solver, time_limit)
        if found:
            model = solver.model()
            best = model.eval(size, model_completion=True).as_long()
        solver.pop()
        if not found:
            break
    if not order:
        return model
    solver.add(size <= best)  # (best is least: the same as ==, and easier for the solver)
    for t in order:
        solver.push()
        solver.add(t == 1)
        keep = _solve(solver, time_limit)
        solver.pop()
        solver.add(t == (1 if keep else 0))
    _solve(solver, time_limit)
    return solver.model()


def _members(voters, tag: str) -> dict:
    x = {v: z3.Int(f"{tag}_{v}") for v in voters}
    return x


def _bits(opt, x: dict):
    for v in x.values():
        opt.add(v >= 0, v <= 1)


def _chosen(model, x: dict) -> frozenset:
    return frozenset(v for v, t in x.items() if model.eval(t, model_completion=True).as_long())


def _solve(opt, limit):
    if limit is not None:
        opt.set("timeout", max(1, int(limit * 1000)))
    answer = opt.check()
    if answer == z3.unknown:
        raise TimeoutError(f"Z3 gave no answer: {opt.reason_unknown()}")
    return answer == z3.sat


@dataclass
class Intersection:
    """Whether every quorum of ``first`` meets every quorum of ``second`` (the same system
    for a plain intersection query); ``witness`` is a smallest disjoint pair otherwise."""

    first: str
    second: str
    intersect: bool
    witness: tuple[frozenset, frozenset] | None
    seconds: float

    def to_json(self) -> dict:
        return {"first": self.first, "second": self.second, "intersect": self.intersect,
                "witness": [sorted(w) for w in self.witness] if self.witness else None,
                "seconds": round(self.seconds, 4)}


def intersection(q: QuorumSystem, other: QuorumSystem | None = None, *, minimal: bool = True,
                 time_limit: float | None = None) -> Intersection:
    """Do every two quorums intersect (of ``q``, or one of ``q`` and one of ``other``)?

    When they need not, the witness is a pair of disjoint quorums; with ``minimal`` (the
    default) the pair of least total size, and among those the first in voter order, so each
    is a minimal quorum and the answer is the same on every run.
    """
    start = time.perf_counter()
    other = other or q
    voters = tuple(dict.fromkeys((*q.voters, *other.voters)))
    a, b = _members(voters, "a"), _members(voters, "b")
    solver = _solver()
    _bits(solver, a)
    _bits(solver, b)
    solver.add(q.formula(a), other.formula(b))
    for v in voters:
        solver.add(a[v] + b[v] <= 1)
    if not _solve(solver, time_limit):
        return Intersection(q.name, other.name, True, None, time.perf_counter() - start)
    if minimal:
        model = _least(solver, z3.Sum([*a.values(), *b.values()]),
                       [a[v] for v in voters] + [b[v] for v in voters], time_limit)
    else:
        model = solver.model()
    w = (_chosen(model, a), _chosen(model, b))
    if not (q.is_quorum(w[0]) and other.is_quorum(w[1]) and not w[0] & w[1]):
        raise AssertionError(f"Z3's disjoint quorums {w} are not disjoint quorums")
    return Intersection(q.name, other.name, False, w, time.perf_counter() - start)


@dataclass
class Resilience:
    """What failures a quorum system survives (a quorum of live voters remains).

    ``tolerated``: any ``tolerated`` voters may fail (-1: even with none failed there is no
    quorum). ``breaking``: failure sets of the least size that leave no quorum (at most
    ``limit`` of them; ``more`` when there are others). ``best_case``: the most failures
    survived when the right voters fail (voters minus the smallest quorum). ``min_quorum``:
    a smallest quorum.
    """

    system: str
    voters: int
    tolerated: int
    breaking: list[frozenset]
    more: bool
    best_case: int
    min_quorum: frozenset | None
    seconds: float

    def to_json(self) -> dict:
        return {"system": self.system, "voters": self.voters, "tolerated": self.tolerated,
                "breaking": [sorted(s) for s in self.breaking], "more_breaking": self.more,
                "best_case": self.best_case,
                "min_quorum": sorted(self.min_quorum) if self.min_quorum is not None else None,
                "seconds": round(self.seconds, 4)}


def resilience(q: QuorumSystem, *, limit: int = 5, readable: bool = True,
               time_limit: float | None = None) -> Resilience:
    """How many failures ``q`` always survives, and which failure sets break it.

    With ``readable`` (the default) the sets shown are the first in voter order; without,
    any sets of the least size (faster for many voters)."""
    order = (lambda x: [x[v] for v in q.voters]) if readable else (lambda x: [])
    start = time.perf_counter()
    # the smallest quorum, first in voter order
    x = _members(q.voters, "q")
    solver = _solver()
    _bits(solver, x)
    solver.add(q.formula(x))
    min_quorum = None
    if _solve(solver, time_limit):
        min_quorum = _chosen(_least(solver, z3.Sum(list(x.values())), order(x),
                                    time_limit), x)
    # the smallest failure sets: the live voters (all but the failed) hold no quorum
    f = _members(q.voters, "f")
    live = {v: 1 - f[v] for v in q.voters}
    solver = _solver()
    _bits(solver, f)
    solver.add(z3.Not(q.formula(live)))
    size = z3.Sum(list(f.values()))
    if not _solve(solver, time_limit):  # no failure set breaks it: impossible for n voters
        raise AssertionError(f"{q.name}: even with every voter failed a quorum remains")
    model = _least(solver, size, order(f), time_limit)
    first = _chosen(model, f)
    smallest = len(first)
    breaking = [first]
    solver = _solver()
    _bits(solver, f)
    solver.add(z3.Not(q.formula(live)), size <= smallest)  # least, so the same as ==
    solver.add(z3.Or([f[v] == 0 for v in first]))
    more = False
    while True:  # the next smallest failure sets, in voter order
        if not _solve(solver, time_limit):
            break
        if len(breaking) >= limit:
            more = True
            break
        solver.push()
        found = _chosen(_least(solver, size, order(f), time_limit), f)
        solver.pop()
        breaking.append(found)
        solver.add(z3.Or([f[v] == 0 for v in found]))
    for s in breaking:
        if q.is_quorum(set(q.voters) - s):
            raise AssertionError(f"Z3's failure set {sorted(s)} leaves a quorum of {q.name}")
    return Resilience(q.name, len(q.voters), smallest - 1, breaking, more,
                      len(q.voters) - len(min_quorum) if min_quorum is not None else -1,
                      min_quorum, time.perf_counter() - start)


def reconfiguration(old: QuorumSystem, new: QuorumSystem, *,
                    time_limit: float | None = None) -> Intersection:
    """Can a quorum of the old configuration and a quorum of the new one be disjoint?

    When they can (``intersect`` is false), the old voters may elect one leader and the new
    voters another during the change: the witness shows the two quorums.
    """
    return intersection(old, new, time_limit=time_limit)


@dataclass
class Stepwise:
    """A change of voter set made one voter at a time (add all, then remove), each step
    checked with ``reconfiguration`` between majorities."""

    direct: Intersection
    steps: list[tuple[tuple, tuple, Intersection]]

    @property
    def safe(self) -> bool:
        return all(r.intersect for _, _, r in self.steps)

    def to_json(self) -> dict:
        return {"direct": self.direct.to_json(), "steps_safe": self.safe,
                "steps": [{"from": list(a), "to": list(b), **r.to_json()}
                          for a, b, r in self.steps]}


def stepwise(old_voters, new_voters, *, time_limit: float | None = None) -> Stepwise:
    """Majority quorums, changed from ``old_voters`` to ``new_voters`` directly, and one voter
    at a time (first each added voter, then each removed one)."""
    old, new = _voters(old_voters), _voters(new_voters)
    direct = reconfiguration(majority(old), majority(new), time_limit=time_limit)
    path = [old]
    cur = list(old)
    for v in new:
        if v not in cur:
            cur = [*cur, v]
            path.append(tuple(cur))
    for v in old:
        if v not in new:
            cur = [c for c in cur if c != v]
            path.append(tuple(cur))
    steps = [(a, b, reconfiguration(majority(a), majority(b), time_limit=time_limit))
             for a, b in zip(path, path[1:])]
    return Stepwise(direct, steps)


@dataclass(frozen=True)
class TableRow:
    n: int
    majority: int
    tolerated: int
    majority_intersects: bool
    half: int
    half_intersects: bool

    @property
    def parity(self) -> str:
        return "odd" if self.n % 2 else "even"

    def to_json(self) -> dict:
        return {"n": self.n, "parity": self.parity, "majority": self.majority,
                "tolerated": self.tolerated, "majority_intersects": self.majority_intersects,
                "half": self.half, "half_intersects": self.half_intersects}


def table(max_n: int = 51, *, time_limit: float | None = None) -> list[TableRow]:
    """For n = 1..max_n voters, computed with Z3: the smallest majority quorum, the failures a
    majority survives, whether majorities intersect, and whether half-quorums do."""
    rows = []
    for n in range(1, max_n + 1):
        voters = range(1, n + 1)
        maj = majority(voters)
        res = resilience(maj, limit=1, readable=False, time_limit=time_limit)
        rows.append(TableRow(n, len(res.min_quorum), res.tolerated,
                             intersection(maj, minimal=False, time_limit=time_limit).intersect,
                             half(voters).threshold,
                             intersection(half(voters), minimal=False,
                                          time_limit=time_limit).intersect))
    return rows


def majority_intersects_for_all_n() -> bool:
    """Proof, for every n >= 1 at once: two sets of more than n/2 of n voters share one.

    Sizes suffice: with a = |Q1 \\ Q2|, b = |Q2 \\ Q1|, c = |Q1 ∩ Q2|, a + b + c <= n and
    2(a + c) > n and 2(b + c) > n force c >= 1. Z3 shows the negation unsatisfiable.
    """
    n, a, b, c = z3.Ints("n a b c")
    s = z3.Solver()
    s.add(n >= 1, a >= 0, b >= 0, c == 0, a + b + c <= n, 2 * (a + c) > n, 2 * (b + c) > n)
    return s.check() == z3.unsat


def single_change_safe_for_all_n() -> bool:
    """Proof, for every n >= 1 at once: a majority of n voters and a majority of the same
    voters with one added (or, read backwards, one removed) always share a voter.

    With Q1 among the n old voters and Q2 among them plus the new one: |Q1| + |Q2 minus the new
    voter| <= n if disjoint, 2|Q1| > n, 2|Q2| > n + 1. Unsatisfiable.
    """
    n, q1, q2, new = z3.Ints("n q1 q2 new")
    s = z3.Solver()
    s.add(n >= 1, q1 >= 0, q2 >= 0, new >= 0, new <= 1, new <= q2,
          q1 + (q2 - new) <= n, 2 * q1 > n, 2 * q2 > n + 1)
    return s.check() == z3.unsat


def double_change_counterexample() -> tuple[int, int, int] | None:
    """For some n, adding two voters at once lets a majority of the n old voters and a
    majority of the n + 2 new ones be disjoint: the least such (n, |Q1|, |Q2|), or None."""
    n, q1, q2, added = z3.Ints("n q1 q2 added")
    opt = z3.Optimize()
    opt.add(n >= 1, q1 >= 0, q2 >= 0, added >= 0, added <= 2, added <= q2,
            q1 + (q2 - added) <= n, 2 * q1 > n, 2 * q2 > n + 2)
    opt.minimize(n)
    if opt.check() != z3.sat:
        return None
    m = opt.model()
    return m[n].as_long(), m[q1].as_long(), m[q2].as_long()
