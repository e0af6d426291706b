"""The modeling language: types and layout, tracing, every operator, the code generator
against the reference interpreter, and the errors a model author meets.

The code generator (``pycodegen``) is checked against ``evaluate`` in two ways: operator by
operator on every combination of small inputs, and on random models drawn by hypothesis
(random variables' values, random guards, updates, ``when`` blocks, dynamic keys, choices),
comparing the successors the compiled code computes with the successors obtained by
evaluating the traced guard and update trees of ``model.build().actions``.
"""

from __future__ import annotations

import functools
import inspect
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkacheck.checker import PropertyInfo, TransitionSystem, bfs
from kafkacheck.checker.lang import (
    And, Bool, Domain, Enum, Int, Map, Maybe, Model, ModelError, Not, Or, Param,
    ParameterError, Seq, Set, TracingError, action, all_of, always, any_of, choose, constraint,
    count_of, first, implies, ite, maximum, minimum, require, set_of, sometimes, when)
from kafkacheck.checker.lang.compiled import CompiledSystem
from kafkacheck.checker.symbolic import prove
from kafkacheck.checker.lang.evaluate import OPS, evaluate
from kafkacheck.checker.lang.expr import Const, Var, count, lift, select
from kafkacheck.checker.lang.layout import Layout
from kafkacheck.checker.lang.pycodegen import OutOfRange, source, successors_source

# -- helpers ---------------------------------------------------------------------------------


def make_model(variables, init=None, actions=(), props=(), setup=None, name="m", **attrs):
    """A model class from plain functions: ``actions`` are (name, over, fn[, where])."""
    ns = {"name": name, **attrs}
    ns["setup"] = setup or (lambda m: None)
    ns["variables"] = lambda m: variables(m)
    ns["init"] = init or (lambda m, s: None)
    for entry in actions:
        aname, over, fn, *where = entry
        ns[aname] = action(*over, where=where[0] if where else None)(fn)
    for pname, kind, fn in props:
        ns[pname] = {"always": always, "sometimes": sometimes, "constraint": constraint}[kind](fn)
    return type("M", (Model,), ns)


def succ_by_label(system, state):
    return {system.actions[a]: t for a, t in system.successors(state)}


def one_action(built, label=None):
    if label is None:
        (inst,) = built.actions
        return inst
    return next(a for a in built.actions if a.label == label)


def oracle_successors(built, state):
    """Successors from the guard and update trees, evaluated by the reference interpreter.

    Returns a list of (action index, next state), or raises ``OutOfRange`` as the compiled
    code must: for the first action (in order) whose enabled update writes a value outside
    its slot's range, at the first such slot in update order.
    """
    out = []
    types = built.layout.slot_types
    for idx, inst in enumerate(built.actions):
        if not evaluate(inst.guard, state):
            continue
        new = list(state)
        for slot, e in inst.updates.items():
            value = evaluate(e, state)
            if not types[slot].lo() <= value <= types[slot].hi():
                raise OutOfRange(idx, slot, value)
            new[slot] = value
        out.append((idx, tuple(new)))
    return out


def outcome(fn, state):
    try:
        return ("ok", [(a, tuple(map(int, t))) for a, t in fn(state)])
    except OutOfRange as err:
        return ("out_of_range", err.action, err.slot, err.value)


class EvaluatedSystem(TransitionSystem):
    """A built model run by the reference interpreter: the oracle as a TransitionSystem."""

    out_of_range = OutOfRange

    def __init__(self, built):
        self.built, self.name, self.layout = built, built.name, built.layout
        self.actions = [a.label for a in built.actions]
        self.check_deadlock = built.check_deadlock
        self.properties = [PropertyInfo(p.name, p.kind) for p in built.properties]
        self._exprs = {p.name: p.expr for p in built.properties}

    def initial_states(self):
        return list(self.built.initial)

    def successors(self, state):
        return oracle_successors(self.built, state)

    def first_false(self, names):
        exprs = [self._exprs[n] for n in names]
        return lambda s: next((k for k, e in enumerate(exprs) if not evaluate(e, s)), -1)

    def decode(self, state):
        return self.built.layout.decode(state)

    describe_out_of_range = CompiledSystem.describe_out_of_range


# == types and layout =============================================================================

def test_scalar_types_take_one_slot_with_their_range_and_default():
    d = Domain("d", ids=(101, 102, 103))
    e = Enum("E", "A", "B", "C")
    cases = [  # type, lo, hi, default, a code and what it decodes to
        (Bool, 0, 1, 0, 1, True),
        (Int(0, 5), 0, 5, 0, 3, 3),
        (Int(-2, 2), -2, 2, 0, -1, -1),
        (Int(2, 4), 2, 4, 2, 4, 4),
        (e, 0, 2, 0, 2, "C"),
        (d, 0, 2, 0, 1, 102),
        (Maybe(d), 0, 3, 3, 3, None),
        (Set(d), 0, 7, 0, 0b101, frozenset({101, 103})),
    ]
    for t, lo, hi, default, code, value in cases:
        assert (t.slots, t.lo(), t.hi(), t.default(), t.decode(code)) == \
            (1, lo, hi, default, value), t
    assert Maybe(d).decode(0) == 101
    assert e.B.value == 1 and e.B.type is e


def test_layout_of_composite_types():
    d = Domain("d", ids=(7, 9))
    p = Domain("p", size=3)
    layout = Layout({
        "flag": Bool,
        "per": Map(d, Int(1, 4)),
        "mm": Map(d, Map(p, Bool)),
        "log": Seq(Int(0, 3), 2),
        "ml": Map(d, Seq(Bool, 1)),
        "lead": Maybe(d),
    })
    assert layout.slot_names == [
        "flag", "per[7]", "per[9]",
        "mm[7][0]", "mm[7][1]", "mm[7][2]", "mm[9][0]", "mm[9][1]", "mm[9][2]",
        "len(log)", "log[0]", "log[1]",
        "len(ml[7])", "ml[7][0]", "len(ml[9])", "ml[9][0]",
        "lead"]
    assert layout.width == 17
    assert [v.offset for v in layout.variables] == [0, 1, 3, 9, 12, 16]
    assert [len(v.slots) for v in layout.variables] == [1, 2, 6, 3, 4, 1]
    assert layout.defaults == (0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)
    state = (1, 2, 4, 1, 0, 1, 0, 0, 0, 2, 3, 1, 1, 1, 0, 0, 0)
    assert layout.decode(state) == {
        "flag": True, "per": {7: 2, 9: 4},
        "mm": {7: {0: True, 1: False, 2: True}, 9: {0: False, 1: False, 2: False}},
        "log": [3, 1], "ml": {7: [True], 9: []}, "lead": 7}
    assert layout.in_range(state)
    assert not layout.in_range(state[:1] + (5,) + state[2:])
    assert not layout.in_range(state[:-1] + (3,))


def test_bad_types_are_rejected():
    d = Domain("d", size=2)
    with pytest.raises(ModelError, match="lo <= hi"):
        Int(3, 1)
    with pytest.raises(ModelError, match="duplicate value"):
        Enum("E", "A", "A")
    with pytest.raises(ModelError, match="at least one value"):
        Enum("E")
    with pytest.raises(ModelError, match="duplicate ids"):
        Domain("x", ids=(1, 1))
    with pytest.raises(ModelError, match="exactly one of"):
        Domain("x", ids=(1,), size=1)
    with pytest.raises(ModelError, match="empty"):
        Domain("x", size=0)
    with pytest.raises(ModelError, match="at most 62"):
        Domain("x", size=63)
    with pytest.raises(ModelError, match="takes a Domain"):
        Maybe(Int(0, 1))
    with pytest.raises(ModelError, match="takes a Domain"):
        Set(Bool)
    with pytest.raises(ModelError, match="keyed by a Domain"):
        Map(Int(0, 1), Bool)
    with pytest.raises(ModelError, match="must be scalar"):
        Seq(Map(d, Bool), 2)
    with pytest.raises(ModelError, match="positive integer"):
        Seq(Bool, 0)
    with pytest.raises(ModelError, match="not a type"):
        Map(d, int)
    with pytest.raises(ModelError, match="at least one state variable"):
        Layout({})
    with pytest.raises(ModelError, match="identifier"):
        Layout({"_x": Bool})
    with pytest.raises(ModelError, match="not an id of domain d"):
        d.of(5)
    with pytest.raises(ModelError, match="not a value of enum E"):
        Enum("E", "A").code("B")


