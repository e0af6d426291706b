"""The per-state back-end: generate Python source for a built model, compile it once.

``successors(s)`` unpacks the state into locals, tests each action instance's guard and
rebuilds the tuple with the changed slots, so a successor costs a few bytecodes per slot
rather than a walk of the expression tree. A slot written with a value that can leave its
declared range gets a range check that raises ``OutOfRange``; the engines report it as a
violation of the built-in property ``type_ok``, with the trace that leads there.
"""

from __future__ import annotations

from .ranges import may_leave
from .walk import fold_one, operator_table, post_order

_BIN = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
        "add": "+", "sub": "-", "union": "|", "inter": "&"}


class OutOfRange(Exception):
    """An action wrote a value outside its slot's declared range."""

    def __init__(self, action: int, slot: int, value: int):
        super().__init__(action, slot, value)
        self.action, self.slot, self.value = action, slot, value


def source(e, refs=None) -> str:
    """Python source for expression ``e``; ``refs`` maps hoisted nodes (by id) to local
    names, and is extended with the source of every node under ``e`` (a memo)."""
    return fold_one(e, RULES, None, {} if refs is None else refs)


def _select(_, e, key, *options):
    lo, hi = e.args[0].bounds()
    n = len(options) - 1  # the last is the default
    table = "(" + ", ".join(options) + ",)"
    if lo >= 0 and hi <= n:
        return f"{table}[{key}]"
    return f"({table}[{key}] if 0 <= {key} < {n} else {options[-1]})"


def _least(_, e, s):
    return f"(({s} & -{s}).bit_length() - 1 if {s} else {len(e.type.domain)})"


# A comparison gives a Python bool; over one argument, count and setof would pass it on as the
# value of an integer or set slot (shown as true, not 1): add 0 to make an int.
def _count(_, e, *xs):
    return "(" + " + ".join(xs) + (" + 0)" if len(xs) == 1 else ")")


def _setof(_, e, *xs):
    return "(" + " | ".join(f"{x} << {i}" if i else f"{x}" for i, x in enumerate(xs)) \
        + (" | 0)" if len(xs) == 1 else ")")


def _infix(symbol):
    return lambda _, e, a, b: f"({a} {symbol} {b})"


RULES = operator_table("per-state Python", {
    "const": lambda _, e: repr(e.value),
    "var": lambda _, e: f"v{e.value}",
    "not": lambda _, e, a: f"(not {a})",
    "and": lambda _, e, *xs: "(" + " and ".join(xs) + ")",
    "or": lambda _, e, *xs: "(" + " or ".join(xs) + ")",
    **{op: _infix(symbol) for op, symbol in _BIN.items()},
    "min": lambda _, e, a, b: f"min({a}, {b})",
    "max": lambda _, e, a, b: f"max({a}, {b})",
    "ite": lambda _, e, c, a, b: f"({a} if {c} else {b})",
    "select": _select,
    "contains": lambda _, e, s, x: f"({s} >> {x} & 1)",
    "insert": lambda _, e, s, x: f"({s} | 1 << {x})",
    "remove": lambda _, e, s, x: f"({s} & ~(1 << {x}))",
    "diff": lambda _, e, a, b: f"({a} & ~{b})",
    "size": lambda _, e, s: f"{s}.bit_count()",
    "least": _least,
    "count": _count,
    "setof": _setof,
})


def _shared(exprs) -> list:
    """Non-leaf nodes used more than once across ``exprs`` (as a root or an argument of a
    distinct node), children before parents."""
    order = post_order(exprs)
    uses: dict[int, int] = {}
    for e in (*exprs, *(a for x in order for a in x.args)):
        uses[id(e)] = uses.get(id(e), 0) + 1
    return [e for e in order if e.op not in ("const", "var") and uses[id(e)] > 1]


def _guard_source(guard, updates) -> tuple[list[str], dict]:
    """The guard's conjuncts as source (none for a guard that is always true), binding (``(g0 := ...)``) each sub-expression that the updates
    also use and that Python evaluates whenever the guard holds; and the names of those
    bindings, by node id, for the updates to read instead of computing them again."""
    bind = {id(n) for n in _sure_when_true(guard)} & {id(n) for n in post_order(updates)}
    memo, names = {}, {}
    for node in post_order([guard]):
        src = RULES[node.op](None, node, *[memo[id(a)] for a in node.args])
        if id(node) in bind and node.op not in ("const", "var"):
            names[id(node)] = f"g{len(names)}"
            src = f"({names[id(node)]} := {src})"
        memo[id(node)] = src
    if guard.op == "const" and guard.value:
        return [], names
    return [memo[id(a)] for a in guard.args] if guard.op == "and" else [memo[id(guard)]], names


