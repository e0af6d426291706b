"""Liveness under fairness against an independent oracle, on random small graphs.

Hypothesis draws a labelled multigraph (labels are actions, each weakly, strongly or not
fair), initial nodes, and the nodes where ``p`` and ``q`` hold. The oracle decides
``eventually q`` and ``p leads_to q`` by brute force, with networkx: a fair lasso exists iff
some set of ``~q`` nodes, strongly connected through its own edges (or a single node, which
stutters), meets fairness, and is reachable through ``~q`` nodes from a trigger (an initial
``~q`` node for ``eventually``; any reachable node with ``p`` and ``~q`` for ``leads_to``).
No Tarjan, no Emerson-Lei: every subset is tried. Every lasso the engine prints is replayed
and checked: real edges from an initial state, ``q`` false from the trigger on, a loop that
returns to its start and is fair.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkacheck.checker import ExplicitSystem, check

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
LABELS = "abc"


@dataclass
class LiveGraph:
    n: int
    edges: list        # (u, v, label) in successor order
    init: list
    p: frozenset
    q: frozenset
    fair: dict         # label -> none / weak / strong

    def system(self, kind):
        adj: dict[int, list] = {}
        for u, v, label in self.edges:
            adj.setdefault(u, []).append((label, v))
        live = {"eventually": {"ev": lambda s: s in self.q}} if kind == "eventually" else \
            {"leads_to": {"lt": (lambda s: s in self.p, lambda s: s in self.q)}}
        return ExplicitSystem("g", init=self.init, next=lambda s: list(adj.get(s, ())),
                              fair=self.fair, encode=lambda s: s.to_bytes(2, "little"),
                              **live)

    # -- the oracle ------------------------------------------------------------------------
    def enabled(self, u) -> set:
        return {lab for a, b, lab in self.edges if a == u and b != u}

    def fair_set(self, nodes: set, edges: list) -> bool:
        """Whether a loop through exactly ``nodes`` taking every edge in ``edges`` (those
        inside, self-loops excluded) is fair."""
        taken = {lab for a, b, lab in edges if a != b}
        for lab, f in self.fair.items():
            if f == "weak" and lab not in taken and all(lab in self.enabled(u) for u in nodes):
                return False
            if f == "strong" and lab not in taken and any(lab in self.enabled(u)
                                                          for u in nodes):
                return False
        return True

    def violated(self, kind) -> bool:
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from((u, v) for u, v, _ in self.edges)
        reach = set()
        for i in self.init:
            reach |= {i} | nx.descendants(g, i)
        notq = [u for u in range(self.n) if u not in self.q and u in reach]
        sub = nx.DiGraph()
        sub.add_nodes_from(notq)
        sub.add_edges_from((u, v) for u, v, _ in self.edges if u in sub and v in sub)
        fair_nodes = set()
        for size in range(1, len(notq) + 1):
            for nodes in itertools.combinations(notq, size):
                s = set(nodes)
                if size > 1 and not nx.is_strongly_connected(sub.subgraph(s)):
                    continue
                inside = [(a, b, lab) for a, b, lab in self.edges if a in s and b in s]
                if self.fair_set(s, inside):
                    fair_nodes |= s
        triggers = [u for u in set(self.init) if u not in self.q] if kind == "eventually" \
            else [u for u in notq if u in self.p]
        return any(nx.has_path(sub, t, x) for t in triggers for x in fair_nodes)

    # -- checking a lasso --------------------------------------------------------------------
    def assert_lasso(self, trace, kind):
        raw = [s.raw for s in trace.steps]
        assert raw[0] in self.init
        edges = []
        for step, a, b in zip(trace.steps[1:], raw, raw[1:]):
            if step.action == "stutter":
                assert step is trace.steps[-1] and a == b
                continue
            assert (a, b, step.action) in self.edges
            edges.append((a, b, step.action))
        k = trace.loop
        assert 0 <= k < len(raw) - 1
        assert raw[-1] == raw[k], "the last step returns to the loop's first state"
        if kind == "eventually":
            assert all(s not in self.q for s in raw)
        else:
            assert any(raw[i] in self.p and all(s not in self.q for s in raw[i:])
                       for i in range(k + 1))
        loop_nodes = set(raw[k:])
        assert self.fair_set(loop_nodes, edges[k:]), "the loop is fair"


@st.composite
def live_graphs(draw, max_nodes=7):
    n = draw(st.integers(1, max_nodes))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, st.sampled_from(LABELS)), max_size=3 * n))
    init = draw(st.lists(node, min_size=1, max_size=2))
    p = draw(st.frozensets(node, max_size=n))
    q = draw(st.frozensets(node, max_size=n))
    fair = {lab: draw(st.sampled_from(["none", "weak", "strong"])) for lab in LABELS}
    return LiveGraph(n, edges, init, p, q, fair)


@SETTINGS
@given(live_graphs(), st.sampled_from(["eventually", "leads_to"]),
       st.sampled_from(["bfs", "dfs"]))
def test_liveness_agrees_with_brute_force(graph, kind, engine):
    name = "ev" if kind == "eventually" else "lt"
    result = check(graph.system(kind), engine=engine, properties=[name])
    expected = graph.violated(kind)
    assert result.verdict == ("violated" if expected else "holds"), graph
    if expected:
        assert result.violation.kind == kind and result.violation.is_lasso
        graph.assert_lasso(result.violation, kind)
    else:
        assert result.complete


@SETTINGS
@given(live_graphs(), st.sampled_from(["eventually", "leads_to"]))
def test_bfs_and_dfs_give_the_same_lasso(graph, kind):
    name = "ev" if kind == "eventually" else "lt"
    a = check(graph.system(kind), engine="bfs", properties=[name])
    b = check(graph.system(kind), engine="dfs", properties=[name])
    assert a.verdict == b.verdict
    if a.violation is not None:
        assert a.violation.action_path() == b.violation.action_path()
        assert a.violation.loop == b.violation.loop


@SETTINGS
@given(live_graphs())
def test_more_fairness_never_adds_a_violation(graph):
    """Strong fairness implies weak, and weak implies none: fewer fair behaviours."""
    verdicts = [check(graph.system("leads_to"), properties=["lt"], fairness=f).verdict
                for f in ("none", "weak", "strong")]
    order = {"holds": 0, "violated": 1}
    assert order[verdicts[0]] >= order[verdicts[1]] >= order[verdicts[2]]


def test_without_fairness_the_behaviour_may_stop_at_once():
    # 0 -a-> 1, q holds in 1: without fairness the behaviour stutters in 0 forever
    g = LiveGraph(2, [(0, 1, "a")], [0], frozenset(), frozenset({1}), {"a": "none"})
    r = check(g.system("eventually"), properties=["ev"])
    assert r.verdict == "violated"
    assert r.violation.action_path() == ["stutter"] and r.violation.loop == 0
    g.fair["a"] = "weak"
    assert check(g.system("eventually"), properties=["ev"]).verdict == "holds"


def test_weak_fairness_is_not_enough_for_an_intermittent_action():
    # 0 <-> 1 by b (weakly fair); a leaves 1 for the goal 2 but is enabled in 1 only
    edges = [(0, 1, "b"), (1, 0, "b"), (1, 2, "a")]
    g = LiveGraph(3, edges, [0], frozenset(), frozenset({2}), {"a": "weak", "b": "weak"})
    r = check(g.system("eventually"), properties=["ev"])
    assert r.verdict == "violated"
    assert r.violation.action_path() == ["b", "b"] and r.violation.loop == 0
    g.fair["a"] = "strong"
    assert check(g.system("eventually"), properties=["ev"]).verdict == "holds"


def test_liveness_is_left_out_unless_asked_and_named_in_the_result():
    g = LiveGraph(2, [(0, 1, "a")], [0], frozenset(), frozenset({1}), {"a": "none"})
    r = check(g.system("eventually"))
    assert r.verdict == "holds" and r.unchecked == ["ev"] and r.liveness is None
    r = check(g.system("eventually"), liveness=True)
    assert r.verdict == "violated" and r.unchecked == []


def test_liveness_with_a_depth_bound_is_refused():
    g = LiveGraph(2, [(0, 1, "a")], [0], frozenset(), frozenset({1}), {"a": "none"})
    with pytest.raises(ValueError, match="whole reachable graph"):
        check(g.system("eventually"), properties=["ev"], max_depth=3)


# -- fairness in the modeling language -------------------------------------------------------

from kafkacheck.checker.lang import Bool, Int, Model, action, eventually, require  # noqa: E402


class Blinker(Model):
    """``go`` reaches the goal but is enabled only while ``lit``; ``blink`` toggles ``lit``."""

    name = "blinker"

    def variables(m):
        return {"lit": Bool, "done": Bool}

    @action(fair="weak")
    def blink(m, s):
        require(~s.done)
        s.lit = ~s.lit

    @action(fair="weak")
    def go(m, s):
        require(s.lit & ~s.done)
        s.done = True

    @eventually
    def finishes(m, s):
        return s.done


def test_weak_fairness_of_an_intermittent_action_is_not_enough_and_strong_is():
    system = Blinker().compile()
    r = check(system, properties=["finishes"])
    assert r.verdict == "violated"
    assert r.violation.action_path() == ["blink()", "blink()"] and r.violation.loop == 0
    assert check(system, properties=["finishes"], fairness="strong").verdict == "holds"
    assert check(system, properties=["finishes"], fairness="none").violation.action_path() == \
        ["stutter"]


def test_exact_and_fingerprint_storage_give_the_same_lasso():
    system = Blinker().compile()
    a = check(system, properties=["finishes"], exact=True)
    b = check(system, properties=["finishes"])
    assert a.violation.action_path() == b.violation.action_path() and a.fingerprints == "exact"


class Sessions(Model):
    """A session expires: owed only when its holder is dead (fair_when)."""

    name = "sessions"

    def variables(m):
        return {"alive": Bool, "registered": Bool, "count": Int(0, 2)}

    def init(m, s):
        s.alive = True
        s.registered = True

    @action()
    def crash(m, s):
        require(s.alive)
        s.alive = False

    @action(fair="weak", fair_when=lambda m, s: ~s.alive)
    def expire(m, s):
        require(s.registered)
        s.registered = False

    @action(fair="weak")
    def heartbeat(m, s):
        require(s.alive & (s.count < 2))
        s.count = s.count + 1

    @action(fair="weak")
    def reset(m, s):
        require(s.alive & (s.count == 2))
        s.count = 0

    @eventually
    def dead_or_expired(m, s):
        """Fails: a live broker's session need not expire (the loop heartbeats), and the
        dead one's must."""
        return ~s.registered


