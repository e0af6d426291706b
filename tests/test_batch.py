"""The batch engine against the reference: every check file's record (made with ``bfs``),
and random models in the modeling language, with bfs run beside it."""

from __future__ import annotations

import pytest

from kafkacheck.checker.cli.checking import Run
from kafkacheck.checker.cli.targets import Target, builtin_specs, resolve
from kafkacheck.checker.specfile import mismatches

# The larger check files already run with batch in test_checks.py (the default engine, with
# fingerprints); here the ones test_checks.py runs with bfs and exact storage.
EXACT_LIMIT = 200_000
FAST = [s for s in builtin_specs()
        if not s.slow and (s.expect.distinct_states or 0) <= EXACT_LIMIT]


def run_batch(spec):
    target = Target(spec.name, resolve(spec.name).model_class, spec)
    return Run(target, {}, (), (), "batch", None, None, None, False, False).execute()


@pytest.mark.parametrize("spec", FAST, ids=lambda s: s.name)
def test_batch_gives_the_records_of_bfs(spec):
    result = run_batch(spec)
    assert result.engine == "batch", result.note
    assert mismatches(spec, result) == []


LIVE = [s for s in FAST if any(k in ("eventually", "leads_to") for n, k, _ in
                               resolve(s.name).model_class.property_names()
                               if n in (s.properties or ()))]


@pytest.mark.parametrize("spec", LIVE, ids=lambda s: s.name)
def test_batch_builds_the_liveness_graph_of_the_per_state_builder(spec):
    """Field by field: the same states in the same order, the same edges, predicates and
    fairness conditions, so the same lassos; recorded by the batch search."""
    target = Target(spec.name, resolve(spec.name).model_class, spec)
    _, system = target.system({}, ())
    names = list(spec.properties)
    assert _same_graphs(system, names) > 0


# -- random models in the modeling language -------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kafkacheck.checker import check  # noqa: E402
from kafkacheck.checker.lang import (Bool, Domain, Int, Map, Maybe, Model, Set, action,  # noqa: E402
                                     always, constraint, count_of, ite, maximum, minimum,
                                     require, sometimes, transition, when)

# Each template is one action over an element d of the domain; ``c`` is a drawn constant.
# Between them they use every operator: dynamic indexing (x[p]), sets, least, size, count,
# ite, min/max, and updates that can leave their range (a type_ok violation).
TEMPLATES = [
    lambda m, s, d, c: (require(s.x[d] < c), s.x.__setitem__(d, s.x[d] + 1)),
    lambda m, s, d, c: s.x.__setitem__(d, maximum(s.x[d] - c, 0)),
    lambda m, s, d, c: (require(~s.s.contains(d)), s.__setattr__("s", s.s | d)),
    lambda m, s, d, c: (require(s.s.size() >= c % 3), s.__setattr__("s", s.s - d)),
    lambda m, s, d, c: s.__setattr__("p", s.s.least()),
    lambda m, s, d, c: (require(s.p.is_some()),
                        s.x.__setitem__(d, ite(s.x[s.p] > s.x[d], minimum(s.x[d] + c, 3),
                                               s.x[d]))),
    lambda m, s, d, c: s.x.__setitem__(d, s.x[d] + c),  # may leave 0..3: type_ok
    lambda m, s, d, c: _flag(s, c),
    lambda m, s, d, c: (require(count_of(m.d, lambda e: s.x[e] > 0) >= c % 4),
                        s.__setattr__("p", d)),
    lambda m, s, d, c: (require(s.p == d), s.__setattr__("p", None),
                        s.__setattr__("s", s.s & {m.d.of(0), m.d.of(c % 3)})),
]


def _action(t, c):
    def act(m, s, d):
        TEMPLATES[t](m, s, d, c)
    return act


def _flag(s, c):
    with when(s.s.size() >= c % 4):
        s.flag = ~s.flag


