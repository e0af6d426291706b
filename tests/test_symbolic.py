"""The Z3 engines against the reference semantics and the explicit engines.

- every operator: the Z3 term of a random expression, on a random state, has the value the
  reference interpreter (``evaluate``) gives it, out-of-range intermediate values included;
- BMC against BFS on the built-in models at small bounds, and against an exhaustive oracle
  on random small models drawn by hypothesis (verdict, kind, shortest length, examples);
- every decoded trace replays (``bmc`` raises ``ReplayError`` otherwise);
- proofs succeed on the safe models and fail on the known-unsafe variants.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import z3
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkacheck.checker import ExplicitSystem, bfs
from kafkacheck.checker.lang import (Bool, Domain, Enum, Int, Maybe, Model, Set, action, all_of,
                                     always, count_of, implies, ite, maximum, minimum, require,
                                     set_of, sometimes, when)
from kafkacheck.checker.lang import expr as E
from kafkacheck.checker.lang.evaluate import OPS, evaluate
from kafkacheck.checker.lang.model import Property
from kafkacheck.checker.symbolic import Encoding, bmc, prove, prove_property
from kafkacheck.checker.symbolic.z3gen import RULES
from kafkacheck.specs.catalog import MODELS
from kafkacheck.specs.failover import UncleanElectionFailover as UncleanFailover

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- 1. operator semantics ------------------------------------------------------------------------

def test_z3_backend_covers_exactly_the_language():
    assert set(RULES) == OPS


D3 = Domain("d", ids=(10, 20, 30))
COLOR = Enum("Color", "RED", "GREEN", "BLUE")
SLOTS = [Int(-1, 3), Int(0, 2), Bool, Bool, Set(D3), Set(D3), Maybe(D3), D3, COLOR]
V = [E.Var(i, t) for i, t in enumerate(SLOTS)]


def _exprs():
    """Random well-typed expressions over SLOTS, by type."""
    elem_c = st.integers(0, 3).map(lambda c: E.Const(c, Maybe(D3)))
    int_leaf = st.one_of(st.sampled_from([V[0], V[1]]),
                         st.integers(-2, 4).map(lambda c: E.lift(c)))
    bool_leaf = st.one_of(st.sampled_from([V[2], V[3]]), st.booleans().map(E.lift))
    set_leaf = st.one_of(st.sampled_from([V[4], V[5]]),
                         st.integers(0, 7).map(lambda c: E.Const(c, Set(D3))))
    elem_leaf = st.one_of(st.sampled_from([V[6], V[7]]), elem_c)

    def extend(kids):
        ints, bools, sets, elems = kids
        return (
            st.one_of(
                ints,
                st.tuples(st.sampled_from(["add", "sub", "min", "max"]), ints, ints)
                .map(lambda t: E.arith(*t)),
                st.tuples(bools, ints, ints).map(lambda t: E.ite(*t)),
                sets.map(lambda s: s.size()),
                st.lists(bools, min_size=1, max_size=3).map(E.count),
                st.tuples(st.one_of(ints, elems), st.lists(ints, min_size=1, max_size=4), ints)
                .map(lambda t: E.select(t[0], t[1], t[2], Int(-9, 9)))),
            st.one_of(
                bools,
                bools.map(E.Not),
                st.lists(bools, min_size=2, max_size=3).map(lambda xs: E.And(*xs)),
                st.lists(bools, min_size=2, max_size=3).map(lambda xs: E.Or(*xs)),
                st.tuples(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), ints, ints)
                .map(lambda t: E.compare(*t)),
                st.tuples(st.sampled_from(["eq", "ne", "lt", "ge"]), elems, elems)
                .map(lambda t: E.compare(*t)),
                st.tuples(sets, elems).map(lambda t: t[0].contains(t[1])),
                st.tuples(sets, sets).map(lambda t: t[0] == t[1]),
                st.sampled_from(COLOR.names).map(lambda n: V[8] == n),
                st.tuples(elems, st.lists(bools, min_size=3, max_size=3), bools)
                .map(lambda t: E.select(t[0], t[1], t[2], Bool))),
            st.one_of(
                sets,
                st.tuples(sets, elems).map(lambda t: E.insert(*t)),
                st.tuples(sets, elems).map(lambda t: E.remove(*t)),
                st.tuples(st.sampled_from(["union", "inter", "diff"]), sets, sets)
                .map(lambda t: E.set_op(*t)),
                st.lists(bools, min_size=3, max_size=3)
                .map(lambda bs: E.set_of(D3, lambda x: bs[x.value]))),
            st.one_of(
                elems,
                sets.map(lambda s: s.least()),
                st.tuples(bools, elems, elems).map(lambda t: E.ite(*t)),
                st.tuples(ints, st.lists(elems, min_size=1, max_size=3), elem_c)
                .map(lambda t: E.select(t[0], t[1], t[2], Maybe(D3)))))

    def level(n):
        kinds = (int_leaf, bool_leaf, set_leaf, elem_leaf)
        for _ in range(n):
            kinds = extend(kinds)
        return st.tuples(*kinds)
    return st.integers(1, 4).flatmap(level)


def _state():
    return st.tuples(*[st.integers(t.lo(), t.hi()) for t in SLOTS])


def _z3_value(e, state):
    built = SimpleNamespace(layout=SimpleNamespace(slot_types=SLOTS,
                                                   slot_names=[f"s{i}" for i in range(len(SLOTS))]),
                            actions=[], initial=[state],
                            properties=[Property("e", "always", e)])
    enc = Encoding(built)
    sv = enc.state("t")
    term = enc.expr(e, sv)
    subst = [(sv[i], z3.BoolVal(bool(c)) if t is Bool else z3.BitVecVal(c, enc.width))
             for i, (t, c) in enumerate(zip(SLOTS, state))]
    value = z3.simplify(z3.substitute(term, *subst))
    return int(z3.is_true(value)) if e.type is Bool else value.as_signed_long()


@SETTINGS
@given(_exprs(), _state())
def test_every_operator_matches_the_reference_interpreter(exprs, state):
    for e in exprs:
        assert _z3_value(e, state) == evaluate(e, state), e


# -- 2. BMC against BFS on the built-in models ----------------------------------------------------

def _agree(system, k, properties=None):
    """BFS and BMC to depth k: same verdict, same violation (property, kind, length), same
    example lengths below the violation."""
    ref = bfs(system, max_depth=k, properties=properties)
    got = bmc(system, max_depth=k, properties=properties)
    assert got.verdict == ref.verdict, (got.verdict, ref.verdict)
    assert got.engine == "bmc"
    if ref.violation is not None:
        assert (got.violation.property, got.violation.kind, got.violation.length) == \
            (ref.violation.property, ref.violation.kind, ref.violation.length)
        limit = ref.violation.length
    else:
        assert got.bound == {"max_depth": k} and not got.complete
        limit = k + 1
    want = {n: t.length for n, t in ref.examples.items() if t.length < limit}
    have = {n: t.length for n, t in got.examples.items() if t.length < limit}
    assert have == want
    return got


def test_bmc_agrees_with_bfs_on_failover():
    got = _agree(MODELS["failover"]().compile(), 6)
    assert got.verdict == "holds" and got.depth == 6


def test_bmc_finds_the_unsafe_ensemble_trace_of_bfs_length():
    system = MODELS["ensemble"].from_settings({"servers": "4", "quorum": "half"}).compile()
    got = _agree(system, 6, ["one_leader_per_epoch"])
    got.assert_violation("one_leader_per_epoch", length=6)


def test_bmc_agrees_with_bfs_on_zk_cluster():
    _agree(MODELS["zk-cluster"]().compile(), 4)


def test_every_builtin_model_compiles_to_z3():
    for name, cls in MODELS.items():
        enc = Encoding(cls().build())
        cur, nxt = enc.state("0"), enc.state("1")
        s = z3.SolverFor("QF_BV")
        s.add(enc.init(cur), enc.step(cur, nxt, enc.action_var("0")))
        assert s.check() == z3.sat, name


def test_bmc_refutes_the_unclean_failover_like_bfs():
    system = UncleanFailover().compile()
    got = _agree(system, 12, ["leader_in_isr"])
    assert got.verdict == "violated"


def test_time_limit_gives_incomplete_never_holds():
    system = MODELS["failover"]().compile()
    got = bmc(system, max_depth=50, time_limit=1e-6)
    assert got.verdict == "incomplete" and got.stop_reason == "time_limit"


def test_plain_python_systems_are_refused_with_a_clear_error():
    sys_ = ExplicitSystem("counter", init=[0], next=lambda n: [("inc", n + 1)],
                          always={"small": lambda n: n < 3})
    with pytest.raises(TypeError, match="modeling language"):
        bmc(sys_)


# -- 3. random small models -----------------------------------------------------------------------

def _random_model(spec):
    """A model from plain data: variables x (Int), y (Int), b (Bool), S (Set(D)), m (Maybe(D))
    and actions whose guards and updates are drawn from small expression recipes."""
    lo, hi = spec["range"]

    def term(s, m, r, var="x"):
        kind, a, c = r
        x, y = s.x, s.y
        here, top, bottom = (x, hi, lo) if var == "x" else (y, 2, 0)
        if kind == "inc":
            return minimum(here + 1, top)
        if kind == "dec":
            return maximum(here - 1, bottom)
        if kind == "x+c":
            return x + c
        if kind == "x-y":
            return x - y
        if kind == "y+c":
            return y + c
        if kind == "size":
            return s.S.size() + c
        if kind == "ite":
            return ite(s.b, x + c, y)
        if kind == "count":
            return count_of(m.d, lambda e: s.S.contains(e)) + ite(s.b, 1, 0)
        return E.lift(c)

    def cond(s, m, r):
        kind, a, c = r
        if kind == "x<c":
            return s.x < c
        if kind == "x>=y":
            return s.x >= s.y
        if kind == "b":
            return s.b if a else ~s.b
        if kind == "in":
            return s.S.contains(m.d.elements()[a % 3])
        if kind == "m":
            return s.m.is_some() if a else s.m.is_none()
        if kind == "least":
            return s.S.least() == s.m
        return E.lift(bool(a))

    class Random(Model):
        name = "random"
        check_deadlock = spec["deadlock"]

        def setup(m):
            m.d = Domain("d", size=3)

        def variables(m):
            return {"x": Int(lo, hi), "y": Int(0, 2), "b": Bool, "S": Set(m.d),
                    "m": Maybe(m.d)}

        def init(m, s):
            s.x = min(max(spec["x0"], lo), hi)
            s.y = 0
            s.b = False
            s.S = set()
            s.m = None

    def make(guard, writes, under):
        def body(m, s):
            require(cond(s, m, guard))
            for var, r in writes:
                with when(cond(s, m, under) if under is not None else E.TRUE):
                    if var == "x":
                        s.x = term(s, m, r)
                    elif var == "y":
                        s.y = term(s, m, r, "y")
                    elif var == "b":
                        s.b = cond(s, m, r)
                    elif var == "S+":
                        s.S = s.S | (m.d.elements()[r[1] % 3] if r[0] != "m" else s.m)
                    elif var == "S-":
                        s.S = s.S - m.d.elements()[r[1] % 3]
                    else:
                        s.m = s.S.least() if r[1] % 2 else m.d.elements()[r[2] % 3]
        return body

    for k, (guard, writes, under) in enumerate(spec["actions"]):
        body = make(guard, writes, under)
        body.__name__ = f"a{k}"
        setattr(Random, f"a{k}", action()(body))

    def bad(m, s):
        return ~(cond(s, m, spec["bad"]) & (s.x == spec["target"]))

    def good(m, s):
        return cond(s, m, spec["good"])
    Random.bad_never = always(bad)
    Random.good_sometimes = sometimes(good)
    return Random()


_conds = st.tuples(st.sampled_from(["x<c", "x>=y", "b", "in", "m", "least", "const"]),
                   st.integers(0, 3), st.integers(-1, 3))
_terms = st.tuples(st.sampled_from(["inc", "dec", "inc", "x+c", "x-y", "y+c", "size", "ite",
                                    "count", "const"]),
                   st.integers(0, 3), st.integers(-1, 2))
_writes = st.lists(st.one_of(
    st.tuples(st.sampled_from(["x", "y"]), _terms),
    st.tuples(st.just("b"), _conds),
    st.tuples(st.sampled_from(["S+", "S-", "m"]),
              st.tuples(st.sampled_from(["e", "e", "e", "m"]), st.integers(0, 3),
                        st.integers(0, 3)))),
    min_size=1, max_size=3, unique_by=lambda w: w[0])
_specs = st.fixed_dictionaries({
    "range": st.sampled_from([(0, 3), (-1, 2), (0, 5)]),
    "x0": st.integers(-1, 3),
    "target": st.integers(-1, 5),
    "deadlock": st.sampled_from([False, False, True]),
    "actions": st.lists(st.tuples(_conds, _writes, st.one_of(st.none(), _conds)),
                        min_size=2, max_size=5),
    "bad": _conds,
    "good": _conds,
})


def _oracle(system):
    """Exhaustive BFS over reference successors: the least depth of each kind of event."""
    always_ok = system.first_false(["bad_never"])
    good = system.first_false(["good_sometimes"])
    depth = {}
    first = {"always": None, "type_ok": None, "deadlock": None, "good": None}
    frontier = []
    for s in system.initial_states():
        if s not in depth:
            depth[s] = 0
            frontier.append(s)
    d = 0
    while frontier:
        nxt = []
        for s in frontier:
            for key, hit in (("always", always_ok(s) >= 0), ("good", good(s) < 0)):
                if hit and first[key] is None:
                    first[key] = d
            try:
                succ = system.successors(s)
            except system.out_of_range:
                if first["type_ok"] is None:
                    first["type_ok"] = d
                continue
            if not succ and system.check_deadlock and first["deadlock"] is None:
                first["deadlock"] = d
            for _, t in succ:
                if t not in depth:
                    depth[t] = d + 1
                    nxt.append(t)
        frontier = nxt
        d += 1
    return first, d - 1


@SETTINGS
@given(_specs)
def test_bmc_matches_an_exhaustive_oracle_on_random_models(spec):
    system = _random_model(spec).compile()
    first, diameter = _oracle(system)
    k = diameter + 1
    got = bmc(system, max_depth=k)
    # BMC reports, at the least depth with any event, an invariant before an out-of-range
    # write before a deadlock (its query order at each depth).
    events = [(first[kind], i, kind) for i, kind in enumerate(["always", "type_ok", "deadlock"])
              if first[kind] is not None]
    if events:
        d, _, kind = min(events)
        assert got.verdict == "violated"
        assert (got.violation.kind, got.violation.length) == (kind, d)
        if first["good"] is not None and first["good"] < d:
            assert got.examples["good_sometimes"].length == first["good"]
    else:
        if first["good"] is None:
            assert got.verdict in ("incomplete", "violated")
            assert got.verdict == "violated" or got.stop_reason == "max_depth"
        else:
            assert got.verdict == "holds"
            assert got.examples["good_sometimes"].length == first["good"]
    # and the explicit engine agrees on the verdict and, for the same kind, the length
    ref = bfs(system, max_depth=k)
    if ref.verdict == "violated" and ref.violation.kind != "sometimes":
        assert got.verdict == "violated"
        if ref.violation.kind == got.violation.kind:
            assert ref.violation.length == got.violation.length


# -- 4. proofs ------------------------------------------------------------------------------------

EnsembleWithLemmas = MODELS["ensemble"]  # the lemmas live in specs/ensemble.py


LEMMAS = ["one_epoch_leader", "epoch_leader_has_quorum", "roles_consistent"]


def test_leader_in_isr_is_inductive_for_failover():
    r = prove_property(MODELS["failover"]().compile(), "leader_in_isr")
    assert r.outcome == "proved" and r.method == "inductive-invariant"


def test_isr_only_election_is_proved_for_zk_cluster():
    results = prove(MODELS["zk-cluster"]().compile(),
                    properties=["isr_only_election", "leader_in_isr"])
    assert [r.outcome for r in results] == ["proved", "proved"]
    assert [r.vacuous for r in results] == [False, False]


def test_a_vacuous_property_is_proved_but_flagged_vacuous():
    results = prove(MODELS["zk-cluster"]().compile(),
                    properties=["acked_write_not_lost", "leader_in_isr"])
    assert [(r.outcome, r.vacuous) for r in results] == [("proved", True), ("proved", False)]
    with_writes = prove(MODELS["zk-cluster"](max_writes=1).compile(),
                        properties=["acked_write_not_lost"], time_limit=5)
    assert with_writes[0].vacuous is False


@pytest.mark.parametrize("servers", ["3", "4"])
def test_one_leader_per_epoch_is_proved_for_the_safe_ensemble(servers):
    system = EnsembleWithLemmas.from_settings({"servers": servers}).compile()
    r = prove_property(system, "one_leader_per_epoch", strengthen=LEMMAS)
    assert r.outcome == "proved", (r.reason, r.cti)


def test_one_leader_per_epoch_alone_is_not_inductive_and_the_cti_is_a_real_step():
    system = MODELS["ensemble"]().compile()
    r = prove_property(system, "one_leader_per_epoch")
    assert r.outcome == "not_inductive"
    assert r.cti.violated == "one_leader_per_epoch"
    assert r.cti.path[-2].state == r.cti.before and r.cti.path[-1].state == r.cti.after
    before, after = r.cti.path[-2].raw, r.cti.path[-1].raw
    assert system.first_false(["one_leader_per_epoch"])(before) < 0
    assert system.first_false(["one_leader_per_epoch"])(after) == 0


def test_one_leader_per_epoch_fails_to_prove_for_the_unsafe_ensemble():
    system = EnsembleWithLemmas.from_settings({"servers": "4", "quorum": "half"}).compile()
    r = prove_property(system, "one_leader_per_epoch", strengthen=LEMMAS)
    assert r.outcome == "not_inductive"
    r = prove_property(system, "one_leader_per_epoch", base_depth=6)
    assert r.outcome == "refuted" and r.counterexample.length == 6


def test_refuted_proofs_come_with_a_replayed_counterexample():
    r = prove_property(UncleanFailover().compile(), "leader_in_isr", k=2, base_depth=12)
    assert r.outcome == "refuted"
    bfs(UncleanFailover().compile(), properties=["leader_in_isr"]) \
        .assert_violation("leader_in_isr", length=r.counterexample.length)


class Even(Model):
    name = "even"

    def variables(m):
        return {"n": Int(0, 10)}

    def init(m, s):
        s.n = 0

    @action()
    def add_two(m, s):
        require(s.n <= 8)
        s.n = s.n + 2

    @always
    def not_seven(m, s):
        return s.n != 7

    @always
    def below_four(m, s):
        return s.n < 4


def test_k_induction_proves_what_one_step_cannot():
    system = Even().compile()
    assert prove_property(system, "not_seven").outcome == "not_inductive"
    assert prove_property(system, "not_seven", k=4).outcome == "proved"
    assert prove_property(system, "below_four", k=4).outcome == "refuted"


def test_a_false_lemma_gives_unknown_not_proved():
    r = prove_property(Even().compile(), "not_seven", strengthen=["below_four"], base_depth=3)
    assert r.outcome == "unknown" and "below_four" in r.reason
    assert r.counterexample.property == "below_four" and r.counterexample.length == 2


# -- 5. the prove command -------------------------------------------------------------------------

def _prove(*args):
    from kafkacheck.checker.cli.prove import prove_command
    return CliRunner().invoke(prove_command, list(args))


def test_prove_command_exit_codes():
    ok = _prove("failover")
    assert ok.exit_code == 0 and "PROVED" in ok.output
    cti = _prove("ensemble", "-p", "servers=4", "-p", "quorum=half",
                 "--property", "one_leader_per_epoch")
    assert cti.exit_code == 3 and "NOT INDUCTIVE" in cti.output and "before" in cti.output
    refuted = _prove("ensemble", "-p", "servers=4", "-p", "quorum=half",
                     "--property", "one_leader_per_epoch", "--base-depth", "6", "--format",
                     "json")
    assert refuted.exit_code == 1
    import json
    data = json.loads(refuted.output)
    assert data["outcome"] == "refuted"
    assert data["results"][0]["counterexample"]["length"] == 6
    from kafkacheck.checker.cli import main
    for bad in (["no-such-model"], ["failover", "--property", "nope"],
                ["failover", "--strengthen", "controller_elected"],
                ["failover", "-p", "brokers=banana"]):
        # bad input goes through the command line's one-line path, as for check
        assert main(["prove", *bad]) == 2, bad


@pytest.mark.parametrize("name", ["z3gen", "bmc", "induction", "quorum"])
def test_docstring_examples(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(f"kafkacheck.checker.symbolic.{name}"))
    assert result.attempted > 0 and result.failed == 0