def _sure_when_true(guard) -> list:
    """Nodes of the guard that its code evaluates whenever the guard holds, each written
    once in its text (a node written twice would be bound where it is first evaluated, which
    a short circuit can skip): every conjunct of the guard, and, below a node so evaluated,
    the arguments Python always evaluates (not the branches of ``ite``, the rest of an
    ``and`` or ``or``, or the options of a ``select``)."""
    paths: dict[int, int] = {id(guard): 1}  # how many times a node is written in the text
    order = post_order([guard])
    for node in reversed(order):  # parents before children
        for a in node.args:
            paths[id(a)] = paths.get(id(a), 0) + paths[id(node)]
    sure, stack = [], list(guard.args) if guard.op == "and" else [guard]
    while stack:
        node = stack.pop()
        if paths[id(node)] != 1:
            continue
        sure.append(node)
        if node.op in ("and", "or", "ite", "select"):
            stack.append(node.args[0])
        else:
            stack.extend(node.args)
    return sure


def _unpack(width: int) -> str:
    if width == 1:
        return "    v0, = s"
    return "    " + ", ".join(f"v{i}" for i in range(width)) + " = s"


def instance_code(built, idx: int, inst) -> tuple[list[str], list[str], list[str]]:
    """One action instance as code: its guard as a list of conjuncts (empty when always
    true), the statements that compute its shared sub-expressions and range-check its
    writes, and the successor's slots (``v{i}`` for an unchanged slot). ``successors`` and
    the fused expansion share it."""
    width = built.layout.width
    conjuncts, refs = _guard_source(inst.guard, inst.updates.values())
    lines = []
    shared = [n for n in _shared(inst.updates.values()) if id(n) not in refs]
    for k, node in enumerate(shared):
        lines.append(f"t{k} = {source(node, refs)}")
        refs[id(node)] = f"t{k}"
    new = {}
    for slot, e in inst.updates.items():
        src = source(e, refs)
        if may_leave(e, built.layout.slot_types[slot]):
            t = built.layout.slot_types[slot]
            lines.append(f"n{slot} = {src}")
            lines.append(f"if not {t.lo()} <= n{slot} <= {t.hi()}: "
                         f"raise OutOfRange({idx}, {slot}, n{slot})")
            src = f"n{slot}"
        new[slot] = src
    return conjuncts, lines, [new.get(i, f"v{i}") for i in range(width)]


def guard_text(conjuncts: list[str]) -> str:
    """The Python condition of a list of conjuncts (as the ``and`` rule writes it)."""
    return conjuncts[0] if len(conjuncts) == 1 else "(" + " and ".join(conjuncts) + ")"


def successors_source(built) -> str:
    """Source of ``successors(s) -> list[(action_index, next_state)]``."""
    lines = ["def successors(s):", _unpack(built.layout.width), "    out = []",
             "    add = out.append"]
    for idx, inst in enumerate(built.actions):
        lines.append(f"    # {idx}: {inst.label}")
        conjuncts, pre, items = instance_code(built, idx, inst)
        body = "    "
        if conjuncts:
            lines.append(f"    if {guard_text(conjuncts)}:")
            body = "        "
        lines += [body + x for x in pre]
        lines.append(f"{body}add(({idx}, ({', '.join(items)},)))")
    lines.append("    return out")
    return "\n".join(lines)


#: generated source beyond this is refused before Python compiles it: compiling source costs
#: many times its size in memory and minutes of time (the largest built-in configuration
#: generates about 1 MiB)
MAX_SOURCE_BYTES = 32 * 2 ** 20


def _exec(built, src: str, fname: str):
    if len(src) > MAX_SOURCE_BYTES:
        from .errors import ModelError
        raise ModelError(f"model {built.name}: this configuration generates "
                         f"{len(src) / 2 ** 20:.0f} MiB of code for {fname} ({len(built.actions):,} "
                         f"action instances), more than the {MAX_SOURCE_BYTES // 2 ** 20} MiB "
                         "that can be compiled; choose smaller parameters")
    namespace = {"OutOfRange": OutOfRange}
    exec(compile(src, f"<kafkacheck:{built.name}:{fname}>", "exec"), namespace)
    return namespace[fname]


def compile_successors(built):
    """The compiled ``successors(s) -> list[(action_index, next_state)]``."""
    return _exec(built, successors_source(built), "successors")


def compile_first_false(built, exprs: list):
    """A compiled ``f(s) -> index of the first expression false in s, or -1``."""
    lines = ["def first_false(s):", _unpack(built.layout.width)]
    for k, e in enumerate(exprs):
        lines.append(f"    if not {source(e)}: return {k}")
    lines.append("    return -1")
    return _exec(built, "\n".join(lines), "first_false")


def compile_first_false_step(built, exprs: list):
    """A compiled ``f(s, t) -> index of the first step predicate false of the step from s
    to t, or -1``: a step predicate reads slot i of s as ``v{i}`` and of t as ``v{W+i}``."""
    w = built.layout.width
    after = ", ".join(f"v{w + i}" for i in range(w)) + ("," if w == 1 else "")
    lines = ["def first_false_step(s, t):", _unpack(w), f"    {after} = t"]
    for k, e in enumerate(exprs):
        lines.append(f"    if not {source(e)}: return {k}")
    lines.append("    return -1")
    return _exec(built, "\n".join(lines), "first_false_step")
