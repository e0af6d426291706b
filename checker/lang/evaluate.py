"""An interpreter for expressions: the semantics every back-end must match.

It is slow on purpose (clear, one rule per operator). The engines run compiled code; this
interpreter folds constants while tracing and is the oracle the back-ends are tested against.
Every operator is total on the codes a well-typed state holds, so evaluating both branches of
an ``ite`` or every option of a ``select`` gives the value a short-circuit would, and each
distinct node is evaluated once (``walk.fold``).
"""

from __future__ import annotations

from .expr import OPS as _LANGUAGE_OPS
from .types import Maybe
from .walk import fold_one, operator_table


def evaluate(e, state) -> int:
    """The code of expression ``e`` in ``state`` (a tuple of slot codes)."""
    return fold_one(e, RULES, state)


def _least(state, e, s):
    n = len(e.type.domain) if isinstance(e.type, Maybe) else 0
    return (s & -s).bit_length() - 1 if s else n


def _select(state, e, key, *options):
    # the last of ``options`` is the default, taken when the key is out of range
    return options[key] if 0 <= key < len(options) - 1 else options[-1]


RULES = operator_table("evaluate", {
    "const": lambda state, e: e.value,
    "var": lambda state, e: state[e.value],
    "not": lambda state, e, a: int(not a),
    "and": lambda state, e, *xs: int(all(xs)),
    "or": lambda state, e, *xs: int(any(xs)),
    "eq": lambda state, e, a, b: int(a == b),
    "ne": lambda state, e, a, b: int(a != b),
    "lt": lambda state, e, a, b: int(a < b),
    "le": lambda state, e, a, b: int(a <= b),
    "gt": lambda state, e, a, b: int(a > b),
    "ge": lambda state, e, a, b: int(a >= b),
    "add": lambda state, e, a, b: a + b,
    "sub": lambda state, e, a, b: a - b,
    "min": lambda state, e, a, b: min(a, b),
    "max": lambda state, e, a, b: max(a, b),
    "ite": lambda state, e, c, a, b: a if c else b,
    "select": _select,
    "contains": lambda state, e, s, x: s >> x & 1,
    "insert": lambda state, e, s, x: s | 1 << x,
    "remove": lambda state, e, s, x: s & ~(1 << x),
    "union": lambda state, e, a, b: a | b,
    "inter": lambda state, e, a, b: a & b,
    "diff": lambda state, e, a, b: a & ~b,
    "size": lambda state, e, s: s.bit_count(),
    "least": _least,
    "count": lambda state, e, *xs: sum(1 for x in xs if x),
    "setof": lambda state, e, *xs: sum(1 << i for i, x in enumerate(xs) if x),
})

OPS = frozenset(_LANGUAGE_OPS)
"""Every operator of the language (``expr.OPS``); back-ends are tested to cover exactly these."""