# == tracing semantics ============================================================================

def test_a_read_sees_the_bodys_earlier_writes():
    def body(m, s):
        s.a = s.a + 1
        s.b = s.a + 1          # reads the new a
        require(s.b <= 3)      # a guard sees the writes too
    system = make_model(lambda m: {"a": Int(0, 9), "b": Int(0, 9)},
                        actions=[("step", (), body)])().compile()
    assert succ_by_label(system, (0, 0)) == {"step()": (1, 2)}
    assert succ_by_label(system, (1, 5)) == {"step()": (2, 3)}
    assert succ_by_label(system, (2, 0)) == {}


def test_updates_are_simultaneous_from_the_pre_state():
    def swap(m, s):
        old = s.a
        s.a = s.b
        s.b = old
    def chain(m, s):
        s.a = s.b
        s.b = s.a              # the new a, which is the old b: b is unchanged
    model = make_model(lambda m: {"a": Int(0, 3), "b": Int(0, 3), "c": Int(0, 3)},
                       actions=[("swap", (), swap), ("chain", (), chain)])()
    built = model.build()
    swap_inst, chain_inst = built.actions
    # the update trees read only pre-state slots
    assert repr(swap_inst.updates[0]) == "Var(1)" and repr(swap_inst.updates[1]) == "Var(0)"
    assert 2 not in swap_inst.updates        # unwritten slots are unchanged
    assert 1 not in chain_inst.updates       # b := (new a = old b) is no change at all
    system = model.compile()
    assert succ_by_label(system, (1, 2, 3)) == {"swap()": (2, 1, 3), "chain()": (2, 2, 3)}


def test_dynamic_key_reads_and_writes():
    def bump(m, s):
        s.x[s.k] = s.x[s.k] + 1

    def copy(m, s):
        s.y = s.x[s.k]          # Maybe key: none reads the default

    model = make_model(
        lambda m: {"k": Maybe(m.d), "x": Map(m.d, Int(0, 3)), "y": Int(0, 3)},
        setup=lambda m: setattr(m, "d", Domain("d", ids=(10, 20, 30))),
        actions=[("bump", (), bump), ("copy", (), copy)])()
    system = model.compile()
    built = model.build()
    assert {e.op for e in one_action(built, "copy()").updates.values()} == {"select"}
    assert succ_by_label(system, (1, 1, 2, 3, 0)) == {"bump()": (1, 1, 3, 3, 0),
                                                      "copy()": (1, 1, 2, 3, 2)}
    # with no key, bump writes nothing and copy reads the default 0
    assert succ_by_label(system, (3, 1, 2, 3, 3)) == {"bump()": (3, 1, 2, 3, 3),
                                                      "copy()": (3, 1, 2, 3, 0)}
    # writing x[k] past its range is a type error at the key that is hit
    with pytest.raises(OutOfRange) as err:
        system.successors((2, 0, 0, 3, 0))
    assert (err.value.slot, err.value.value) == (3, 4)


def test_map_of_map_with_dynamic_keys():
    def toggle(m, s):
        s.mm[s.i][s.j] = ~s.mm[s.i][s.j]
        s.seen = s.mm[s.j][s.i]       # reads the write when i == j

    model = make_model(
        lambda m: {"i": m.d, "j": m.d, "mm": Map(m.d, Map(m.d, Bool)), "seen": Bool},
        setup=lambda m: setattr(m, "d", Domain("d", size=2)),
        actions=[("toggle", (), toggle)])()
    system = model.compile()
    built = model.build()
    for state in itertools.product(range(2), range(2), *[range(2)] * 4, range(2)):
        i, j, *mm, _ = state
        new = list(mm)
        new[2 * i + j] ^= 1
        assert succ_by_label(system, state) == {"toggle()": (i, j, *new, new[2 * j + i])}
        assert oracle_successors(built, state) == system.successors(state)


def test_when_blocks_nest_and_require_inside_when_guards_only_that_branch():
    def body(m, s):
        with when(s.a > 0):
            s.b = 1
            with when(s.a > 1):
                s.c = 1
                require(s.b == 1)        # always true here: sees the write above
                require(s.a < 3)         # only where a > 1: disables a == 3
    model = make_model(lambda m: {"a": Int(0, 3), "b": Int(0, 1), "c": Int(0, 1)},
                       actions=[("go", (), body)])()
    system = model.compile()
    assert [succ_by_label(system, (a, 0, 0)) for a in range(4)] == [
        {"go()": (0, 0, 0)}, {"go()": (1, 1, 0)}, {"go()": (2, 1, 1)}, {}]


def test_choose_becomes_parameters_with_labels():
    def send(m, s, src):
        dst = choose(m.d, name="dst")
        n = choose([1, 2], name="n")
        require(src != dst)
        s.x[dst] = s.x[dst] + n

    model = make_model(lambda m: {"x": Map(m.d, Int(0, 9))},
                       setup=lambda m: setattr(m, "d", Domain("d", ids=("a", "b"))),
                       actions=[("send", ("d",), send)])()
    built = model.build()
    assert [a.label for a in built.actions] == [
        "send(src=a, dst=a, n=1)", "send(src=a, dst=a, n=2)",
        "send(src=a, dst=b, n=1)", "send(src=a, dst=b, n=2)",
        "send(src=b, dst=a, n=1)", "send(src=b, dst=a, n=2)",
        "send(src=b, dst=b, n=1)", "send(src=b, dst=b, n=2)"]
    assert built.actions[3].args == {"src": "a", "dst": "b", "n": 2}
    assert built.actions[3].action == "send"
    system = model.compile()
    assert succ_by_label(system, (0, 0)) == {
        "send(src=a, dst=b, n=1)": (0, 1), "send(src=a, dst=b, n=2)": (0, 2),
        "send(src=b, dst=a, n=1)": (1, 0), "send(src=b, dst=a, n=2)": (2, 0)}


def test_choose_in_init_gives_several_initial_states():
    def init(m, s):
        s.a = choose(m.d)
        require(s.a != m.d.of(2))
    model = make_model(lambda m: {"a": m.d, "b": Bool},
                       setup=lambda m: setattr(m, "d", Domain("d", ids=(1, 2, 3))),
                       init=init, actions=[("noop", (), lambda m, s: None)])()
    assert model.build().initial == [(0, 0), (2, 0)]
    assert bfs(model.compile()).distinct_states == 2


def test_where_filters_bindings_statically():
    def setup(m):
        m.p = Domain("p", size=2)
        m.d = Domain("d", ids=(1, 2, 3))
        m.owns = {(0, 1), (0, 2), (1, 3)}

    def add(m, s, p, r):
        s.x[p] = s.x[p] | r

    def owned(m, p, r):
        return (p.value, m.d.ids[r.value]) in m.owns

    model = make_model(lambda m: {"x": Map(m.p, Set(m.d))}, setup=setup,
                       actions=[("add", ("p", "d"), add, owned)])()
    built = model.build()
    assert [a.label for a in built.actions] == ["add(p=0, r=1)", "add(p=0, r=2)",
                                                "add(p=1, r=3)"]
    assert bfs(model.compile()).distinct_states == 4 * 2


def test_properties_and_constraints_are_traced_expressions():
    props = [
        ("small", "always", lambda m, s: s.a < 3),
        ("big", "sometimes", lambda m, s: s.a == 2),
        ("bounded", "constraint", lambda m, s: s.a < 2),
    ]
    model = make_model(lambda m: {"a": Int(0, 5)}, props=props,
                       actions=[("inc", (), lambda m, s: setattr(s, "a", s.a + 1))])
    built = model().build()
    assert [(p.name, p.kind) for p in built.properties] == \
        [("small", "always"), ("big", "sometimes"), ("bounded", "constraint")]
    result = bfs(model().compile())
    # TLC's CONSTRAINT: a == 2 fails it, so it is checked (the example) but not stored:
    # two distinct states, two generated, depth 1
    result.assert_holds()
    assert (result.distinct_states, result.states_generated, result.depth) == (2, 2, 1)
    result.assert_example("big", path=["inc()", "inc()"])
    assert model.property_names()[0] == ("small", "always", "")


