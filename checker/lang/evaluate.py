"""A tree-walking interpreter for expressions: the semantics every back-end must match.

It is slow on purpose (clear, one case per operator). The engines run compiled code; this
interpreter folds constants while tracing and is the oracle the back-ends are tested against.
"""

from __future__ import annotations

from .types import Maybe


def evaluate(e, state) -> int:
    """The code of expression ``e`` in ``state`` (a tuple of slot codes)."""
    op, args = e.op, e.args
    if op == "const":
        return e.value
    if op == "var":
        return state[e.value]
    if op == "and":
        return int(all(evaluate(a, state) for a in args))
    if op == "or":
        return int(any(evaluate(a, state) for a in args))
    if op == "ite":
        return evaluate(args[1] if evaluate(args[0], state) else args[2], state)
    if op == "select":
        key = evaluate(args[0], state)
        options = args[1:-1]
        return evaluate(options[key] if 0 <= key < len(options) else args[-1], state)
    vals = [evaluate(a, state) for a in args]
    return _STRICT[op](e, *vals)


def _least(e, s):
    n = len(e.type.domain) if isinstance(e.type, Maybe) else 0
    return (s & -s).bit_length() - 1 if s else n


_STRICT = {
    "not": lambda e, a: int(not a),
    "eq": lambda e, a, b: int(a == b),
    "ne": lambda e, a, b: int(a != b),
    "lt": lambda e, a, b: int(a < b),
    "le": lambda e, a, b: int(a <= b),
    "gt": lambda e, a, b: int(a > b),
    "ge": lambda e, a, b: int(a >= b),
    "add": lambda e, a, b: a + b,
    "sub": lambda e, a, b: a - b,
    "min": lambda e, a, b: min(a, b),
    "max": lambda e, a, b: max(a, b),
    "contains": lambda e, s, x: s >> x & 1,
    "insert": lambda e, s, x: s | 1 << x,
    "remove": lambda e, s, x: s & ~(1 << x),
    "union": lambda e, a, b: a | b,
    "inter": lambda e, a, b: a & b,
    "diff": lambda e, a, b: a & ~b,
    "size": lambda e, s: s.bit_count(),
    "least": _least,
    "count": lambda e, *xs: sum(1 for x in xs if x),
    "setof": lambda e, *xs: sum(1 << i for i, x in enumerate(xs) if x),
}

OPS = frozenset(_STRICT) | {"const", "var", "and", "or", "ite", "select"}
"""Every operator of the language; back-ends are tested to cover exactly these."""