def random_model(actions, props, deadlock):
    ns = {"name": "random", "check_deadlock": deadlock,
          "setup": lambda m: setattr(m, "d", Domain("d", size=3)),
          "variables": lambda m: {"x": Map(m.d, Int(0, 3)), "s": Set(m.d),
                                  "p": Maybe(m.d), "flag": Bool},
          "init": _init}
    for k, (t, c) in enumerate(actions):
        ns[f"a{k}"] = action("d")(_action(t, c))
    kind, c = props
    if kind & 1:
        ns["bounded"] = always(_prop(lambda m, s: ~(s.flag & (s.s.size() == c % 4))))
    if kind & 2:
        ns["reach"] = sometimes(_prop(lambda m, s: s.x[m.d.of(c % 3)] == c % 4))
    if kind & 4:
        ns["small"] = constraint(_prop(lambda m, s: s.x[m.d.of((c + 1) % 3)] <= 2))
    if kind & 8:  # a step property: one counter never goes down
        ns["grows"] = transition(_prop(lambda m, s: s.x[m.d.of(c % 3)] >=
                                       s.pre.x[m.d.of(c % 3)]))
    return type("Random", (Model,), ns)


def _prop(fn):
    def prop(m, s):
        return fn(m, s)
    return prop


def _init(m, s):
    for e in m.d:
        s.x[e] = 0
    s.s = set()
    s.p = None
    s.flag = False


def _summary(r):
    return (r.verdict, r.distinct_states, r.states_generated, r.depth, r.states_per_depth,
            r.violation and (r.violation.property, r.violation.action_path()),
            {k: v.action_path() for k, v in r.examples.items()},
            [(c.fired, c.new_states) for c in r.coverage], r.stop_reason)


models = st.tuples(
    st.lists(st.tuples(st.integers(0, len(TEMPLATES) - 1), st.integers(0, 3)),
             min_size=1, max_size=6),
    st.tuples(st.integers(0, 15), st.integers(0, 5)), st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(models, st.sampled_from([None, 1, 3]), st.sampled_from([None, 5, 40]))
def test_batch_equals_bfs_on_random_models(model, max_depth, max_states):
    system = random_model(*model)().compile()
    ref = check(system, engine="bfs", max_depth=max_depth, max_states=max_states)
    got = check(system, engine="batch", max_depth=max_depth, max_states=max_states)
    assert got.engine == "batch", got.note
    assert _summary(got) == _summary(ref)


def test_a_plain_python_system_falls_back_to_bfs_with_a_note():
    from kafkacheck.checker import ExplicitSystem
    system = ExplicitSystem("counter", init=[0],
                            next=lambda n: [("inc", n + 1)] if n < 3 else [])
    result = check(system, engine="batch")
    assert result.engine == "bfs" and "plain Python" in result.note
    assert result.distinct_states == 4


def test_the_state_limit_among_initial_states_matches_bfs():
    from kafkacheck.checker.lang import choose

    class Many(Model):
        name = "many"

        def variables(m):
            return {"x": Int(0, 9)}

        def init(m, s):
            s.x = choose(range(10), name="x0")

        @action()
        def step(m, s):
            s.x = minimum(s.x + 1, 9)

    system = Many().compile()
    for limit in (3, 10, 11):
        ref, got = (check(system, engine=e, max_states=limit) for e in ("bfs", "batch"))
        assert got.engine == "batch"
        assert _summary(got) == _summary(ref)


def test_a_trace_from_an_initial_state_beyond_a_16_bit_index():
    """Parent links are 2-byte ranks, but an initial state's index can be larger."""
    from kafkacheck.checker.lang import always, choose

    class Wide(Model):
        name = "wide"

        def variables(m):
            return {"a": Int(0, 199), "b": Int(0, 199), "c": Int(0, 3)}

        def init(m, s):
            s.a = choose(range(200), name="a")
            s.b = choose(range(200), name="b")

        @action()
        def step(m, s):
            require(s.c < 3)
            s.c = s.c + 1

        @always
        def not_last(m, s):
            return ~((s.a == 199) & (s.b == 199) & (s.c == 3))

    system = Wide().compile()
    ref, got = (check(system, engine=e) for e in ("bfs", "batch"))
    assert got.engine == "batch" and _summary(got) == _summary(ref)
    assert got.violation.steps[0].state["a"] == 199 and got.violation.length == 3


def test_a_swap_reads_the_old_values():
    class Swap(Model):
        name = "swap"

        def variables(m):
            return {"x": Int(0, 3), "y": Int(0, 3)}

        def init(m, s):
            s.x = 1
            s.y = 2

        @action()
        def swap(m, s):
            s.x, s.y = s.y, s.x

        @action()
        def bump(m, s):
            s.x = minimum(s.x + 1, 3)

    system = Swap().compile()
    ref, got = (check(system, engine=e) for e in ("bfs", "batch"))
    assert got.engine == "batch"
    assert _summary(got) == _summary(ref)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2 ** 64 - 1), max_size=300), max_size=8),
       st.booleans())