def test_model_inheritance_overrides_and_parameters():
    class Base(Model):
        name = "base"
        n = Param(2, lo=1, hi=4, doc="size")
        flag = Param(False, key="some.flag")

        def variables(m):
            return {"a": Int(0, m.n)}

        def init(m, s):
            s.a = 0

        @action()
        def inc(m, s):
            require(s.a < m.n)
            s.a = s.a + 1

    class Sub(Base):
        @action()
        def inc(m, s):               # overrides: steps of two
            require(s.a + 2 <= m.n)
            s.a = s.a + 2

    assert bfs(Base(n=3).compile()).distinct_states == 4
    assert bfs(Sub(n=4).compile()).distinct_states == 3
    m = Base.from_settings({"n": "3", "some.flag": "true"})
    assert (m.n, m.flag) == (3, True)
    assert m.param_values() == {"n": 3, "some.flag": True}
    assert Base.params()["flag"].describe() == {"name": "some.flag", "type": "bool",
                                                "default": False, "doc": ""}
    assert Base.params()["n"].describe()["range"] == [1, 4]


def test_fixes_select_variants():
    class Fixable(Model):
        name = "fixable"
        fixes = {"KAFKA-1": "guard the counter"}

        def variables(m):
            return {"a": Int(0, 3)}

        def init(m, s):
            pass

        @action()
        def inc(m, s):
            if m.fixed("KAFKA-1"):
                require(s.a < 2)
            with when(s.a < 3):
                s.a = s.a + 1

        @always
        def below_three(m, s):
            return s.a < 3

    bfs(Fixable().compile()).assert_holds()
    bfs(Fixable(before={"KAFKA-1"}).compile()).assert_violation("below_three", length=3)
    with pytest.raises(ParameterError, match=r"unknown fix 'KAFKA-2' .*known fixes: KAFKA-1"):
        Fixable(before={"KAFKA-2"})
    with pytest.raises(ModelError, match="not declared"):
        Fixable().fixed("KAFKA-9")

    class WithBug(Fixable):
        bugs = {"KAFKA-7": (("KAFKA-1",), "the counter overflows")}

    m = WithBug(before={"KAFKA-7"})
    assert m.before == {"KAFKA-1"} and m.before_bugs == {"KAFKA-7": ("KAFKA-1",)}
    assert m.before_names() == ["KAFKA-1 (for KAFKA-7)"]
    bfs(m.compile()).assert_violation("below_three", length=3)
    assert WithBug(before={"KAFKA-1"}).before_names() == ["KAFKA-1"]
    with pytest.raises(ParameterError, match=r"known fixes: KAFKA-1, KAFKA-7"):
        WithBug(before={"KAFKA-2"})

    class BadBug(Fixable):
        bugs = {"KAFKA-8": (("KAFKA-99",), "names an undeclared fix")}

    with pytest.raises(ModelError, match=r"bugs\['KAFKA-8'\] must name fixes declared"):
        BadBug()


# == every operator: reference semantics, folding, and the code generator ========================

D3 = Domain("d3", ids=(10, 20, 30))
VARS = {  # slot, type, the values it takes in the tests
    "a": (0, Int(-2, 3)), "b": (1, Int(0, 4)), "p": (2, Bool), "q": (3, Bool),
    "x": (4, D3), "y": (5, Maybe(D3)), "S": (6, Set(D3)), "T": (7, Set(D3)),
}
WIDTH = len(VARS)
D1 = Domain("d1", size=1)


def mask(elems):
    return sum(1 << i for i in elems)


def elems(m):
    return {i for i in range(3) if m >> i & 1}


# name, the variables it reads, builder(v) -> Expr, reference(v) -> code
OPERATORS = [
    ("var", "a", lambda v: v["a"], lambda v: v["a"]),
    ("const", "", lambda v: Const(2, Int(2, 2)) + 3, lambda v: 5),
    ("not", "p", lambda v: ~v["p"], lambda v: 1 - v["p"]),
    ("not", "p", lambda v: Not(v["p"]), lambda v: 1 - v["p"]),
    ("and", "pq", lambda v: v["p"] & v["q"], lambda v: v["p"] & v["q"]),
    ("and", "pqa", lambda v: And(v["p"], v["q"], v["a"] > 0),
     lambda v: int(v["p"] and v["q"] and v["a"] > 0)),
    ("or", "pq", lambda v: v["p"] | v["q"], lambda v: v["p"] | v["q"]),
    ("or", "pqa", lambda v: Or(v["p"], v["q"], v["a"] < 0),
     lambda v: int(v["p"] or v["q"] or v["a"] < 0)),
    ("or", "pq", lambda v: implies(v["p"], v["q"]), lambda v: int(not v["p"] or v["q"])),
    ("eq", "ab", lambda v: v["a"] == v["b"], lambda v: int(v["a"] == v["b"])),
    ("ne", "ab", lambda v: v["a"] != v["b"], lambda v: int(v["a"] != v["b"])),
    ("lt", "ab", lambda v: v["a"] < v["b"], lambda v: int(v["a"] < v["b"])),
    ("le", "ab", lambda v: v["a"] <= v["b"], lambda v: int(v["a"] <= v["b"])),
    ("gt", "ab", lambda v: v["a"] > v["b"], lambda v: int(v["a"] > v["b"])),
    ("ge", "ab", lambda v: v["a"] >= v["b"], lambda v: int(v["a"] >= v["b"])),
    ("gt", "a", lambda v: 1 < v["a"], lambda v: int(1 < v["a"])),   # reflected
    ("eq", "xy", lambda v: v["x"] == v["y"], lambda v: int(v["x"] == v["y"])),
    ("lt", "xy", lambda v: v["x"] < v["y"], lambda v: int(v["x"] < v["y"])),
    ("eq", "y", lambda v: v["y"].is_none(), lambda v: int(v["y"] == 3)),
    ("ne", "y", lambda v: v["y"].is_some(), lambda v: int(v["y"] != 3)),
    ("eq", "ST", lambda v: v["S"] == v["T"], lambda v: int(v["S"] == v["T"])),
    ("eq", "S", lambda v: v["S"].is_empty(), lambda v: int(v["S"] == 0)),
    ("add", "ab", lambda v: v["a"] + v["b"], lambda v: v["a"] + v["b"]),
    ("add", "a", lambda v: 1 + v["a"], lambda v: 1 + v["a"]),
    ("sub", "ab", lambda v: v["a"] - v["b"], lambda v: v["a"] - v["b"]),
    ("sub", "a", lambda v: 1 - v["a"], lambda v: 1 - v["a"]),
    ("min", "ab", lambda v: minimum(v["a"], v["b"]), lambda v: min(v["a"], v["b"])),
    ("max", "ab", lambda v: maximum(v["a"], v["b"]), lambda v: max(v["a"], v["b"])),
    ("ite", "pab", lambda v: ite(v["p"], v["a"], v["b"]),
     lambda v: v["a"] if v["p"] else v["b"]),
    ("ite", "pxy", lambda v: ite(v["p"], v["x"], v["y"]),
     lambda v: v["x"] if v["p"] else v["y"]),
    ("ite", "px", lambda v: ite(v["p"], v["x"], None), lambda v: v["x"] if v["p"] else 3),
    ("select", "yab", lambda v: select(v["y"], [v["a"], v["b"], v["a"] + v["b"]],
                                       Const(-1, Int(-1, -1)), v["a"].type),
     lambda v: [v["a"], v["b"], v["a"] + v["b"], -1][v["y"]]),
    ("select", "ab",  # an integer key that can leave the table: the default
     lambda v: select(v["a"], [v["b"], v["b"] + 1], Const(9, Int(9, 9)), v["b"].type),
     lambda v: [v["b"], v["b"] + 1][v["a"]] if 0 <= v["a"] < 2 else 9),
    ("contains", "Sx", lambda v: v["S"].contains(v["x"]), lambda v: int(v["x"] in elems(v["S"]))),
    ("contains", "Sy", lambda v: v["S"].contains(v["y"]), lambda v: int(v["y"] in elems(v["S"]))),
    ("insert", "Sx", lambda v: v["S"] | v["x"], lambda v: v["S"] | 1 << v["x"]),
    ("remove", "Sx", lambda v: v["S"] - v["x"], lambda v: v["S"] & ~(1 << v["x"])),
    ("remove", "Sy", lambda v: v["S"] - v["y"], lambda v: mask(elems(v["S"]) - {v["y"]})),
    ("union", "ST", lambda v: v["S"] | v["T"], lambda v: mask(elems(v["S"]) | elems(v["T"]))),
    ("inter", "ST", lambda v: v["S"] & v["T"], lambda v: mask(elems(v["S"]) & elems(v["T"]))),
    ("inter", "Sx", lambda v: v["S"] & v["x"], lambda v: mask(elems(v["S"]) & {v["x"]})),
    ("diff", "ST", lambda v: v["S"] - v["T"], lambda v: mask(elems(v["S"]) - elems(v["T"]))),
    ("size", "S", lambda v: v["S"].size(), lambda v: len(elems(v["S"]))),
    ("size", "Sy", lambda v: (v["S"] | v["y"]).size(),   # none's bit counts: up to 4
     lambda v: len(elems(v["S"]) | {v["y"]})),
    ("least", "S", lambda v: v["S"].least(), lambda v: min(elems(v["S"]), default=3)),
    ("count", "pqa", lambda v: count([v["p"], v["q"], v["a"] > 1]),
     lambda v: v["p"] + v["q"] + (v["a"] > 1)),
    ("count", "S", lambda v: count_of(D3, lambda e: v["S"].contains(e)),
     lambda v: len(elems(v["S"]))),
    ("count", "a", lambda v: count([v["a"] > 0]), lambda v: int(v["a"] > 0)),
    ("setof", "a", lambda v: set_of(D1, lambda e: v["a"] > 0), lambda v: int(v["a"] > 0)),
    ("setof", "Sx", lambda v: set_of(D3, lambda e: ~v["S"].contains(e) | (e == v["x"])),
     lambda v: mask({i for i in range(3) if i not in elems(v["S"]) or i == v["x"]})),
    ("and", "S", lambda v: all_of(D3, lambda e: v["S"].contains(e)), lambda v: int(v["S"] == 7)),
    ("or", "S", lambda v: any_of(D3, lambda e: v["S"].contains(e)), lambda v: int(v["S"] != 0)),
    ("ite", "S", lambda v: first(reversed(list(D3)), lambda e: v["S"].contains(e)),
     lambda v: max(elems(v["S"]), default=3)),
]


