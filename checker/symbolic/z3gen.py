"""The Z3 back-end: a built model as formulas over bit-vectors, one copy of the state per step.

Every slot of the state vector becomes one Z3 constant per step: a ``Bool`` slot a Z3 Bool, any
other slot a signed bit-vector of one width ``W`` chosen for the whole model, wide enough for
every value any expression of the model can take (the language tracks a range for each node,
so ``W`` is exact, not a guess). The semantics are those of ``checker.lang.evaluate``, operator
by operator: sets are bitmasks, ``none`` of a ``Maybe(D)`` is ``|D|``, ``select`` falls back to
its default for a key out of range, ``least`` of the empty set is ``|D|``.

One step of the system is one formula over the state before (``cur``), the state after
(``nxt``) and an action-choice variable ``act``:

    act < #actions
    ∧ ⋀_i (act = i ⇒ guard_i(cur))
    ∧ ⋀_slot nxt[slot] = ite(act = i1, update_i1, ite(act = i2, update_i2, ..., cur[slot]))
    ∧ every written slot of nxt in its declared range
    ∧ every state constraint holds in cur

which is the disjunction over action instances of guard ∧ updates ∧ frame, written slot by
slot so that each slot's next value is one if-then-else chain over the actions that write it.
A write outside a slot's range is not a transition: the explicit engine reports it as a
``type_ok`` violation in the state where the action is enabled, and ``overflow(cur)`` says the
same thing here.

>>> from kafkacheck.checker.lang import Model, Int, action, always, require
>>> class Counter(Model):
...     name = "counter"
...     def variables(m):
...         return {"n": Int(0, 3)}
...     def init(m, s):
...         s.n = 0
...     @action()
...     def inc(m, s):
...         require(s.n < 3)
...         s.n = s.n + 1
...     @always
...     def small(m, s):
...         return s.n < 3
>>> enc = Encoding(Counter().build())
>>> enc.width >= 3
True
"""

from __future__ import annotations

import z3

from ..lang.ranges import may_leave, node_range, range_of_all
from ..lang.types import Bool, Set
from ..lang.walk import fold_one, operator_table


class EncodingError(Exception):
    """A model uses something the Z3 back-end cannot translate. Every operator of the
    language has a rule in ``RULES`` (checked when this module loads); callers still catch
    this for what Z3 itself refuses."""


def _signed_bits(lo: int, hi: int) -> int:
    """Bits of a two's-complement vector holding every integer in lo..hi."""
    return max(max(lo, -lo - 1).bit_length(), hi.bit_length(), (-lo).bit_length()) + 1


class StateVars:
    """The Z3 constants of one copy of the state (one step of a path), with a translation
    cache keyed by expression node, so a node shared by a guard and an update is built once."""

    def __init__(self, slots: list, tag: str):
        self.slots = slots
        self.tag = tag
        self.cache: dict[int, z3.ExprRef] = {}

    def __getitem__(self, i):
        return self.slots[i]

    def __len__(self):
        return len(self.slots)


