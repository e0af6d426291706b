"""Step (``@transition``) properties: every engine checks each step, before and after.

A random graph with some "bad" edges is the oracle for the explicit engines (the shortest
counterexample ends with a bad edge out of the nearest state that has one); a small model in
the language makes bfs, dfs, batch, bmc and induction agree.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkacheck.checker import ExplicitSystem, check
from kafkacheck.checker.lang import Bool, Int, Model, action, always, require, transition
from kafkacheck.checker.symbolic.bmc import bmc
from kafkacheck.checker.symbolic.induction import prove_property

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def graphs_with_bad_edges(draw, max_nodes=12):
    n = draw(st.integers(1, max_nodes))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, st.sampled_from("ab")), max_size=3 * n))
    bad = draw(st.frozensets(st.sampled_from(edges), max_size=3)) if edges else frozenset()
    init = draw(st.lists(node, min_size=1, max_size=2))
    return n, edges, bad, init


def _system(edges, bad, init):
    adj: dict[int, list] = {}
    for u, v, lab in edges:
        adj.setdefault(u, []).append((lab, v))
    pairs = {(u, v) for u, v, _ in bad}
    return ExplicitSystem("g", init=init, next=lambda s: list(adj.get(s, ())),
                          transition={"good_steps": lambda s, t: (s, t) not in pairs},
                          encode=lambda s: s.to_bytes(2, "little"))


@SETTINGS
@given(graphs_with_bad_edges(), st.sampled_from(["bfs", "dfs"]))
def test_a_bad_step_is_found_and_bfs_finds_a_shortest(case, engine):
    n, edges, bad, init = case
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((u, v) for u, v, _ in edges)
    dist = nx.multi_source_dijkstra_path_length(g, set(init))
    pairs = {(u, v) for u, v, _ in bad}
    lengths = [dist[u] + 1 for u, v in pairs if u in dist]
    result = check(_system(edges, bad, init), engine=engine)
    if not lengths:
        assert result.verdict == "holds" and result.complete
        return
    assert result.verdict == "violated"
    v = result.violation
    assert v.kind == "transition" and v.property == "good_steps"
    raw = [s.raw for s in v.steps]
    assert (raw[-2], raw[-1]) in pairs, "the trace ends at the offending step"
    assert all((a, b) not in pairs for a, b in zip(raw[:-2], raw[1:-1]))
    if engine == "bfs":
        assert v.length == min(lengths)


class Counter(Model):
    name = "counter"

    def variables(m):
        return {"n": Int(0, 5), "busy": Bool}

    @action()
    def inc(m, s):
        require(s.n < 5)
        s.n = s.n + 1

    @action()
    def reset(m, s):
        require(s.n == 4)
        s.n = 2

    @action()
    def toggle(m, s):
        s.busy = ~s.busy

    @transition
    def never_down(m, s):
        """Refuted by reset: 4 -> 2."""
        return s.n >= s.pre.n

    @transition
    def small_steps(m, s):
        """Holds: no step adds more than one."""
        return s.n <= s.pre.n + 1

    @always
    def in_range(m, s):
        return s.n <= 5


def test_every_engine_finds_the_same_shortest_bad_step():
    system = Counter().compile()
    path = ["inc()"] * 4 + ["reset()"]
    results = {e: check(system, engine=e) for e in ("bfs", "batch")}
    results["bmc"] = bmc(system)
    for engine, r in results.items():
        assert r.verdict == "violated", engine
        r.assert_violation("never_down", length=5, path=path)
        assert r.violation.kind == "transition"
    assert results["batch"].note == ""  # the batch engine ran itself
    assert results["batch"].distinct_states == results["bfs"].distinct_states == 10
    assert results["batch"].states_generated == results["bfs"].states_generated == 17
    d = check(system, engine="dfs")
    assert d.violation.property == "never_down" and d.violation.action_path()[-1] == "reset()"


def test_a_step_property_that_holds_in_every_engine():
    system = Counter().compile()
    for engine in ("bfs", "dfs", "batch"):
        r = check(system, engine=engine, properties=["small_steps", "in_range"])
        assert r.verdict == "holds" and r.distinct_states == 12, engine
    r = bmc(system, properties=["small_steps"], max_depth=12)
    assert r.verdict == "holds"


def test_induction_proves_a_step_property_and_shows_the_step_that_breaks_one():
    system = Counter().compile()
    assert prove_property(system, "small_steps").outcome == "proved"
    r = prove_property(system, "never_down")
    assert r.outcome == "not_inductive"
    assert r.cti.action == "reset()" and r.cti.violated == "never_down"
    assert (r.cti.before["n"], r.cti.after["n"]) == (4, 2)
    r = prove_property(system, "never_down", base_depth=5)
    assert r.outcome == "refuted" and r.counterexample.length == 5


def test_a_step_property_true_of_every_pair_of_states_is_vacuous():
    class Trivial(Counter):
        @transition
        def tautology(m, s):
            return (s.n <= 5) | (s.pre.n > 7)
    system = Trivial().compile()
    r = check(system, properties=["tautology"])
    assert r.status() == {"tautology": "vacuous"}


def test_s_pre_in_a_state_predicate_is_refused_with_the_fix():
    import pytest
    from kafkacheck.checker.lang import TracingError

    class Bad(Counter):
        @always
        def confused(m, s):
            return s.n >= s.pre.n
    with pytest.raises(TracingError, match="make it a @transition property"):
        Bad().compile()