def _values(t):
    return range(t.lo(), t.hi() + 1)


def _var(name):
    slot, t = VARS[name]
    return Var(slot, t)


def _const(name, code):
    t = VARS[name][1]
    return Const(code, Int(code, code) if isinstance(t, Int) else t)


@pytest.mark.parametrize("case", OPERATORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(OPERATORS)])
def test_operator_semantics_folding_and_codegen(case):
    op, names, build, reference = case
    expr = build({n: _var(n) for n in VARS})
    assert expr.op == op
    fn = eval(f"lambda {', '.join(f'v{i}' for i in range(WIDTH))}: {source(expr)}")
    for combo in itertools.product(*(_values(VARS[n][1]) for n in names)):
        values = dict(zip(names, combo))
        state = [0] * WIDTH
        for n, code in values.items():
            state[VARS[n][0]] = code
        v = {n: state[VARS[n][0]] for n in VARS}
        want = reference(v)
        assert evaluate(expr, tuple(state)) == want, values
        got = fn(*state)
        assert got == want, (values, source(expr))
        if expr.type is not Bool:     # integers, elements, sets: ints, never Python bools
            assert type(got) is int, (values, source(expr))
        lo, hi = expr.bounds()
        assert lo <= want <= hi, (values, expr.type)
        # the same operator on constants folds to the same value at build time
        folded = build({n: _const(n, v[n]) for n in VARS})
        assert folded.op == "const" and folded.value == want, values


def test_every_operator_is_exercised():
    assert {case[0] for case in OPERATORS} == OPS


# == random models: compiled code against the reference interpreter ===============================
#
# A recipe is a nested tuple (tag, *children); ``build`` turns it into an expression while an
# action body is traced. Recipes come in four sorts: booleans, integers, elements of the
# model's domain ``d`` (or none), and subsets of ``d``. They read every kind of variable,
# through constant and dynamic keys, including a map of maps and a map of sequences.

E = Enum("E", "A", "B", "C")


def model_variables(m):
    return {
        "b": Bool, "i": Int(m.lo, m.hi), "e": E, "d": m.d, "mb": Maybe(m.d), "st": Set(m.d),
        "mp": Map(m.d, Int(0, 3)), "mm": Map(m.d, Map(m.d, Bool)), "ms": Map(m.d, Set(m.d)),
        "sq": Seq(Int(0, 2), 2), "mq": Map(m.d, Seq(Bool, 2)),
    }


class Ctx:
    """What a recipe is built against: the model, the recording state, bound elements
    (the action's parameter and choice, and the variables of enclosing all/any/count...)."""

    def __init__(self, m, s, elems):
        self.m, self.s, self.elems = m, s, list(elems)

    def bind(self, recipe):
        return lambda e: build(recipe, Ctx(self.m, self.s, [*self.elems, e]))


def build(r, ctx):
    """Turn a recipe into an expression while tracing."""
    tag, *a = r
    s, m = ctx.s, ctx.m

    def B(x):
        return lift(build(x, ctx))

    def K(x):  # a map key: a constant none would be a static error, use the first element
        e = B(x)
        return m.d.elements()[0] if e.op == "const" and e.value >= len(m.d) else e

    def cmp(op, x, y):
        return getattr(B(x), op)(B(y))
    table = {
        # booleans
        "true": lambda: a[0], "b": lambda: s.b, "is_e": lambda: s.e == getattr(E, a[0]),
        "not": lambda: ~B(a[0]), "and": lambda: B(a[0]) & B(a[1]),
        "or": lambda: B(a[0]) | B(a[1]), "cmp": lambda: cmp(*a),
        "contains": lambda: B(a[0]).contains(B(a[1])),
        "bite": lambda: ite(B(a[0]), B(a[1]), B(a[2])),
        "all": lambda: all_of(m.d, ctx.bind(a[0])), "any": lambda: any_of(m.d, ctx.bind(a[0])),
        "none": lambda: B(a[0]).is_none(), "empty": lambda: B(a[0]).is_empty(),
        "mm": lambda: s.mm[K(a[0])][K(a[1])], "mq_at": lambda: s.mq[K(a[0])][B(a[1])],
        # integers
        "int": lambda: a[0], "i": lambda: s.i, "len": lambda: s.sq.length(),
        "last": lambda: s.sq.last(),
        "add": lambda: B(a[0]) + B(a[1]), "sub": lambda: B(a[0]) - B(a[1]),
        "min": lambda: minimum(B(a[0]), B(a[1])), "max": lambda: maximum(B(a[0]), B(a[1])),
        "iite": lambda: ite(B(a[0]), B(a[1]), B(a[2])),
        "size": lambda: B(a[0]).size(), "count": lambda: count_of(m.d, ctx.bind(a[0])),
        "mp": lambda: s.mp[K(a[0])], "sq_at": lambda: s.sq[B(a[0])],
        "mq_len": lambda: s.mq[K(a[0])].length(),
        # elements of d, or none
        "d": lambda: s.d, "mb": lambda: s.mb, "el": lambda: m.d.elements()[a[0] % len(m.d)],
        "nil": lambda: ite(s.b, s.d, None),
        "bound": lambda: ctx.elems[-1 - a[0] % len(ctx.elems)],
        "least": lambda: B(a[0]).least(), "first": lambda: first(list(m.d), ctx.bind(a[0])),
        "eite": lambda: ite(B(a[0]), B(a[1]), B(a[2])),
        # subsets of d
        "st": lambda: s.st, "ms": lambda: s.ms[K(a[0])],
        "set": lambda: lift({e for e in m.d.elements() if a[0] >> e.value & 1}, Set(m.d)),
        "insert": lambda: B(a[0]) | B(a[1]), "remove": lambda: B(a[0]) - B(a[1]),
        "union": lambda: B(a[0]) | B(a[1]), "inter": lambda: B(a[0]) & B(a[1]),
        "diff": lambda: B(a[0]) - B(a[1]), "setof": lambda: set_of(m.d, ctx.bind(a[0])),
        "site": lambda: ite(B(a[0]), B(a[1]), B(a[2])),
    }
    return table[tag]()


def _t(tag, *parts):
    return st.tuples(st.just(tag), *parts)


