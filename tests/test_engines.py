"""The explicit engines against an independent oracle: networkx on random small graphs.

Hypothesis draws a directed multigraph with labelled edges, some initial nodes and some
"bad" / "good" nodes; the graph becomes a plain-Python ``ExplicitSystem`` (states are ints
or tuples) and every answer of ``bfs`` / ``dfs`` is recomputed with networkx: the reachable
set, BFS layers, shortest distances to the nearest bad node, sinks for deadlock detection.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkacheck.checker import ExplicitSystem, bfs, check, dfs

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Graph:
    n: int
    edges: list          # (u, v, label) in successor order
    init: list           # may repeat a node: the engines must deduplicate
    marked: frozenset    # "bad" for invariants, "good" for sometimes-properties
    tuples: bool         # states are (i % 3, i // 3) tuples rather than ints

    # -- encoding nodes as states ---------------------------------------------------------
    def state(self, i):
        return (i % 3, i // 3) if self.tuples else i

    def node(self, state):
        return state[0] + 3 * state[1] if self.tuples else state

    # -- the oracle ---------------------------------------------------------------------
    def nx(self) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(self.n))
        for u, v, label in self.edges:
            g.add_edge(u, v, label=label)
        return g

    def reachable(self, g=None) -> set:
        g = self.nx() if g is None else g
        out = set()
        for i in self.init:
            out |= {i} | nx.descendants(g, i)
        return out

    def distances(self, g=None) -> dict:
        g = self.nx() if g is None else g
        return nx.multi_source_dijkstra_path_length(g, set(self.init))

    def layers(self) -> list[list]:
        return list(nx.bfs_layers(self.nx(), list(dict.fromkeys(self.init))))

    # -- the system under test ----------------------------------------------------------
    def system(self, *, invariant=False, sometimes=False, deadlock=False, constraint=None):
        adj: dict[int, list] = {}
        for u, v, label in self.edges:
            adj.setdefault(u, []).append((label, self.state(v)))
        marked = self.marked

        def nxt(state):
            return list(adj.get(self.node(state), ()))
        props = {}
        if invariant:
            props["always"] = {"safe": lambda s: self.node(s) not in marked}
        if sometimes:
            props["sometimes"] = {"reach": lambda s: self.node(s) in marked}
        if constraint is not None:
            props["constraints"] = {"bounded": lambda s: self.node(s) not in constraint}
        # states are fingerprinted through an injective encoding of their node number
        return ExplicitSystem("graph", init=[self.state(i) for i in self.init], next=nxt,
                              check_deadlock=deadlock,
                              encode=lambda s: self.node(s).to_bytes(2, "little"), **props)

    def is_edge(self, s, label, t) -> bool:
        return (self.node(s), self.node(t), label) in set(self.edges)


@st.composite
def graphs(draw, max_nodes=20):
    n = draw(st.integers(1, max_nodes))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, st.sampled_from("abc")), max_size=3 * n))
    init = draw(st.lists(node, min_size=1, max_size=3))
    marked = draw(st.frozensets(node, max_size=max(1, n // 3)))
    return Graph(n, edges, init, marked, draw(st.booleans()))


def assert_replays(graph: Graph, trace):
    """The trace starts in an initial state and each step follows a real edge."""
    raw = [step.raw for step in trace.steps]
    assert graph.node(raw[0]) in graph.init
    assert trace.steps[0].action == "init"
    for step, before, after in zip(trace.steps[1:], raw, raw[1:]):
        assert graph.is_edge(before, step.action, after), (before, step.action, after)
    # what a person sees is what the engine stored
    assert [s.state for s in trace.steps] == [{"state": r} for r in raw]


def nearest(dist: dict, targets) -> int | None:
    found = [dist[t] for t in targets if t in dist]
    return min(found) if found else None


# -- reachability ------------------------------------------------------------------------

@SETTINGS
@given(graphs(), st.sampled_from(["bfs", "dfs"]), st.booleans())
def test_reachable_states_are_networkx_descendants(graph, engine, exact):
    result = check(graph.system(), engine=engine, exact=exact)
    reach = graph.reachable()
    assert result.verdict == "holds"
    assert result.complete and result.stop_reason is None and result.bound == {}
    assert result.distinct_states == len(reach)
    # every expanded state contributes its out-degree (parallel edges included)
    g = graph.nx()
    assert result.states_generated == sum(g.out_degree(u) for u in reach)
    assert result.fingerprints == ("exact" if exact else "64-bit")
    if exact:
        assert result.collision_probability == 0.0
    elif len(reach) > 1:
        assert result.collision_probability > 0.0


@SETTINGS
@given(graphs())
def test_bfs_levels_match_networkx_layers(graph):
    result = bfs(graph.system())
    layers = graph.layers()
    assert result.states_per_depth == [len(layer) for layer in layers]
    assert result.depth == len(layers) - 1


@SETTINGS
@given(graphs())
def test_coverage_sums_to_the_state_counts(graph):
    for engine in (bfs, dfs):
        result = engine(graph.system())
        assert sum(c.fired for c in result.coverage) == result.states_generated
        assert sum(c.new_states for c in result.coverage) == \
            result.distinct_states - len(set(graph.init))
        # per label, `fired` counts the reachable edges carrying it
        reach = graph.reachable()
        expected = Counter(label for u, _, label in graph.edges if u in reach)
        assert {c.action: c.fired for c in result.coverage} == dict(expected)


# -- invariants: verdicts, shortest counterexamples, replay ------------------------------------

@SETTINGS
@given(graphs(), st.booleans())
def test_bfs_counterexample_is_a_shortest_path_to_a_bad_node(graph, exact):
    result = bfs(graph.system(invariant=True), exact=exact)
    shortest = nearest(graph.distances(), graph.marked)
    if shortest is None:
        result.assert_holds()
        assert result.distinct_states == len(graph.reachable())
        return
    result.assert_violation("safe", length=shortest)
    trace = result.violation
    assert trace.kind == "always" and not result.complete
    assert_replays(graph, trace)
    assert graph.node(trace.steps[-1].raw) in graph.marked
    assert all(graph.node(s.raw) not in graph.marked for s in trace.steps[:-1])


@SETTINGS
@given(graphs(), st.booleans())
def test_bfs_and_dfs_agree(graph, exact):
    b = bfs(graph.system(invariant=True), exact=exact)
    d = dfs(graph.system(invariant=True), exact=exact)
    assert b.verdict == d.verdict
    if b.verdict == "holds":
        assert b.distinct_states == d.distinct_states == len(graph.reachable())
        assert b.states_generated == d.states_generated
    else:
        # DFS finds a valid counterexample, never a shorter one than BFS
        assert d.violation.property == "safe"
        assert_replays(graph, d.violation)
        assert graph.node(d.violation.steps[-1].raw) in graph.marked
        assert d.violation.length >= b.violation.length


@SETTINGS
@given(graphs(), st.sampled_from([bfs, dfs]))
def test_exact_and_fingerprint_modes_agree(graph, engine):
    a = engine(graph.system(invariant=True), exact=True)
    b = engine(graph.system(invariant=True), exact=False)
    assert (a.verdict, a.distinct_states, a.states_generated, a.depth, a.states_per_depth) == \
        (b.verdict, b.distinct_states, b.states_generated, b.depth, b.states_per_depth)
    assert a.violation == b.violation


@SETTINGS
@given(graphs())
def test_deadlock_detection_finds_the_nearest_sink(graph):
    g = graph.nx()
    sinks = [u for u in graph.reachable() if g.out_degree(u) == 0]
    for engine in (bfs, dfs):
        result = engine(graph.system(deadlock=True))
        if not sinks:
            result.assert_holds()
            continue
        result.assert_violation("deadlock")
        trace = result.violation
        assert trace.kind == "deadlock"
        assert_replays(graph, trace)
        assert g.out_degree(graph.node(trace.steps[-1].raw)) == 0
        if engine is bfs:
            assert trace.length == nearest(graph.distances(), sinks)
    # off by default: the same graph holds without deadlock checking
    bfs(graph.system()).assert_holds()


@SETTINGS
@given(graphs())
def test_constraint_states_are_checked_but_never_stored(graph):
    """TLC's CONSTRAINT: a successor outside it is generated and its invariants checked, but
    it is not stored, expanded or counted as distinct (an initial state is always stored)."""
    fenced = graph.marked
    g = graph.nx()
    g.remove_edges_from([(u, v, k) for u, v, k in g.edges(keys=True) if u in fenced])
    reached = graph.reachable(g)
    expected = set(graph.init) | (reached - fenced)
    for engine in (bfs, dfs):
        result = engine(graph.system(constraint=fenced))
        assert result.verdict == "holds"
        assert result.distinct_states == len(expected)
    # the invariant "not marked" is checked on the fenced (marked) successors as well
    result = bfs(graph.system(invariant=True, constraint=fenced))
    if reached & fenced:
        assert result.verdict == "violated" and result.violation.property == "safe"
        assert result.violation.length == nearest(graph.distances(g), fenced)
        assert_replays(graph, result.violation)
    else:
        assert result.verdict == "holds"


# -- sometimes-properties ------------------------------------------------------------------

@SETTINGS
@given(graphs())
def test_sometimes_gives_a_shortest_example_or_a_violation(graph):
    result = bfs(graph.system(sometimes=True))
    shortest = nearest(graph.distances(), graph.marked)
    if shortest is None:
        # nothing reaches it: refuted only after the whole space was explored
        assert result.verdict == "violated" and result.complete
        assert result.violation.property == "reach"
        assert result.violation.kind == "sometimes"
        assert result.distinct_states == len(graph.reachable())
        assert result.examples == {}
    else:
        assert result.verdict == "holds" and result.complete
        result.assert_example("reach", length=shortest)
        example = result.examples["reach"]
        assert example.kind == "sometimes"
        assert_replays(graph, example)
        assert graph.node(example.steps[-1].raw) in graph.marked
        # finding an example does not stop the search
        assert result.distinct_states == len(graph.reachable())


# -- bounds and limits ------------------------------------------------------------------------

@SETTINGS
@given(graphs(), st.integers(0, 6))
def test_max_depth_is_a_bounded_holds(graph, bound):
    result = bfs(graph.system(invariant=True), max_depth=bound)
    layers = graph.layers()
    shortest = nearest(graph.distances(), graph.marked)
    if shortest is not None and shortest <= bound:
        result.assert_violation("safe", length=shortest)
        return
    assert result.verdict == "holds"
    assert result.states_per_depth == [len(layer) for layer in layers[:bound + 1]]
    assert result.distinct_states == sum(map(len, layers[:bound + 1]))
    if len(layers) > bound:
        # states at the bound were not expanded: a bounded answer, and it says so
        assert not result.complete
        assert result.bound == {"max_depth": bound}
        assert result.depth == bound
        with pytest.raises(AssertionError):
            result.assert_holds()
    else:
        assert result.bound == {}
        result.assert_holds()


@SETTINGS
@given(graphs(), st.integers(0, 4))
def test_max_depth_with_an_unreached_sometimes_is_incomplete(graph, bound):
    result = bfs(graph.system(sometimes=True), max_depth=bound)
    dist = nearest(graph.distances(), graph.marked)
    layers = graph.layers()
    if dist is not None and dist <= bound:
        result.assert_example("reach", length=dist)
        assert result.verdict == "holds"
    elif len(layers) > bound:
        # not found within the bound: that is not a refutation
        assert result.verdict == "incomplete" and result.stop_reason == "max_depth"
        assert result.violation is None
    else:
        assert result.verdict == "violated" and result.complete


def grid(side=80):
    """A side x side grid walked right and up: side**2 states, no violations."""
    def nxt(p):
        x, y = p
        out = []
        if x + 1 < side:
            out.append(("right", (x + 1, y)))
        if y + 1 < side:
            out.append(("up", (x, y + 1)))
        return out
    return ExplicitSystem("grid", init=[(0, 0)], next=nxt,
                          always={"inside": lambda p: p[0] < side and p[1] < side})


@pytest.mark.parametrize("engine", ["bfs", "dfs"])
def test_full_grid_for_reference(engine):
    result = check(grid(), engine=engine)
    result.assert_holds()
    assert result.distinct_states == 80 * 80
    assert result.states_generated == 2 * 80 * 79


@pytest.mark.parametrize("engine", ["bfs", "dfs"])
def test_max_states_stops_with_an_incomplete_verdict(engine):
    result = check(grid(), engine=engine, max_states=2000)
    assert result.verdict == "incomplete"
    assert result.stop_reason == "max_states"
    assert not result.complete and result.violation is None
    assert result.distinct_states == 2000  # stops at exactly the limit
    with pytest.raises(AssertionError):
        result.assert_holds()


@SETTINGS
@given(graphs(), st.sampled_from(["bfs", "dfs"]), st.integers(1, 30))
def test_max_states_is_exact_and_a_space_that_fits_is_complete(graph, engine, limit):
    result = check(graph.system(), engine=engine, max_states=limit)
    reach = len(graph.reachable())
    if reach <= limit:
        result.assert_holds()
        assert result.distinct_states == reach
    else:
        assert result.stop_reason == "max_states" and result.distinct_states == limit


@SETTINGS
@given(graphs(), st.integers(0, 6), st.booleans())
def test_depth_bounded_dfs_agrees_with_bfs_and_stays_within_the_bound(graph, bound, exact):
    # an initial state reached again as a successor, and a state first found by a long path
    # then by a shorter one, both re-link the state to the shorter path
    want = bfs(graph.system(invariant=True), max_depth=bound, exact=exact)
    got = dfs(graph.system(invariant=True), max_depth=bound, exact=exact)
    assert got.verdict == want.verdict
    if got.violation is not None:
        assert got.violation.length <= bound
        assert_replays(graph, got.violation)
    else:
        assert got.distinct_states == want.distinct_states
    sometimes = dfs(graph.system(sometimes=True), max_depth=bound, exact=exact)
    for trace in sometimes.examples.values():
        assert trace.length <= bound
        assert_replays(graph, trace)


@pytest.mark.parametrize("engine", ["bfs", "dfs"])
def test_time_limit_stops_with_an_incomplete_verdict(engine):
    result = check(grid(), engine=engine, time_limit=0)
    assert result.verdict == "incomplete"
    assert result.stop_reason == "time_limit"
    assert not result.complete and result.violation is None
    assert result.distinct_states < 80 * 80


def test_bfs_progress_reports_are_optional_and_do_not_change_results():
    seen = []
    a = bfs(grid(), progress=seen.append)
    b = bfs(grid())
    assert (a.distinct_states, a.states_per_depth) == (b.distinct_states, b.states_per_depth)
    for report in seen:
        assert {"distinct", "queue", "depth", "seconds", "states_per_second"} <= set(report)


# -- determinism ---------------------------------------------------------------------------

def _summary(result):
    def trace(t):
        return t and (t.property, t.kind, t.note, t.steps, [s.raw for s in t.steps])
    return (result.verdict, result.complete, result.distinct_states, result.states_generated,
            result.depth, result.states_per_depth, result.coverage, result.stop_reason,
            trace(result.violation), {k: trace(v) for k, v in result.examples.items()})


@SETTINGS
@given(graphs(), st.sampled_from([bfs, dfs]))
def test_two_runs_give_identical_results_and_traces(graph, engine):
    a = engine(graph.system(invariant=True, deadlock=True))
    b = engine(graph.system(invariant=True, deadlock=True))
    assert _summary(a) == _summary(b)
    c = engine(graph.system(sometimes=True))
    d = engine(graph.system(sometimes=True))
    assert _summary(c) == _summary(d)


# -- small fixed cases and misuse ------------------------------------------------------------

def test_initial_state_violation_has_a_zero_step_trace():
    system = ExplicitSystem("s", init=[5, 0], next=lambda n: [],
                            always={"small": lambda n: n < 5})
    result = bfs(system)
    result.assert_violation("small", length=0, path=[])
    assert result.violation.steps[0].raw == 5


def test_duplicate_initial_states_are_counted_once():
    system = ExplicitSystem("s", init=[0, 0, 1], next=lambda n: [("stay", n)])
    result = bfs(system)
    assert result.distinct_states == 2
    assert result.states_per_depth == [2]
    assert result.states_generated == 2


def test_counter_violation_path():
    counter = ExplicitSystem("counter", init=[0],
                             next=lambda n: [("inc", n + 1)] if n < 5 else [],
                             always={"below_four": lambda n: n < 4})
    result = bfs(counter)
    result.assert_violation("below_four", length=4, path=["inc"] * 4)
    assert result.violation.final_state == {"state": 4}


def test_bad_engine_option_and_property_names():
    system = grid(3)
    with pytest.raises(ValueError, match="unknown engine 'nope'"):
        check(system, engine="nope")
    with pytest.raises(TypeError, match="max_dpeth"):
        bfs(system, max_dpeth=3)
    with pytest.raises(ValueError, match="unknown property 'no_such_property'"):
        bfs(system, properties=["no_such_property"])


def test_only_the_chosen_properties_are_checked():
    system = ExplicitSystem("s", init=[0], next=lambda n: [("inc", n + 1)] if n < 3 else [],
                            always={"a": lambda n: n < 2, "b": lambda n: n < 1})
    bfs(system, properties=["a"]).assert_violation("a", length=2)
    bfs(system).assert_violation("b", length=1)
    result = bfs(system, properties=[])
    result.assert_holds()
    assert result.properties == []


def test_bounded_dfs_reexpands_a_state_reached_by_a_shorter_path():
    # s -> a -> b -> c and s -> d -> c; c -> bad. DFS follows the long path first, so c is
    # first seen at depth 3; the bound 3 must still find bad via s, d, c.
    edges = {"s": ["a", "d"], "a": ["b"], "b": ["c"], "d": ["c"], "c": ["bad"], "bad": []}
    system = ExplicitSystem("detour", init=["s"],
                            next=lambda n: [(f"{n}->{m}", m) for m in edges[n]],
                            always={"not_bad": lambda n: n != "bad"})
    assert bfs(system, max_depth=3).verdict == "violated"
    result = dfs(system, max_depth=3)
    assert result.verdict == "violated"
    steps = [s.state["state"] for s in result.violation.steps]
    assert steps[-1] == "bad" and all(b in edges[a] for a, b in zip(steps, steps[1:]))


def test_max_states_stops_at_the_limit_on_a_small_space():
    system = ExplicitSystem("line", init=[0], next=lambda n: [("inc", n + 1)] if n < 50 else [],
                            always={"ok": lambda n: True})
    for engine in (bfs, dfs):
        result = engine(system, max_states=10)
        assert result.verdict == "incomplete" and result.stop_reason == "max_states"
        assert result.distinct_states <= 11


def test_progress_reports_statistics(monkeypatch):
    import kafkacheck.checker.explicit as explicit
    monkeypatch.setattr(explicit, "_PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(explicit, "_CHECK_EVERY", 1)
    reports = []
    system = ExplicitSystem("line", init=[0], next=lambda n: [("inc", n + 1)] if n < 20 else [],
                            always={"ok": lambda n: True})
    result = bfs(system, progress=reports.append)
    assert result.verdict == "holds" and len(reports) >= 10
    assert {"distinct", "queue", "depth", "seconds", "states_per_second"} <= set(reports[-1])
    assert [r["distinct"] for r in reports] == sorted(r["distinct"] for r in reports)
    assert bfs(system).distinct_states == 21  # no callback: silent and the same


def test_a_plain_python_system_without_an_encoding_is_stored_exactly():
    system = ExplicitSystem("counter", init=[0], next=lambda n: [("inc", n + 1)] if n < 3 else [])
    result = check(system)
    assert (result.fingerprints, result.collision_probability, result.distinct_states) == \
        ("exact", 0.0, 4)
