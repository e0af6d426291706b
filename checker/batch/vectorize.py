"""Expression trees evaluated over a whole frontier at once: one NumPy array per slot.

Every value is an ``int64`` array (booleans may be ``bool`` arrays or scalars); each distinct
node of a tree is evaluated once per call (``Columns`` memoizes by node identity), so the
heavy sharing of model trees costs nothing extra. The semantics are those of the per-state
back-end (``pycodegen.source``), operator by operator.
"""

from __future__ import annotations

import numpy as np

from ..lang.types import Int, Set

#: values are held in int64: a model whose bounds leave this range is not vectorized
_LIMIT = 2 ** 62
_CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
        "gt": np.greater, "ge": np.greater_equal}
_BIN = {"add": np.add, "sub": np.subtract, "min": np.minimum, "max": np.maximum,
        "union": np.bitwise_or, "inter": np.bitwise_and}
OPS = frozenset({"const", "var", "not", "and", "or", "ite", "select", "contains", "insert",
                 "remove", "diff", "size", "least", "count", "setof", *_CMP, *_BIN})


def unsupported(exprs) -> str | None:
    """Why these trees cannot be evaluated in int64 columns, or None when they can."""
    seen: set[int] = set()
    stack = list(exprs)
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if e.op not in OPS:
            return f"operator {e.op!r} has no NumPy rule"
        if isinstance(e.type, Int):
            lo, hi = e.bounds()
            if lo < -_LIMIT or hi > _LIMIT:
                return f"the integer range {lo}..{hi} of {e.op!r} exceeds 64-bit columns"
        if isinstance(e.type, Set) and len(e.type.domain) > 61:
            return f"a set of {len(e.type.domain)} elements exceeds a 64-bit word"
        stack.extend(e.args)
    return None


class Columns:
    """Evaluate trees over ``cols`` (a 2-D int64 array, one row per slot, n columns)."""

    def __init__(self, cols: np.ndarray):
        self.cols = cols
        self.n = cols.shape[1]
        self.memo: dict[int, object] = {}

    def mask(self, e) -> np.ndarray:
        """A boolean array of length n: where ``e`` is true."""
        v = self.value(e)
        return np.broadcast_to(np.asarray(v, dtype=bool), (self.n,)) if np.ndim(v) == 0 \
            else v.astype(bool, copy=False)

    def full(self, e) -> np.ndarray:
        """An int64 array of length n: the value of ``e``."""
        v = self.value(e)
        if np.ndim(v) == 0:
            return np.full(self.n, int(v), dtype=np.int64)
        return v.astype(np.int64, copy=False)

    def value(self, e):
        memo = self.memo
        got = memo.get(id(e))
        if got is not None:
            return got
        # post-order without recursion: zk-cluster's trees are deep
        stack = [(e, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in memo:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if id(a) not in memo)
                continue
            memo[id(node)] = self._apply(node, [memo[id(a)] for a in node.args], self.n)
        return memo[id(e)]

    def _apply(self, e, a, n):
        op = e.op
        if op == "const":
            return np.int64(e.value)
        if op == "var":
            return self.cols[e.value]
        if op == "not":
            return np.logical_not(a[0])
        if op == "and":
            return _reduce(np.logical_and, a)
        if op == "or":
            return _reduce(np.logical_or, a)
        if op in _CMP:
            return _CMP[op](a[0], a[1])
        if op in _BIN:
            x, y = a
            if op in ("union", "inter"):
                x, y = _int(x), _int(y)
            return _BIN[op](x, y)
        if op == "ite":
            return np.where(a[0], a[1], a[2])
        if op == "select":
            key, options = _int(a[0]), a[1:]
            k = len(options) - 1  # the last is the default
            key = np.where((key >= 0) & (key < k), key, k)
            table = np.stack([np.broadcast_to(_int(o), (n,)) for o in options])
            key = np.broadcast_to(key, (n,))
            return table[key, np.arange(n)]
        if op == "contains":
            return (np.right_shift(_int(a[0]), _int(a[1])) & 1).astype(bool)
        if op == "insert":
            return _int(a[0]) | np.left_shift(np.int64(1), _int(a[1]))
        if op == "remove":
            return _int(a[0]) & ~np.left_shift(np.int64(1), _int(a[1]))
        if op == "diff":
            return _int(a[0]) & ~_int(a[1])
        if op == "size":
            return np.bitwise_count(_int(a[0])).astype(np.int64)
        if op == "least":
            s = _int(a[0])
            n = len(e.type.domain)
            out = np.full(np.shape(s), n, dtype=np.int64)
            for i in range(n + 1, -1, -1):  # down, so the lowest set bit wins
                out = np.where((s >> i) & 1 == 1, i, out)
            return out
        if op == "count":
            return sum(_int(x) for x in a)
        if op == "setof":
            out = np.int64(0)
            for i, x in enumerate(a):
                out = out | np.left_shift(_int(x), i)
            return out
        raise NotImplementedError(f"batch back-end: no rule for {op!r}")


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
    order: list = []
    index: dict[int, int] = {}
    stack = [(e, False) for e in reversed(exprs)]
    while stack:
        node, ready = stack.pop()
        if id(node) in index:
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if id(a) not in index)
            continue
        index[id(node)] = len(order)
        order.append(node)
    lines = ["def kernel(c):"]
    helper = Columns(np.zeros((0, 0), dtype=np.int64))
    ns = {"_np": np, "_i": _int, "N": order, "_apply": helper._apply}
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
            src = f"_apply(N[{k}], ({', '.join(r)},), c.shape[1])"
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
