"""Expression trees evaluated over a whole frontier at once: one NumPy array per slot.

Every value is an ``int64`` array (booleans may be ``bool`` arrays or scalars); each distinct
node of a tree is evaluated once per call (``Columns`` memoizes by node identity), so the
heavy sharing of model trees costs nothing extra. The semantics are those of the per-state
back-end (``pycodegen.RULES``), operator by operator (``RULES``).
"""

from __future__ import annotations

import numpy as np

from ..lang.types import Int, Set
from ..lang.walk import fold_one, operator_table, post_order, unsupported_ops

#: values are held in int64: a model whose bounds leave this range is not vectorized
_LIMIT = 2 ** 62
_CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
        "gt": np.greater, "ge": np.greater_equal}


def unsupported(exprs) -> str | None:
    """Why these trees cannot be evaluated in int64 columns, or None when they can."""
    why = unsupported_ops(exprs, RULES)
    if why is not None:
        return why
    for e in post_order(exprs):
        if isinstance(e.type, Int):
            lo, hi = e.bounds()
            if lo < -_LIMIT or hi > _LIMIT:
                return f"the integer range {lo}..{hi} of {e.op!r} exceeds 64-bit columns"
        if isinstance(e.type, Set) and len(e.type.domain) > 61:
            return f"a set of {len(e.type.domain)} elements exceeds a 64-bit word"
    return None


class Columns:
    """Evaluate trees over ``cols`` (a 2-D int64 array, one row per slot, n columns)."""

    def __init__(self, cols: np.ndarray):
        self.cols = cols
        self.n = cols.shape[1]
        self.memo: dict[int, object] = {}

    def mask(self, e) -> np.ndarray:
        """A boolean array of length n: where ``e`` is true."""
        return as_mask(self.value(e), self.n)

    def full(self, e) -> np.ndarray:
        """An int64 array of length n: the value of ``e``."""
        return as_int(self.value(e), self.n)

    def value(self, e):
        """An array or a scalar; each distinct node once per ``Columns`` (``walk.fold``)."""
        return fold_one(e, RULES, (self.cols, self.n), self.memo)


# Rules take ``ctx`` = (the slot columns, their length), the node, and its children's values.

def _select(ctx, e, key, *options):
    n = ctx[1]
    key = _int(key)
    k = len(options) - 1  # the last is the default
    key = np.where((key >= 0) & (key < k), key, k)
    table = np.stack([np.broadcast_to(_int(o), (n,)) for o in options])
    key = np.broadcast_to(key, (n,))
    return table[key, np.arange(n)]


def _least(ctx, e, s):
    s = _int(s)
    n = len(e.type.domain)
    out = np.full(np.shape(s), n, dtype=np.int64)
    for i in range(n + 1, -1, -1):  # down, so the lowest set bit wins
        out = np.where((s >> i) & 1 == 1, i, out)
    return out


def _setof(ctx, e, *xs):
    out = np.int64(0)
    for i, x in enumerate(xs):
        out = out | np.left_shift(_int(x), i)
    return out


RULES = operator_table("NumPy batch", {
    "const": lambda ctx, e: np.int64(e.value),
    "var": lambda ctx, e: ctx[0][e.value],
    "not": lambda ctx, e, a: np.logical_not(a),
    "and": lambda ctx, e, *xs: _reduce(np.logical_and, xs),
    "or": lambda ctx, e, *xs: _reduce(np.logical_or, xs),
    **{op: (lambda fn: lambda ctx, e, a, b: fn(a, b))(fn) for op, fn in _CMP.items()},
    "add": lambda ctx, e, a, b: np.add(a, b),
    "sub": lambda ctx, e, a, b: np.subtract(a, b),
    "min": lambda ctx, e, a, b: np.minimum(a, b),
    "max": lambda ctx, e, a, b: np.maximum(a, b),
    "ite": lambda ctx, e, c, a, b: np.where(c, a, b),
    "select": _select,
    "contains": lambda ctx, e, s, x: (np.right_shift(_int(s), _int(x)) & 1).astype(bool),
    "insert": lambda ctx, e, s, x: _int(s) | np.left_shift(np.int64(1), _int(x)),
    "remove": lambda ctx, e, s, x: _int(s) & ~np.left_shift(np.int64(1), _int(x)),
    "union": lambda ctx, e, a, b: _int(a) | _int(b),
    "inter": lambda ctx, e, a, b: _int(a) & _int(b),
    "diff": lambda ctx, e, a, b: _int(a) & ~_int(b),
    "size": lambda ctx, e, s: np.bitwise_count(_int(s)).astype(np.int64),
    "least": _least,
    "count": lambda ctx, e, *xs: sum(_int(x) for x in xs),
    "setof": _setof,
})
OPS = frozenset(RULES)


def _int(x):
    if isinstance(x, np.ndarray):
        return x if x.dtype == np.int64 else x.astype(np.int64)
    return np.int64(x)


def _reduce(fn, args):
    out = args[0]
    for x in args[1:]:
        out = fn(out, x)
    return out


# -- kernels: a set of trees compiled once into straight-line NumPy code ------------------------

_INFIX = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
          "add": "+", "sub": "-"}
_CALL = {"min": "_np.minimum", "max": "_np.maximum", "ite": "_np.where",
         "not": "_np.logical_not"}


def kernel(exprs):
    """Compile trees into ``f(cols) -> list of values`` (arrays or scalars, one per tree):
    each distinct node once, as one line of NumPy code, so a frontier costs no tree walk."""
    order = post_order(exprs)
    index = {id(node): k for k, node in enumerate(order)}
    lines = ["def kernel(c):"]
    ns = {"_np": np, "_i": _int, "N": order, "_R": RULES}
    for k, e in enumerate(order):
        r = [f"r{index[id(a)]}" for a in e.args]
        op = e.op
        if op == "const":
            src = repr(int(e.value))
        elif op == "var":
            src = f"c[{e.value}]"
        elif op in _INFIX:
            src = f"({r[0]} {_INFIX[op]} {r[1]})"
        elif op in _CALL:
            src = f"{_CALL[op]}({', '.join(r)})"
        elif op in ("and", "or"):
            fn = "_np.logical_and" if op == "and" else "_np.logical_or"
            src = r[0]
            for x in r[1:]:
                src = f"{fn}({src}, {x})"
        elif op in ("union", "inter"):
            src = f"(_i({r[0]}) {'|' if op == 'union' else '&'} _i({r[1]}))"
        elif op == "contains":
            src = f"((_i({r[0]}) >> _i({r[1]})) & 1 == 1)"
        else:  # the rarer ones (select, least, setof, ...) through the rule table
            src = f"_R[{op!r}]((c, c.shape[1]), N[{k}], {', '.join(r)})"
        lines.append(f"    r{k} = {src}")
    lines.append(f"    return [{', '.join(f'r{index[id(e)]}' for e in exprs)}]")
    exec(compile("\n".join(lines), "<kafkacheck:batch-kernel>", "exec"), ns)
    return ns["kernel"]


def as_mask(v, n: int) -> np.ndarray:
    if np.ndim(v) == 0:
        return np.full(n, bool(v))
    return v.astype(bool, copy=False)


def as_int(v, n: int) -> np.ndarray:
    if np.ndim(v) == 0:
        return np.full(n, int(v), dtype=np.int64)
    return v.astype(np.int64, copy=False)