class Encoding:
    """A ``Built`` model translated to Z3: state copies, init, the step relation, properties.

    The encoding is built lazily per state copy; the same ``Encoding`` serves BMC and
    induction. ``width`` is the bit-width of every non-boolean slot and value.
    """

    def __init__(self, built):
        self.built = built
        self.layout = built.layout
        self.slot_types = list(built.layout.slot_types)
        self.props = {p.name: p for p in built.properties}
        self.constraints = [p.expr for p in built.properties if p.kind == "constraint"]
        self.width = self._choose_width()
        self.n_actions = len(built.actions)
        self.act_width = max(1, (self.n_actions - 1).bit_length())
        self._writers: dict[int, list[tuple[int, object]]] = {}
        for i, inst in enumerate(built.actions):
            for slot, e in inst.updates.items():
                self._writers.setdefault(slot, []).append((i, e))
        self._checked_slots = {slot for slot, ws in self._writers.items()
                               if any(may_leave(e, self.slot_types[slot]) for _, e in ws)}
        self._pairs: dict[tuple, StateVars] = {}
        self._one = z3.BitVecVal(1, self.width)
        self._zero = z3.BitVecVal(0, self.width)

    # -- width ---------------------------------------------------------------------------
    def _choose_width(self) -> int:
        roots = [e for inst in self.built.actions for e in (inst.guard, *inst.updates.values())]
        lo, hi = range_of_all(roots + [p.expr for p in self.built.properties])
        for t in self.slot_types:
            if t is not Bool:
                lo, hi = min(lo, t.lo()), max(hi, t.hi())
                if isinstance(t, Set):
                    hi = max(hi, (1 << (len(t.domain) + 1)) - 1)
        for state in self.built.initial:
            for c in state:
                lo, hi = min(lo, c), max(hi, c)
        return _signed_bits(lo, hi) + 1

    # -- state copies --------------------------------------------------------------------
    def state(self, tag: str) -> StateVars:
        """Fresh Z3 constants for one state; ``tag`` makes the names unique (``"3"``)."""
        slots = []
        for name, t in zip(self.layout.slot_names, self.slot_types):
            label = f"{name}@{tag}"
            slots.append(z3.Bool(label) if t is Bool else z3.BitVec(label, self.width))
        return StateVars(slots, tag)

    def action_var(self, tag: str) -> z3.BitVecRef:
        return z3.BitVec(f"action@{tag}", self.act_width)

    def in_range(self, sv: StateVars, slots=None) -> z3.BoolRef:
        """Every (or every listed) non-boolean slot of ``sv`` within its declared range."""
        out = []
        for i in (range(len(sv)) if slots is None else slots):
            t = self.slot_types[i]
            if t is not Bool:
                out.append(self._range(sv[i], t))
        return z3.And(out) if out else z3.BoolVal(True)

    def _range(self, v, t):
        lo, hi = t.lo(), t.hi()
        return z3.And(v >= z3.BitVecVal(lo, self.width), v <= z3.BitVecVal(hi, self.width))

    def equals_state(self, sv: StateVars, codes) -> z3.BoolRef:
        return z3.And([self._lit(sv[i], t, c)
                       for i, (t, c) in enumerate(zip(self.slot_types, codes))])

    def _lit(self, v, t, c):
        if t is Bool:
            return v if c else z3.Not(v)
        return v == z3.BitVecVal(c, self.width)

    def init(self, sv: StateVars) -> z3.BoolRef:
        """``sv`` is one of the model's initial states."""
        return z3.Or([self.equals_state(sv, s) for s in self.built.initial])

    def same(self, a: StateVars, b: StateVars) -> z3.BoolRef:
        return z3.And([x == y for x, y in zip(a.slots, b.slots)])

    # -- the step relation -----------------------------------------------------------------
    def guard(self, i: int, cur: StateVars) -> z3.BoolRef:
        return self.expr(self.built.actions[i].guard, cur)

    def constraint(self, cur: StateVars) -> z3.BoolRef:
        """Every state constraint holds in ``cur`` (states outside them are not expanded)."""
        return z3.And([self.expr(e, cur) for e in self.constraints]) if self.constraints \
            else z3.BoolVal(True)

    def step(self, cur: StateVars, nxt: StateVars, act) -> z3.BoolRef:
        """One transition ``cur -> nxt`` by action instance number ``act``."""
        if self.n_actions == 0:
            return z3.BoolVal(False)
        parts = [self.constraint(cur)]
        if self.n_actions < (1 << self.act_width):
            parts.append(z3.ULT(act, z3.BitVecVal(self.n_actions, self.act_width)))
        for i, inst in enumerate(self.built.actions):
            g = self.expr(inst.guard, cur)
            if not z3.is_true(g):
                parts.append(z3.Implies(act == i, g))
        for slot in range(len(cur)):
            value = cur[slot]
            for i, e in reversed(self._writers.get(slot, ())):
                value = z3.If(act == i, self.expr(e, cur), value)
            parts.append(nxt[slot] == value)
        parts.append(self.in_range(nxt, sorted(self._checked_slots)))
        return z3.And(parts)

    def overflow(self, cur: StateVars) -> z3.BoolRef:
        """Some enabled action writes a value outside its slot's range (``type_ok`` fails)."""
        cases = []
        for i, inst in enumerate(self.built.actions):
            bad = [z3.Not(self._range(self.expr(e, cur), self.slot_types[slot]))
                   for slot, e in inst.updates.items()
                   if may_leave(e, self.slot_types[slot])]
            if bad:
                cases.append(z3.And(self.expr(inst.guard, cur), z3.Or(bad)))
        return z3.And(self.constraint(cur), z3.Or(cases)) if cases else z3.BoolVal(False)

    def has_overflow(self) -> bool:
        return any(may_leave(e, self.slot_types[slot]) for inst in self.built.actions
                   for slot, e in inst.updates.items())

    def deadlock(self, cur: StateVars) -> z3.BoolRef:
        """No action is enabled in ``cur`` (and ``cur`` would be expanded)."""
        return z3.And(self.constraint(cur),
                      *[z3.Not(self.expr(inst.guard, cur)) for inst in self.built.actions])

    def prop(self, name: str, sv: StateVars) -> z3.BoolRef:
        return self.expr(self.props[name].expr, sv)

    def step_prop(self, name: str, cur: StateVars, nxt: StateVars) -> z3.BoolRef:
        """A step (``transition``) property of the step from ``cur`` to ``nxt``: its tree
        reads slot i of ``cur`` as var i and of ``nxt`` as var W+i."""
        key = (cur.tag, nxt.tag)
        pair = self._pairs.get(key)
        if pair is None:
            pair = self._pairs[key] = StateVars(cur.slots + nxt.slots, f"{cur.tag}>{nxt.tag}")
        return self.expr(self.props[name].expr, pair)

    # -- decoding ------------------------------------------------------------------------
    def decode(self, model: z3.ModelRef, sv: StateVars) -> tuple:
        out = []
        for v, t in zip(sv.slots, self.slot_types):
            val = model.eval(v, model_completion=True)
            out.append(int(z3.is_true(val)) if t is Bool else val.as_signed_long())
        return tuple(out)

    def decode_action(self, model: z3.ModelRef, act) -> int:
        return model.eval(act, model_completion=True).as_long()

    # -- expressions ---------------------------------------------------------------------
    def expr(self, e, sv: StateVars):
        """The Z3 term of expression ``e`` over state ``sv`` (Bool for booleans, else BV);
        ``sv.cache`` keeps every node's term, so a node shared by a guard and an update is
        translated once."""
        return fold_one(e, RULES, (self, sv), sv.cache)

    def _bv(self, c: int):
        return z3.BitVecVal(c, self.width)

    def _bit(self, s, i: int):
        return z3.Extract(i, i, s) == z3.BitVecVal(1, 1)