def test_the_fingerprint_table_is_a_set(batches, narrow):
    """add_new answers "not seen before" exactly as a Python set would, through growth, key
    0 (stored as 1), and keys crowded into a few home slots."""
    import numpy as np
    from kafkacheck.checker.batch.hashset import FingerprintSet
    table, seen = FingerprintSet(capacity=8), set()
    for batch in batches:
        keys = [k % 64 if narrow else k for k in dict.fromkeys(batch)]
        keys = list(dict.fromkeys(keys))
        fresh = table.add_new(np.array(keys, dtype=np.uint64))
        want = []
        for k in keys:
            want.append((k or 1) not in seen)
            seen.add(k or 1)
        assert list(fresh) == want
    assert table.count == len(seen)


# -- random models with liveness properties and fairness ------------------------------------
from kafkacheck.checker.lang import eventually, leads_to  # noqa: E402


def live_model(actions, props):
    ns = dict(vars(random_model([], (0, 0), False)))
    ns = {k: v for k, v in ns.items() if k in ("name", "setup", "variables", "init")}
    for k, (t, c, fair, part) in enumerate(actions):
        when_ = (lambda m, s, d: s.x[d] < 2) if part else None
        ns[f"a{k}"] = action("d", fair=fair, fair_when=when_)(_action(t, c))
    kind, c = props
    if kind & 1:
        ns["lt"] = leads_to(_prop(lambda m, s: (s.x[m.d.of(c % 3)] == c % 4, s.flag)))
    if kind & 2 or not kind & 1:
        ns["ev"] = eventually(_prop(lambda m, s: s.s.size() == c % 4))
    if kind & 4:
        ns["small"] = constraint(_prop(lambda m, s: s.x[m.d.of((c + 1) % 3)] <= 2))
    return type("RandomLive", (Model,), ns)


live_models = st.tuples(
    st.lists(st.tuples(st.integers(0, len(TEMPLATES) - 1), st.integers(0, 3),
                       st.sampled_from(["none", "weak", "strong"]), st.booleans()),
             min_size=1, max_size=5),
    st.tuples(st.integers(0, 7), st.integers(0, 5)))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(live_models, st.sampled_from([None, "none", "weak"]), st.sampled_from([None, 30]))
def test_batch_liveness_equals_bfs_on_random_models(model, fairness, max_states):
    system = live_model(*model)().compile()
    options = dict(liveness=True, fairness=fairness, max_states=max_states)
    ref = check(system, engine="bfs", **options)
    got = check(system, engine="batch", **options)
    assert got.engine == "batch", got.note
    assert _summary(got) == _summary(ref)
    assert (got.violation and got.violation.loop) == (ref.violation and ref.violation.loop)
    assert (got.liveness or {}).get("edges") == (ref.liveness or {}).get("edges")
    if ref.liveness and ref.liveness.get("edges") is not None:  # the graph was built whole
        _same_graphs(system, [p.name for p in system.properties if p.name in ("lt", "ev")])


def _same_graphs(system, names):
    from kafkacheck.checker.batch.engine import _Batch
    from kafkacheck.checker.explicit import _options, _Search
    from kafkacheck.checker.liveness import Graph
    ref = Graph(system, names)
    run = _Batch(_Search(system, "batch", **_options({"properties": names})))
    run.loop()  # the safety search, recording the graph as it goes
    got = run.recorder.graph(run.inits)
    for field in ("n", "parent", "via", "off", "dst", "act", "p", "q", "unfair_here",
                  "inits"):
        assert getattr(got, field) == getattr(ref, field), field
    return ref.n