def test_fair_when_makes_only_part_of_an_action_fair():
    system = Sessions().compile()
    r = check(system, properties=["dead_or_expired"])
    assert r.verdict == "violated"
    v = r.violation
    # the loop is the live broker heartbeating: expire is enabled all along but, the broker
    # being alive, not owed
    assert all(s.state["alive"] for s in v.steps)
    assert set(v.action_path()[v.loop:]) <= {"heartbeat()", "reset()"}
    # a dead broker's session is owed its expiry
    dead = Sessions()
    dead.init = lambda s: (setattr(s, "alive", False), setattr(s, "registered", True))
    assert check(dead.compile(), properties=["dead_or_expired"]).verdict == "holds"


def test_a_step_out_of_the_state_constraint_counts_as_enabled_but_is_not_explored():
    # 0 -a-> 1, with 1 outside the constraint: a weakly fair a must be taken, and taking it
    # leaves the explored space, so no fair behaviour stays in 0 (holds within the bound)
    system = ExplicitSystem("g", init=[0], next=lambda s: [("a", 1)] if s == 0 else [],
                            constraints={"inside": lambda s: s == 0},
                            eventually={"ev": lambda s: False}, fair={"a": "weak"})
    r = check(system, properties=["ev"])
    assert r.verdict == "holds" and r.distinct_states == 1
    r = check(system, properties=["ev"], fairness="none")
    assert r.verdict == "violated" and r.violation.action_path() == ["stutter"]