CMP = st.sampled_from(["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
LEAVES = (
    st.one_of(_t("true", st.booleans()), _t("b"), _t("is_e", st.sampled_from(E.names))),
    st.one_of(_t("int", st.integers(-1, 3)), _t("i"), _t("len"), _t("last")),
    st.one_of(_t("d"), _t("mb"), _t("nil"), _t("el", st.integers(0, 2)),
              _t("bound", st.integers(0, 2))),
    st.one_of(_t("st"), _t("set", st.integers(0, 7))),
)


@functools.cache
def sorts(depth):
    """(bools, ints, elems, sets): recipes nested at most ``depth`` deep."""
    if depth == 0:
        return LEAVES
    b, i, e, s = sorts(depth - 1)
    bools = st.one_of(
        b, _t("not", b), _t("and", b, b), _t("or", b, b), _t("cmp", CMP, i, i),
        _t("cmp", CMP, e, e), _t("cmp", st.sampled_from(["__eq__", "__ne__"]), s, s),
        _t("contains", s, e),
        _t("bite", b, b, b), _t("all", b), _t("any", b), _t("none", e), _t("empty", s),
        _t("mm", e, e), _t("mq_at", e, i))
    ints = st.one_of(
        i, _t("add", i, i), _t("sub", i, i), _t("min", i, i), _t("max", i, i),
        _t("iite", b, i, i), _t("size", s), _t("count", b), _t("mp", e), _t("sq_at", i),
        _t("mq_len", e))
    elems = st.one_of(e, _t("least", s), _t("first", b), _t("eite", b, e, e))
    sets = st.one_of(
        s, _t("insert", s, e), _t("remove", s, e), _t("union", s, s), _t("inter", s, s),
        _t("diff", s, s), _t("setof", b), _t("ms", e), _t("site", b, s, s))
    return bools, ints, elems, sets


BOOLS, INTS, ELEMS, SETS = sorts(3)


@functools.cache
def statements(depth=2):
    simple = st.one_of(
        _t("set_b", BOOLS), _t("set_i", INTS),
        _t("set_e", BOOLS, st.sampled_from(E.names), st.sampled_from(E.names)),
        _t("set_d", ELEMS), _t("set_mb", ELEMS), _t("set_st", SETS),
        _t("set_mp", ELEMS, INTS), _t("set_mm", ELEMS, ELEMS, BOOLS), _t("set_ms", ELEMS, SETS),
        _t("append", INTS), _t("sq_set", INTS, INTS),
        _t("sq_set_static", st.integers(0, 1), INTS), _t("truncate", INTS),
        _t("mq_append", ELEMS, BOOLS), _t("require", BOOLS),
    )
    if depth == 0:
        return st.lists(simple, max_size=3)
    return st.lists(st.one_of(simple, _t("when", BOOLS, statements(depth - 1))), max_size=4)


def run(stmts, ctx):
    """Execute statement recipes in an action body."""
    s, m = ctx.s, ctx.m

    def B(x):
        return lift(build(x, ctx))

    def K(x):
        e = B(x)
        return m.d.elements()[0] if e.op == "const" and e.value >= len(m.d) else e
    for tag, *a in stmts:
        if tag == "set_b":
            s.b = B(a[0])
        elif tag == "set_i":
            s.i = B(a[0])
        elif tag == "set_e":
            s.e = ite(B(a[0]), getattr(E, a[1]), getattr(E, a[2]))
        elif tag == "set_d":
            s.d = B(a[0])
        elif tag == "set_mb":
            s.mb = B(a[0])
        elif tag == "set_st":
            s.st = B(a[0])
        elif tag == "set_mp":
            s.mp[K(a[0])] = B(a[1])
        elif tag == "set_mm":
            s.mm[K(a[0])][K(a[1])] = B(a[2])
        elif tag == "set_ms":
            s.ms[K(a[0])] = B(a[1])
        elif tag == "append":
            s.sq.append(B(a[0]))
        elif tag == "sq_set":
            s.sq[B(a[0])] = B(a[1])
        elif tag == "sq_set_static":
            s.sq[a[0]] = B(a[1])
        elif tag == "truncate":
            s.sq.truncate(B(a[0]))
        elif tag == "mq_append":
            s.mq[K(a[0])].append(B(a[1]))
        elif tag == "require":
            require(B(a[0]))
        else:
            assert tag == "when"
            with when(B(a[0])):
                run(a[1], ctx)


def _signature(names):
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(n, kind) for n in names])


@st.composite
def random_models(draw):
    """A model class with 1-3 actions (each with or without a parameter and a choice) and
    0-2 invariants, over a domain of 1-3 ids and an integer variable of a random range."""
    size = draw(st.integers(1, 3))
    lo = draw(st.integers(-2, 1))
    hi = lo + draw(st.integers(0, 4))
    acts = draw(st.lists(st.tuples(st.booleans(), st.booleans(), statements()),
                         min_size=1, max_size=3))
    props = draw(st.lists(BOOLS, max_size=2))

    ns = {"name": "random", "lo": lo, "hi": hi,
          "setup": lambda m: setattr(m, "d", Domain("d", ids=tuple(range(10, 10 + size)))),
          "variables": model_variables, "init": lambda m, s: None}
    for k, (param, chosen, body) in enumerate(acts):
        def fn(m, s, *args, body=body, chosen=chosen):
            elems = list(args)
            if chosen:
                elems.append(choose(m.d, name="c"))
            run(body, Ctx(m, s, elems or [m.d.elements()[0]]))
        fn.__signature__ = _signature(["m", "s", "x"] if param else ["m", "s"])
        ns[f"act{k}"] = action(*(["d"] if param else []))(fn)
    for k, recipe in enumerate(props):
        ns[f"prop{k}"] = always(lambda m, s, recipe=recipe:
                                build(recipe, Ctx(m, s, [m.d.elements()[0]])))
    return type("Random", (Model,), ns), (acts, props)


def random_state(layout):
    return st.tuples(*[st.integers(t.lo(), t.hi()) for t in layout.slot_types])


