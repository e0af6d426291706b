"""The per-state back-end: generate Python source for a built model, compile it once.

``successors(s)`` unpacks the state into locals, tests each action instance's guard and
rebuilds the tuple with the changed slots, so a successor costs a few bytecodes per slot
rather than a walk of the expression tree. A slot written with a value that can leave its
declared range gets a range check that raises ``OutOfRange``; the engines report it as a
violation of the built-in property ``type_ok``, with the trace that leads there.
"""

from __future__ import annotations

from .types import Domain, Int, Maybe, Set

_BIN = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
        "add": "+", "sub": "-", "union": "|", "inter": "&"}


class OutOfRange(Exception):
    """An action wrote a value outside its slot's declared range."""

    def __init__(self, action: int, slot: int, value: int):
        super().__init__(action, slot, value)
        self.action, self.slot, self.value = action, slot, value


def source(e, refs=None) -> str:
    """Python source for expression ``e``; ``refs`` maps hoisted nodes to local names."""
    if refs and id(e) in refs:
        return refs[id(e)]
    op, a = e.op, e.args
    src = lambda x: source(x, refs)  # noqa: E731
    if op == "const":
        return repr(e.value)
    if op == "var":
        return f"v{e.value}"
    if op == "not":
        return f"(not {src(a[0])})"
    if op in ("and", "or"):
        return "(" + f" {op} ".join(map(src, a)) + ")"
    if op in _BIN:
        return f"({src(a[0])} {_BIN[op]} {src(a[1])})"
    if op in ("min", "max"):
        return f"{op}({src(a[0])}, {src(a[1])})"
    if op == "ite":
        return f"({src(a[1])} if {src(a[0])} else {src(a[2])})"
    if op == "select":
        key, options, default = a[0], a[1:-1], a[-1]
        lo, hi = key.bounds()
        table = "(" + ", ".join(map(src, (*options, default))) + ",)"
        if lo >= 0 and hi <= len(options):
            return f"{table}[{src(key)}]"
        k = src(key)
        return f"({table}[{k}] if 0 <= {k} < {len(options)} else {src(default)})"
    if op == "contains":
        return f"({src(a[0])} >> {src(a[1])} & 1)"
    if op == "insert":
        return f"({src(a[0])} | 1 << {src(a[1])})"
    if op == "remove":
        return f"({src(a[0])} & ~(1 << {src(a[1])}))"
    if op == "diff":
        return f"({src(a[0])} & ~{src(a[1])})"
    if op == "size":
        return f"{src(a[0])}.bit_count()"
    if op == "least":
        s = src(a[0])
        return f"(({s} & -{s}).bit_length() - 1 if {s} else {len(e.type.domain)})"
    # A comparison gives a Python bool; over one argument, count and setof would pass it on
    # as the value of an integer or set slot (shown as true, not 1): add 0 to make an int.
    if op == "count":
        return "(" + " + ".join(map(src, a)) + (" + 0)" if len(a) == 1 else ")")
    if op == "setof":
        return "(" + " | ".join(f"{src(x)} << {i}" if i else f"{src(x)}"
                                for i, x in enumerate(a)) + (" | 0)" if len(a) == 1 else ")")
    raise NotImplementedError(f"per-state back-end: no rule for {op!r}")


def may_leave(e, slot_type) -> bool:
    """Whether a value of ``e`` could fall outside ``slot_type``'s range."""
    if isinstance(slot_type, Int):
        lo, hi = e.bounds()
        return lo < slot_type.lo() or hi > slot_type.hi()
    if isinstance(slot_type, Domain):
        return isinstance(e.type, Maybe)
    if isinstance(slot_type, Set):
        return _inserts_none(e)
    return False


def _inserts_none(e) -> bool:
    if e.op == "insert" and isinstance(e.args[1].type, Maybe):
        return True
    return any(_inserts_none(a) for a in e.args)


def _shared(exprs) -> list:
    """Non-leaf nodes used more than once across ``exprs``, children before parents."""
    uses: dict[int, int] = {}
    order: list = []

    def walk(e):
        if e.op in ("const", "var"):
            return
        uses[id(e)] = uses.get(id(e), 0) + 1
        if uses[id(e)] == 1:
            for x in e.args:
                walk(x)
            order.append(e)
    for e in exprs:
        walk(e)
    return [e for e in order if uses[id(e)] > 1]


def _unpack(width: int) -> str:
    if width == 1:
        return "    v0, = s"
    return "    " + ", ".join(f"v{i}" for i in range(width)) + " = s"


def instance_code(built, idx: int, inst) -> tuple[str | None, list[str], list[str]]:
    """One action instance as code: its guard (None when always true), the statements that
    compute its shared sub-expressions and range-check its writes, and the successor's slots
    (``v{i}`` for an unchanged slot). ``successors`` and the fused expansion share it."""
    width = built.layout.width
    guard = source(inst.guard)
    lines = []
    refs = {}
    for k, node in enumerate(_shared(inst.updates.values())):
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
    return (None if guard == "1" else guard), lines, [new.get(i, f"v{i}") for i in range(width)]


def successors_source(built) -> str:
    """Source of ``successors(s) -> list[(action_index, next_state)]``."""
    lines = ["def successors(s):", _unpack(built.layout.width), "    out = []",
             "    add = out.append"]
    for idx, inst in enumerate(built.actions):
        lines.append(f"    # {idx}: {inst.label}")
        guard, pre, items = instance_code(built, idx, inst)
        body = "    "
        if guard is not None:
            lines.append(f"    if {guard}:")
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