def _const(ctx, e):
    enc = ctx[0]
    return z3.BoolVal(bool(e.value)) if e.type is Bool else enc._bv(e.value)


def _select(ctx, e, k, *options):
    enc = ctx[0]
    lo, hi = node_range(e.args[0])
    out = options[-1]  # the default, for a key out of range
    for i in reversed(range(len(options) - 1)):
        if lo <= i <= hi:
            out = z3.If(k == enc._bv(i), options[i], out)
    return out


def _contains(ctx, e, s, x):
    enc, elem = ctx[0], e.args[1]
    if elem.op == "const":
        return enc._bit(s, elem.value) if elem.value < enc.width - 1 else z3.BoolVal(False)
    return z3.Extract(0, 0, z3.LShR(s, x)) == z3.BitVecVal(1, 1)


def _size(ctx, e, s):
    enc = ctx[0]
    n = len(e.args[0].type.domain)
    return z3.Sum([z3.ZeroExt(enc.width - 1, z3.Extract(i, i, s)) for i in range(n + 1)])


def _least(ctx, e, s):
    enc = ctx[0]
    n = len(e.type.domain)
    out = enc._bv(n)
    for i in reversed(range(n)):
        out = z3.If(enc._bit(s, i), enc._bv(i), out)
    return out


def _count(ctx, e, *xs):
    enc = ctx[0]
    if not xs:
        return enc._zero
    return z3.Sum([z3.If(x, enc._one, enc._zero) for x in xs])


def _setof(ctx, e, *xs):
    enc = ctx[0]
    out = enc._zero
    for i, x in enumerate(xs):
        out = out | z3.If(x, enc._bv(1 << i), enc._zero)
    return out


RULES = operator_table("Z3", {
    "const": _const,
    "var": lambda ctx, e: ctx[1][e.value],
    "not": lambda ctx, e, a: z3.Not(a),
    "and": lambda ctx, e, *xs: z3.And(list(xs)),
    "or": lambda ctx, e, *xs: z3.Or(list(xs)),
    "eq": lambda ctx, e, a, b: a == b,
    "ne": lambda ctx, e, a, b: a != b,
    "lt": lambda ctx, e, a, b: a < b,
    "le": lambda ctx, e, a, b: a <= b,
    "gt": lambda ctx, e, a, b: a > b,
    "ge": lambda ctx, e, a, b: a >= b,
    "add": lambda ctx, e, a, b: a + b,
    "sub": lambda ctx, e, a, b: a - b,
    "min": lambda ctx, e, a, b: z3.If(a <= b, a, b),
    "max": lambda ctx, e, a, b: z3.If(a >= b, a, b),
    "ite": lambda ctx, e, c, a, b: z3.If(c, a, b),
    "select": _select,
    "contains": _contains,
    "insert": lambda ctx, e, s, x: s | (ctx[0]._one << x),
    "remove": lambda ctx, e, s, x: s & ~(ctx[0]._one << x),
    "union": lambda ctx, e, a, b: a | b,
    "inter": lambda ctx, e, a, b: a & b,
    "diff": lambda ctx, e, a, b: a & ~b,
    "size": _size,
    "least": _least,
    "count": _count,
    "setof": _setof,
})
"""The Z3 term of each operator, from its children's terms (``walk.operator_table``)."""
