"""The one traversal of expression trees and the back-ends' operator tables: completeness is
checked when a table is declared, each distinct node is visited once however much the
trees share, and every back-end gives the interpreter's value on random shared expressions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkacheck.checker.batch.vectorize import Columns
from kafkacheck.checker.batch.vectorize import RULES as NUMPY_RULES
from kafkacheck.checker.lang import Bool, Domain, Int, Maybe, Set
from kafkacheck.checker.lang.evaluate import RULES as EVAL_RULES
from kafkacheck.checker.lang.evaluate import evaluate
from kafkacheck.checker.lang.expr import OPS, Var, count, ite, maximum, minimum, select
from kafkacheck.checker.lang.pycodegen import RULES as PY_RULES
from kafkacheck.checker.lang.pycodegen import source
from kafkacheck.checker.lang.ranges import range_of_all
from kafkacheck.checker.lang.walk import (IncompleteTable, Unsupported, fold, operator_table,
                                          post_order)
from kafkacheck.checker.symbolic.z3gen import RULES as Z3_RULES
from kafkacheck.checker.symbolic.z3gen import Encoding, StateVars, _signed_bits


# -- the operator tables ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", [EVAL_RULES, PY_RULES, Z3_RULES, NUMPY_RULES],
                         ids=["evaluate", "python", "z3", "numpy"])
def test_every_back_end_has_an_entry_for_every_operator(table):
    assert set(table) == set(OPS)


def test_a_table_missing_operators_is_refused_naming_them():
    rules = {op: (lambda ctx, e, *a: 0) for op in OPS if op not in ("least", "setof")}
    with pytest.raises(IncompleteTable, match=r"the fake back-end's operator table is "
                                              r"incomplete: no rule for least, setof\. "):
        operator_table("fake", rules)


def test_a_table_naming_an_unknown_operator_is_refused():
    rules = {op: (lambda ctx, e, *a: 0) for op in OPS} | {"xor": lambda ctx, e, a, b: 0}
    with pytest.raises(IncompleteTable, match="rules for xor, which the language does not have"):
        operator_table("fake", rules)


def test_an_unsupported_entry_completes_the_table_and_says_why_when_met():
    rules = {op: (lambda ctx, e, *a: 0) for op in OPS} | {"add": Unsupported("no adder here")}
    table = operator_table("fake", rules)
    x = Var(0, Int(0, 3))
    with pytest.raises(NotImplementedError, match="operator 'add': no adder here"):
        fold([x + 1], table)


# -- the traversal ---------------------------------------------------------------------------------

def _chain(depth):
    """A DAG of ``depth`` + 1 distinct nodes whose tree has 2**depth leaves: each level adds
    the level below to itself."""
    e = Var(0, Int(0, 1))
    for _ in range(depth):
        e = e + e
    return e


def test_post_order_visits_each_distinct_node_once_on_an_exponential_tree():
    root = _chain(200)  # as a tree: 2**200 leaves
    order = post_order([root, root])
    assert len(order) == 201 and len({id(n) for n in order}) == 201
    assert order[0].op == "var" and order[-1] is root
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(a)] < position[id(n)] for n in order for a in n.args)


def test_fold_applies_each_rule_once_per_distinct_node():
    calls = []

    def rule(ctx, e, *a):
        calls.append(e.op)
        return 1 + sum(a)
    table = operator_table("counting", {op: rule for op in OPS})
    root = _chain(60)
    memo = fold([root], table)
    assert len(calls) == 61 and memo[id(root)] == 2 ** 61 - 1  # the tree's node count
    fold([root], table, memo=memo)  # everything is in the memo: nothing is computed again
    assert len(calls) == 61


def test_the_interpreter_evaluates_a_shared_dag_once_per_node():
    assert evaluate(_chain(64), (1,)) == 2 ** 64  # a walk of the tree would take 2**64 steps


# -- the back-ends against the interpreter on random shared expressions ---------------------------

D3 = Domain("walk_d3", ids=(1, 2, 3))
SLOTS = [Int(-2, 3), Int(0, 2), Bool, Bool, D3, Maybe(D3), Set(D3), Set(D3)]
VARS = [Var(i, t) for i, t in enumerate(SLOTS)]
STATES = list(itertools.product(*(range(t.lo(), t.hi() + 1) for t in SLOTS)))[::7]


def _kind(e):
    t = e.type
    return ("int" if isinstance(t, Int) else "bool" if t is Bool else
            "set" if isinstance(t, Set) else "elem")


def _grow(pool, choice):
    """One new node from nodes already in ``pool`` (so later nodes share earlier ones)."""
    op, i, j, k = choice
    by = {kind: [e for e in pool if _kind(e) == kind] for kind in ("int", "bool", "set", "elem")}

    def pick(kind, n):
        return by[kind][n % len(by[kind])]
    a, b = pick("int", i), pick("int", j)
    p, q = pick("bool", i), pick("bool", j)
    s, r, x = pick("set", i), pick("set", j), pick("elem", k)
    return {
        "add": lambda: a + b, "sub": lambda: a - b, "min": lambda: minimum(a, b),
        "max": lambda: maximum(a, b), "lt": lambda: a < b, "ge": lambda: a >= b,
        "eq": lambda: a == b, "ne": lambda: x != pick("elem", i), "and": lambda: p & q,
        "or": lambda: p | q, "not": lambda: ~p, "ite": lambda: ite(p, a, b),
        "eite": lambda: ite(p, x, None), "contains": lambda: s.contains(x),
        "insert": lambda: s | x, "remove": lambda: s - x, "union": lambda: s | r,
        "inter": lambda: s & r, "diff": lambda: s - r, "size": lambda: s.size(),
        "least": lambda: s.least(), "count": lambda: count([p, q, a > 0]),
        "select": lambda: select(x, [a, b, a + b], pick("int", k), Int(0, 0)),
        "setof": lambda: D3_setof(p, q),
    }[op]()


def D3_setof(p, q):
    from kafkacheck.checker.lang.expr import set_of
    return set_of(D3, lambda e: p if e.value == 0 else q if e.value == 1 else ~p)


GROW_OPS = ["add", "sub", "min", "max", "lt", "ge", "eq", "ne", "and", "or", "not", "ite",
            "eite", "contains", "insert", "remove", "union", "inter", "diff", "size", "least",
            "count", "select", "setof"]
CHOICES = st.tuples(st.sampled_from(GROW_OPS), st.integers(0, 30), st.integers(0, 30),
                    st.integers(0, 30))


def _z3_values(exprs, state):
    lo, hi = range_of_all(exprs)
    enc = Encoding.__new__(Encoding)  # only what the rules read: the width and two constants
    enc.width = _signed_bits(min(lo, -2), max(hi, 15)) + 1
    enc._one, enc._zero = z3.BitVecVal(1, enc.width), z3.BitVecVal(0, enc.width)
    sv = StateVars([z3.BoolVal(bool(c)) if t is Bool else z3.BitVecVal(c, enc.width)
                    for t, c in zip(SLOTS, state)], "s")
    memo = fold(exprs, Z3_RULES, (enc, sv), sv.cache)
    out = []
    for e in exprs:
        v = z3.simplify(memo[id(e)])
        out.append(int(z3.is_true(v)) if e.type is Bool else v.as_signed_long())
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CHOICES, min_size=1, max_size=25))
def test_back_ends_agree_with_the_interpreter_on_random_shared_expressions(choices):
    pool = list(VARS)
    for c in choices:
        pool.append(_grow(pool, c))
    exprs = pool[len(VARS):]
    fns = [eval(f"lambda {', '.join(f'v{i}' for i in range(len(SLOTS)))}: {source(e)}")
           for e in exprs]
    cols = Columns(np.array(STATES, dtype=np.int64).T.copy())
    batch = [cols.full(e) for e in exprs]
    for n, state in enumerate(STATES):
        want = [evaluate(e, state) for e in exprs]
        assert [int(f(*state)) for f in fns] == want
        assert [int(b[n]) for b in batch] == want
        if n % 40 == 0:  # Z3 is slow: a sample of the states
            assert _z3_values(exprs, state) == want