RANDOM = settings(max_examples=200, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@RANDOM
@given(random_models(), st.data())
def test_compiled_successors_match_the_reference_interpreter(drawn, data):
    model_cls, recipe = drawn
    built = model_cls().build()
    system = model_cls().compile()
    assert [a.label for a in built.actions] == system.actions
    first_false = system.first_false([p.name for p in built.properties])
    scalar = [t is not Bool for t in built.layout.slot_types]
    for state in data.draw(st.lists(random_state(built.layout), min_size=1, max_size=8)):
        assert outcome(system.successors, state) == \
            outcome(lambda t: oracle_successors(built, t), state), recipe
        try:
            successors = system.successors(state)
        except OutOfRange:
            continue
        # integers, elements and sets are stored as ints, never as Python bools
        for _, t in successors:
            assert all(type(v) is int for v, check in zip(t, scalar) if check), (t, recipe)
        expected = next((k for k, p in enumerate(built.properties)
                         if not evaluate(p.expr, state)), -1)
        assert first_false(state) == expected, recipe


@settings(RANDOM, max_examples=60)
@given(random_models())
def test_engine_on_compiled_code_matches_engine_on_the_interpreter(drawn):
    model_cls, recipe = drawn
    built = model_cls().build()
    a = bfs(model_cls().compile(), max_depth=3, max_states=3000)
    b = bfs(EvaluatedSystem(built), max_depth=3, max_states=3000)
    assert (a.verdict, a.distinct_states, a.states_per_depth, a.states_generated) == \
        (b.verdict, b.distinct_states, b.states_per_depth, b.states_generated), recipe
    assert (a.violation is None) == (b.violation is None)
    if a.violation is not None:
        assert (a.violation.property, a.violation.length, a.violation.note) == \
            (b.violation.property, b.violation.length, b.violation.note)
        assert [s.raw for s in a.violation.steps] == [s.raw for s in b.violation.steps]


# == out-of-range writes are type_ok violations ====================================================

def counter(limit):
    return make_model(lambda m: {"c": Int(0, limit)},
                      actions=[("inc", (), lambda m, s: setattr(s, "c", s.c + 1))])


def test_out_of_range_write_is_a_type_ok_violation_with_a_trace():
    result = bfs(counter(3)().compile())
    result.assert_violation("type_ok", length=3, path=["inc()"] * 3)
    v = result.violation
    assert v.kind == "type_ok"
    assert v.note == "inc() writes 4 to c, outside its range 0..3"
    assert v.final_state == {"c": 3}
    assert result.distinct_states == 4 and not result.complete


def test_type_ok_covers_domains_sets_and_sequences():
    def setup(m):
        m.d = Domain("d", ids=(1, 2))

    def variables(m):
        return {"who": m.d, "maybe": Maybe(m.d), "group": Set(m.d), "log": Seq(Bool, 2),
                "step": Int(0, 5)}

    def forget(m, s):
        require(s.step == 1)
        s.who = s.maybe              # maybe is none: a domain slot cannot hold it

    def gather(m, s):
        require(s.step == 2)
        s.group = s.group | s.maybe  # inserting none leaves the set's range

    def grow(m, s):
        require(s.step >= 3)
        s.log.append(True)           # the third append overflows

    def tick(m, s):
        require(s.step < 5)
        s.step = s.step + 1

    cases = [("forget", "forget() writes 2 to who, outside its range 0..1", 1),
             ("gather", "gather() writes 4 to group, outside its range 0..3", 2),
             ("grow", "grow() writes 3 to len(log), outside its range 0..2", 5)]
    bodies = {"forget": forget, "gather": gather, "grow": grow}
    for name, note, length in cases:
        acts = [("tick", (), tick), (name, (), bodies[name])]
        result = bfs(make_model(variables, setup=setup, actions=acts)().compile())
        result.assert_violation("type_ok", length=length)
        assert result.violation.note == note


def test_range_checks_only_where_a_value_can_leave_its_range():
    def step(m, s):
        s.c = minimum(s.c + 1, 3)     # bounds 1..3: stays inside Int(0, 3)
        s.m = s.d                     # an element always fits a Maybe
        s.st = s.st | s.d             # inserting an element (not none) fits the set
    model = make_model(lambda m: {"c": Int(0, 3), "d": m.d, "m": Maybe(m.d), "st": Set(m.d)},
                       setup=lambda m: setattr(m, "d", Domain("d", size=2)),
                       actions=[("step", (), step)])
    assert "OutOfRange" not in successors_source(model().build())
    assert "OutOfRange" in successors_source(counter(3)().build())
    bfs(model().compile()).assert_holds()


def test_size_of_a_set_holding_none_is_bounded_soundly():
    """``S | m`` with ``m`` none carries none's bit, which ``size`` counts: |d| + 1 must be
    within the bound the code generator trusts, for range checks and table lookups."""
    def setup(m):
        m.d = Domain("d", size=2)

    def variables(m):
        return {"st": Set(m.d), "m": Maybe(m.d), "n": Int(0, 2), "q": Seq(Bool, 2), "f": Bool}

    def init(m, s):
        s.st = set(m.d)

    def write(m, s):
        s.n = (s.st | s.m).size()                 # 3 when st is full and m is none

    def read(m, s):
        s.f = s.q[(s.st | s.m).size()]            # index 3: past the entries, the default

    built = make_model(variables, setup=setup, init=init, actions=[("read", (), read)])().build()
    system = CompiledSystem(built)
    (init_state,) = built.initial
    assert system.successors(init_state) == oracle_successors(built, init_state)
    result = bfs(make_model(variables, setup=setup, init=init,
                            actions=[("write", (), write)])().compile())
    result.assert_violation("type_ok", length=0)
    assert result.violation.note == "write() writes 3 to n, outside its range 0..2"


def test_counts_and_sets_over_one_element_are_ints():
    def step(m, s):
        s.f = ~s.f
        s.n = count_of(m.d, lambda x: s.f)       # one comparison: must still be an int
        s.st = set_of(m.d, lambda x: s.f == True)  # noqa: E712

    system = make_model(lambda m: {"f": Bool, "n": Int(0, 1), "st": Set(m.d)},
                        setup=lambda m: setattr(m, "d", Domain("d", ids=("only",))),
                        actions=[("step", (), step)])().compile()
    state = system.initial_states()[0]
    for _ in range(3):
        ((_, state),) = system.successors(state)
        assert type(state[1]) is int and type(state[2]) is int
    assert system.decode(system.successors((0, 0, 0))[0][1]) == \
        {"f": True, "n": 1, "st": frozenset({"only"})}


def test_init_outside_a_range_is_a_model_error():
    model = make_model(lambda m: {"c": Int(0, 3)}, init=lambda m, s: setattr(s, "c", 7),
                       actions=[("inc", (), lambda m, s: None)])
    with pytest.raises(ModelError, match=r"init writes 7 to c, outside its range 0\.\.3"):
        model().build()


# == errors a model author meets ==================================================================

def _build_error(body, variables=None, exc=TracingError):
    variables = variables or (lambda m: {"a": Int(0, 3), "f": Bool, "x": Map(m.d, Bool),
                                         "st": Set(m.d), "q": Seq(Bool, 2), "k": Maybe(m.d)})
    model = make_model(variables, setup=lambda m: setattr(m, "d", Domain("d", ids=(1, 2))),
                       actions=[("act", (), body)], name="errs")
    with pytest.raises(exc) as err:
        model().build()
    return str(err.value)


@pytest.mark.parametrize("body", [
    lambda m, s: s.__setattr__("a", 1) if s.a == 1 else None,       # if
    lambda m, s: require(s.f and s.a == 1),                          # and
    lambda m, s: require(s.a == 1 or s.f),                           # or
    lambda m, s: require(not s.f),                                   # not
    lambda m, s: require(s.f if s.a > 1 else True),                  # conditional expression
])
def test_python_branching_on_a_traced_value_names_the_constructs(body):
    msg = _build_error(body)
    assert msg.startswith("in act(): ")
    for construct in ("when(", "ite(", "&"):
        assert construct in msg


def test_misused_traced_values_get_clear_errors():
    d_of = lambda m, i: m.d.of(i)  # noqa: E731
    cases = [
        (lambda m, s: require(d_of(m, 1) in s.st), "S.contains(x)"),
        (lambda m, s: [x for x in s.st], "iterate over a Domain"),
        (lambda m, s: [x for x in s.x], "iterate over the map's domain"),
        (lambda m, s: s.x and None, "a map has no truth value"),
        (lambda m, s: s.q and None, "use .is_empty()"),
        (lambda m, s: require(s.x), "is not a value of the modeling language"),
        (lambda m, s: len(s.q), "use .length()"),
        (lambda m, s: require(s.x[d_of(m, 1)] == s.x), "not a value of the modeling"),
        (lambda m, s: s.q == s.q, "sequences cannot be compared"),
        (lambda m, s: setattr(s, "x", 1), "assign its entries"),
        (lambda m, s: setattr(s, "f", 3), "cannot store a value of Int(3, 3) in a slot of Bool"),
        (lambda m, s: s.x.__setitem__(None, True), "cannot index by none"),
        (lambda m, s: s.x.__setitem__(1, True), "use d.of(1)"),
        (lambda m, s: s.q.__setitem__(2, True), "outside this sequence's bound 0..1"),
        (lambda m, s: require(s.a == s.f), "cannot compare Int(0, 3) with Bool"),
        (lambda m, s: require(s.st < s.st), "orders integers or domain elements"),
        (lambda m, s: require(s.a + s.f), "arithmetic needs integers"),
        (lambda m, s: require(s.f & s.a), "boolean connective needs booleans"),
        (lambda m, s: s.a.contains(s.k), "is a set operation"),
        (lambda m, s: s.a.is_none(), "needs a Maybe value"),
        (lambda m, s: ite(s.f, s.a, s.f), "ite branches differ in type"),
        (lambda m, s: range(s.a), "Python index or range bound"),
        (lambda m, s: choose([]), "at least one value"),
        (lambda m, s: choose([1, 2]), "needs name="),
        # values are converted when chosen, so a bad last value is still found
        (lambda m, s: require(choose([1, 2, 2.5], name="n") > 0), "2.5 (float) is not a value"),
        (lambda m, s: s.st.__or__({5}), "not an element of d"),
        (lambda m, s: require(s.k == "x"), "not a value of Maybe(d)"),
    ]
    for body, fragment in cases:
        assert fragment in _build_error(body), fragment


def test_unknown_state_variable_suggests_the_closest():
    msg = _build_error(lambda m, s: require(s.ff))
    assert "no state variable 'ff'; did you mean 'f'?" in msg
    msg = _build_error(lambda m, s: setattr(s, "aa", 1))
    assert "no state variable 'aa'; did you mean 'a'?" in msg


def test_language_constructs_outside_a_body():
    with pytest.raises(TracingError, match="only valid inside"):
        require(True)
    with pytest.raises(TracingError, match="only valid inside"):
        with when(True):
            pass


def test_a_model_with_no_actions():
    model = make_model(lambda m: {"a": Bool}, name="idle")
    with pytest.raises(ModelError, match="model idle has no actions"):
        model().build()


def test_properties_must_be_boolean_and_read_only():
    def build_with(fn):
        return make_model(lambda m: {"a": Int(0, 3)}, actions=[("noop", (), lambda m, s: None)],
                          props=[("prop", "always", fn)])().build()
    with pytest.raises(ModelError, match="property prop must be boolean, but its value is Int"):
        build_with(lambda m, s: s.a + 1)
    with pytest.raises(ModelError, match="must be boolean"):
        build_with(lambda m, s: 3)
    with pytest.raises(TracingError, match="in property prop: a property or constraint "
                                           "cannot change the state"):
        build_with(lambda m, s: setattr(s, "a", 1))
    with pytest.raises(ModelError, match="calls require"):
        build_with(lambda m, s: (require(s.a > 0), s.a > 0)[1])
    assert build_with(lambda m, s: True).properties[0].expr.value == 1


def test_duplicate_names_are_rejected():
    # a choice named like an action parameter would give two instances the same label
    def send(m, s, d):
        to = choose(m.d)            # named after its domain, "d"
        s.x[to] = True
    model = make_model(lambda m: {"x": Map(m.d, Bool)},
                       setup=lambda m: setattr(m, "d", Domain("d", ids=(1, 2))),
                       actions=[("send", ("d",), send)])
    with pytest.raises(ModelError, match=r"action send: choose\(\) named 'd' clashes"):
        model().build()
    twice = make_model(lambda m: {"x": Map(m.d, Bool)},
                       setup=lambda m: setattr(m, "d", Domain("d", ids=(1, 2))),
                       actions=[("two", (), lambda m, s: (choose(m.d), choose(m.d)))])
    with pytest.raises(ModelError, match="clashes"):
        twice().build()
    with pytest.raises(ModelError, match="duplicate"):
        Enum("State", "UP", "DOWN", "UP")
    with pytest.raises(ModelError, match="duplicate"):
        Domain("broker", ids=(101, 102, 101))


def test_action_declaration_errors():
    with pytest.raises(ModelError, match="with parentheses"):
        action(lambda m, s: None)
    arity = make_model(lambda m: {"a": Bool},
                       setup=lambda m: setattr(m, "d", Domain("d", size=2)),
                       actions=[("bad", ("d",), lambda m, s: None)])
    with pytest.raises(ModelError, match=r"action bad ranges over 1 domain\(s\)"):
        arity().build()
    unknown = make_model(lambda m: {"a": Bool},
                         actions=[("bad", ("nodes",), lambda m, s, n: None)])
    with pytest.raises(ModelError, match="ranges over 'nodes', which setup"):
        unknown().build()
    empty_init = make_model(lambda m: {"a": Bool}, init=lambda m, s: require(False),
                            actions=[("noop", (), lambda m, s: None)])
    with pytest.raises(ModelError, match="init admits no state"):
        empty_init().build()


class Params(Model):
    name = "params-model"
    brokers = Param(3, lo=1, hi=5)
    replication_factor = Param(2, key="replication.factor", lo=1, hi=5)
    unclean = Param(False, key="unclean.leader.election.enable")
    mode = Param("zk", choices=["zk", "kraft"])

    def variables(m):
        return {"a": Bool}

    def init(m, s):
        pass

    @action()
    def noop(m, s):
        pass


def test_unknown_parameters_suggest_the_closest_name():
    with pytest.raises(ParameterError, match=r"unknown parameter 'broker' for model params-model;"
                                             r" did you mean 'brokers'\? \(known: brokers, "
                                             r"replication_factor, "):
        Params(broker=3)
    with pytest.raises(ParameterError, match="did you mean 'replication_factor'"):
        Params(replication_factr=2)
    with pytest.raises(ParameterError, match="did you mean 'replication.factor'"):
        Params.from_settings({"replication.factr": "2"})
    with pytest.raises(ParameterError, match="unknown parameter 'zzz'.*known:"):
        Params.from_settings({"zzz": "1"})


def test_parameter_values_are_checked():
    with pytest.raises(ParameterError, match=r"brokers=0 is out of range 1\.\.5"):
        Params(brokers=0)
    with pytest.raises(ParameterError, match=r"brokers=6 is out of range"):
        Params.from_settings({"brokers": "6"})
    with pytest.raises(ParameterError, match="brokers is an integer, not 'many'"):
        Params.from_settings({"brokers": "many"})
    with pytest.raises(ParameterError, match="takes a int"):
        Params(brokers="3")
    with pytest.raises(ParameterError, match="takes a bool"):
        Params(unclean=1)
    with pytest.raises(ParameterError, match="is a boolean: use true or false"):
        Params.from_settings({"unclean.leader.election.enable": "maybe"})
    with pytest.raises(ParameterError, match="must be one of zk, kraft"):
        Params(mode="raft")
    m = Params.from_settings({"replication.factor": "4", "unclean.leader.election.enable": "on",
                              "mode": "kraft", "brokers": 5})
    assert (m.brokers, m.replication_factor, m.unclean, m.mode) == (5, 4, True, "kraft")
    assert Params().param_values() == {"brokers": 3, "replication.factor": 2,
                                       "unclean.leader.election.enable": False, "mode": "zk"}


def test_unknown_fix_in_before():
    with pytest.raises(ParameterError, match=r"unknown fix 'KAFKA-6082' for model "
                                             r"params-model \(known fixes: none\)"):
        Params(before={"KAFKA-6082"})


class _Logs(Model):
    """Two servers' logs; a server can adopt the other's log whole, and an epoch counter
    indexes a map keyed by an epoch domain."""

    name = "logs"

    def setup(m):
        m.server = Domain("server", ids=(1, 2))
        m.epoch = Domain("epoch", ids=(1, 2))

    def variables(m):
        return {"log": Map(m.server, Seq(Int(0, 2), 2)), "epoch": Int(0, 3),
                "leader_of": Map(m.epoch, Maybe(m.server))}

    def init(m, s):
        s.epoch = 0

    @action("server")
    def append(m, s, server):
        require(s.log[server].length() < 2)
        s.log[server].append(minimum(s.epoch, 2))

    @action("server", "server", where=lambda m, a, b: a != b)
    def adopt(m, s, dst, src):
        s.log[dst] = s.log[src]

    @action("server")
    def lead(m, s, server):
        require(s.epoch < 3)
        s.epoch = s.epoch + 1
        s.leader_of[m.epoch.element(s.epoch + 1)] = server


def test_whole_sequence_assignment_and_domain_element_lookup():
    from kafkacheck.checker.lang.evaluate import evaluate
    built = _Logs().build()
    layout = built.layout
    adopt = next(a for a in built.actions if a.label == "adopt(dst=1, src=2)")
    lead = next(a for a in built.actions if a.label == "lead(server=2)")
    system = _Logs().compile()
    # log[1] = <<0>>, log[2] = <<1, 2>>, epoch 0
    state = list(layout.defaults)
    off1, off2 = layout.by_name["log"].offset, layout.by_name["log"].offset + 3
    state[off1:off1 + 3] = [1, 0, 0]
    state[off2:off2 + 3] = [2, 1, 2]
    state = tuple(state)
    after = {a: t for a, t in system.successors(state)}
    copied = layout.decode(after[built.actions.index(adopt)])
    assert copied["log"] == {1: [1, 2], 2: [1, 2]}
    led = layout.decode(after[built.actions.index(lead)])
    assert led["epoch"] == 1 and led["leader_of"] == {1: None, 2: 2}
    # at epoch 2 the element lookup falls outside the domain: the write changes nothing
    state3 = list(state)
    state3[layout.by_name["epoch"].offset] = 2
    led3 = layout.decode(dict(system.successors(tuple(state3)))[built.actions.index(lead)])
    assert led3["epoch"] == 3 and led3["leader_of"] == {1: None, 2: None}
    assert evaluate(adopt.guard, state)
    assert bfs(system).distinct_states == bfs(system, exact=True).distinct_states


def test_sequence_assignment_needs_the_same_type():
    class Bad(_Logs):
        def variables(m):
            return {"log": Map(m.server, Seq(Int(0, 2), 2)), "other": Seq(Int(0, 2), 3),
                    "epoch": Int(0, 3), "leader_of": Map(m.epoch, Maybe(m.server))}

        @action("server")
        def mix(m, s, server):
            s.log[server] = s.other
    with pytest.raises(TracingError, match="same type"):
        Bad().build()


def test_ite_over_two_enum_names_asks_for_a_constant():
    with pytest.raises(TracingError, match="MyEnum.A"):
        ite(Const(1, Bool), "DONE", "RETRY")


def test_two_parameters_cannot_share_a_key():
    class Twice(Model):
        name = "twice"
        a = Param(1, key="x")
        b = Param(2, key="x")

        def variables(m):
            return {"n": Int(0, 1)}

        def init(m, s):
            s.n = 0

        @action()
        def step(m, s):
            s.n = 1
    with pytest.raises(ModelError, match="share the key 'x'"):
        Twice()


@settings(RANDOM, max_examples=80)
@given(random_models())
def test_fingerprints_lose_no_state_against_exact_storage(drawn):
    """64-bit fingerprints of the canonical encoding against whole states, on random models
    with negative integer ranges, sets, maybes and sequences: the same search, state for
    state (CPython's ``hash`` of the tuple merged states differing by -1 versus -2)."""
    model_cls, recipe = drawn
    system = model_cls().compile()
    a = bfs(system, max_depth=4, max_states=3000)
    b = bfs(system, max_depth=4, max_states=3000, exact=True)
    assert (a.fingerprints, b.fingerprints) == ("64-bit", "exact")
    assert (a.verdict, a.distinct_states, a.states_per_depth, a.states_generated) == \
        (b.verdict, b.distinct_states, b.states_per_depth, b.states_generated), recipe
    assert (a.violation and a.violation.length) == (b.violation and b.violation.length)


# -- vacuity: a property constant in the configuration is reported as vacuous -------------------

class _Gated(Model):
    """A counter; ``watch`` decides whether the invariant looks at it at all."""

    name = "gated"
    watch = Param(True)
    limit = Param(3, lo=0, hi=5)

    def variables(m):
        return {"n": Int(0, 5)}

    def init(m, s):
        s.n = 0

    @action()
    def inc(m, s):
        require(s.n < m.limit)
        s.n = s.n + 1

    @always
    def small(m, s):
        if not m.watch:
            return True
        return s.n <= m.limit

    @sometimes
    def started(m, s):
        return s.n == 0

    @sometimes
    def moved(m, s):
        return s.n > 0 if m.watch else True


def test_a_property_constant_true_is_vacuous_never_holds():
    r = bfs(_Gated(watch=False).compile())
    assert r.verdict == "holds" and r.distinct_states == 4
    assert r.vacuous == ["small", "moved"]
    assert r.status() == {"small": "vacuous", "started": "trivially_reached",
                          "moved": "vacuous"}


def test_a_property_that_reads_the_state_is_not_vacuous():
    r = bfs(_Gated(watch=True).compile())
    assert r.vacuous == []
    assert r.status() == {"small": "holds", "started": "trivially_reached",
                          "moved": "reached"}
    stopped = bfs(_Gated(watch=True).compile(), max_depth=0)
    assert stopped.status()["moved"] == "not_reached_before_stop"


class _Countdown(Model):
    """``n != 4`` reads the state but cannot fail over ``n: Int(0, 3)``."""

    name = "countdown"

    def variables(m):
        return {"n": Int(0, 3)}

    @action()
    def inc(m, s):
        require(s.n < 3)
        s.n = s.n + 1

    @always
    def never_four(m, s):
        return s.n != 4

    @always
    def never_three(m, s):
        return s.n != 3

    @sometimes
    def in_range(m, s):
        return (s.n >= 0) & (s.n <= 3)


def test_a_property_true_in_every_state_of_its_types_is_vacuous():
    r = bfs(_Countdown().compile(), properties=["never_four", "in_range"])
    assert r.verdict == "holds" and r.distinct_states == 4
    assert r.status() == {"never_four": "vacuous", "in_range": "vacuous"}
    r = bfs(_Countdown().compile())
    assert r.status()["never_three"] == "violated" and r.violation.length == 3
    assert prove(_Countdown().compile(), properties=["never_four"])[0].vacuous


# == s.pre, a default init, symmetric refused ====================================================

class DieHard(Model):
    """The water jugs of TLA+'s DieHard, written with s.pre; no init (both jugs start empty)."""

    name = "diehard"

    def variables(m):
        return {"big": Int(0, 5), "small": Int(0, 3)}

    @action()
    def fill_small(m, s):
        s.small = 3

    @action()
    def fill_big(m, s):
        s.big = 5

    @action()
    def empty_small(m, s):
        s.small = 0

    @action()
    def empty_big(m, s):
        s.big = 0

    @action()
    def small_to_big(m, s):
        s.big = minimum(s.big + s.small, 5)
        s.small = s.small - (s.big - s.pre.big)

    @action()
    def big_to_small(m, s):
        s.small = minimum(s.big + s.small, 3)
        s.big = s.big - (s.small - s.pre.small)

    @always
    def not_four(m, s):
        return s.big != 4


class DieHardPrimedByMistake(DieHard):
    """The TLA-style reading without s.pre: the second line sees the new value twice."""

    @action()
    def small_to_big(m, s):
        s.big = minimum(s.big + s.small, 5)
        s.small = s.small - (s.big - s.big)

    @action()
    def big_to_small(m, s):
        s.small = minimum(s.big + s.small, 3)
        s.big = s.big - (s.small - s.small)


def test_s_pre_reads_the_state_before_the_step():
    result = bfs(DieHard().compile())
    result.assert_violation("not_four", length=6)
    assert result.violation.final_state == {"big": 4, "small": 3}
    assert bfs(DieHard().compile(), properties=[]).distinct_states == 16
    wrong = bfs(DieHardPrimedByMistake().compile())
    assert (wrong.verdict, wrong.distinct_states) == ("holds", 6)


def test_a_missing_init_starts_every_variable_at_its_default():
    assert DieHard().build().initial == [(0, 0)]


def test_s_pre_cannot_be_written_and_pre_is_no_variable_name():
    def write_pre(m, s):
        s.pre.c = 1
    with pytest.raises(TracingError, match="s.pre is the state before the step"):
        make_model(lambda m: {"c": Int(0, 2)}, actions=[("w", (), write_pre)])().build()
    with pytest.raises(ModelError, match="'pre' is reserved"):
        Layout({"pre": Bool})


def test_a_domain_declares_its_ids_symmetric():
    assert Domain("broker", ids=(1, 2), symmetric=True).symmetric
    assert not Domain("broker", ids=(1, 2)).symmetric


def test_choose_over_tuples_of_elements():
    def setup(m):
        m.d = Domain("d", ids=(1, 2, 3))

    def pair_up(m, s):
        a, b = choose(list(itertools.combinations(m.d, 2)), name="pair")
        require(s.paired.is_empty())
        s.paired = s.paired | a | b
    model = make_model(lambda m: {"paired": Set(m.d)}, setup=setup,
                       actions=[("pair_up", (), pair_up)])
    system = model().compile()
    assert system.actions == ["pair_up(pair=(1, 2))", "pair_up(pair=(1, 3))",
                              "pair_up(pair=(2, 3))"]
    assert sorted(t for _, t in system.successors((0,))) == [(0b011,), (0b101,), (0b110,)]


def test_a_folded_constant_set_holding_none_is_out_of_range_in_every_engine():
    """``{} | least({})`` folds to a constant whose bit of none no stored set may hold; the
    range check must not depend on an insert node surviving the folding (found by the
    random-model test above)."""
    from kafkacheck.checker import check
    from kafkacheck.checker.lang.expr import Const

    class Folded(Model):
        name = "folded"

        def setup(m):
            m.d = Domain("d", size=1)

        def variables(m):
            return {"st": Set(m.d)}

        def init(m, s):
            s.st = set()

        @action()
        def write(m, s):
            empty = Const(0, Set(m.d))
            s.st = empty | empty.least()

    from kafkacheck.checker.symbolic.bmc import bmc
    notes = {}
    for engine in ("bfs", "batch", "bmc"):
        system = Folded().compile()
        result = bmc(system, max_depth=2) if engine == "bmc" else check(system, engine=engine)
        assert result.verdict == "violated" and result.violation.property == "type_ok", engine
        assert result.violation.length == 0, engine  # the write from the initial state
        notes[engine] = result.violation.note
    assert notes["bfs"] == notes["batch"] == "write() writes 2 to st, outside its range 0..1"
