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

from ..lang.pycodegen import may_leave
from ..lang.types import Bool, Domain, Enum, Int, Maybe, Set


class EncodingError(Exception):
    """A model uses something the Z3 back-end cannot translate (a bug: every operator of the
    language has a rule here, and a test keeps the two lists equal)."""


def _node_range(e) -> tuple[int, int]:
    """The least and greatest integer a non-boolean node can evaluate to, out-of-range
    intermediate values included (a ``Set`` may briefly hold bit |D| after inserting none)."""
    t = e.type
    if isinstance(t, Int):
        return e.bounds()
    if isinstance(t, Set):
        return 0, (1 << (len(t.domain) + 1)) - 1
    if isinstance(t, (Domain, Maybe)):
        d = t if isinstance(t, Domain) else t.domain
        return 0, len(d)
    if isinstance(t, Enum):
        return 0, len(t.names) - 1
    return 0, 1


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
        lo, hi = 0, 1
        seen: set[int] = set()

        def walk(e):
            nonlocal lo, hi
            if id(e) in seen:
                return
            seen.add(id(e))
            if e.type is not Bool:
                a, b = _node_range(e)
                lo, hi = min(lo, a), max(hi, b)
            for x in e.args:
                walk(x)

        for t in self.slot_types:
            if t is not Bool:
                lo, hi = min(lo, t.lo()), max(hi, t.hi())
                if isinstance(t, Set):
                    hi = max(hi, (1 << (len(t.domain) + 1)) - 1)
        for inst in self.built.actions:
            walk(inst.guard)
            for e in inst.updates.values():
                walk(e)
        for p in self.built.properties:
            walk(p.expr)
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
        """The Z3 term of expression ``e`` over state ``sv`` (Bool for booleans, else BV)."""
        key = id(e)
        hit = sv.cache.get(key)
        if hit is not None:
            return hit
        out = self._translate(e, sv)
        sv.cache[key] = out
        return out

    def _bv(self, c: int):
        return z3.BitVecVal(c, self.width)

    def _bit(self, s, i: int):
        return z3.Extract(i, i, s) == z3.BitVecVal(1, 1)

    def _translate(self, e, sv):
        op, a = e.op, e.args
        x = lambda n: self.expr(n, sv)  # noqa: E731
        if op == "const":
            return z3.BoolVal(bool(e.value)) if e.type is Bool else self._bv(e.value)
        if op == "var":
            return sv[e.value]
        if op == "not":
            return z3.Not(x(a[0]))
        if op == "and":
            return z3.And([x(y) for y in a])
        if op == "or":
            return z3.Or([x(y) for y in a])
        if op == "eq":
            return x(a[0]) == x(a[1])
        if op == "ne":
            return x(a[0]) != x(a[1])
        if op == "lt":
            return x(a[0]) < x(a[1])
        if op == "le":
            return x(a[0]) <= x(a[1])
        if op == "gt":
            return x(a[0]) > x(a[1])
        if op == "ge":
            return x(a[0]) >= x(a[1])
        if op == "add":
            return x(a[0]) + x(a[1])
        if op == "sub":
            return x(a[0]) - x(a[1])
        if op == "min":
            p, q = x(a[0]), x(a[1])
            return z3.If(p <= q, p, q)
        if op == "max":
            p, q = x(a[0]), x(a[1])
            return z3.If(p >= q, p, q)
        if op == "ite":
            return z3.If(x(a[0]), x(a[1]), x(a[2]))
        if op == "select":
            key, options, default = a[0], a[1:-1], a[-1]
            k = x(key)
            lo, hi = _node_range(key)
            out = x(default)
            for i in reversed(range(len(options))):
                if lo <= i <= hi:
                    out = z3.If(k == self._bv(i), x(options[i]), out)
            return out
        if op == "contains":
            s, elem = a
            if elem.op == "const":
                return self._bit(x(s), elem.value) if elem.value < self.width - 1 \
                    else z3.BoolVal(False)
            return z3.Extract(0, 0, z3.LShR(x(s), x(elem))) == z3.BitVecVal(1, 1)
        if op == "insert":
            return x(a[0]) | (self._one << x(a[1]))
        if op == "remove":
            return x(a[0]) & ~(self._one << x(a[1]))
        if op == "union":
            return x(a[0]) | x(a[1])
        if op == "inter":
            return x(a[0]) & x(a[1])
        if op == "diff":
            return x(a[0]) & ~x(a[1])
        if op == "size":
            s = x(a[0])
            n = len(a[0].type.domain)
            return z3.Sum([z3.ZeroExt(self.width - 1, z3.Extract(i, i, s))
                           for i in range(n + 1)])
        if op == "least":
            s = x(a[0])
            n = len(e.type.domain)
            out = self._bv(n)
            for i in reversed(range(n)):
                out = z3.If(self._bit(s, i), self._bv(i), out)
            return out
        if op == "count":
            if not a:
                return self._zero
            return z3.Sum([z3.If(x(y), self._one, self._zero) for y in a])
        if op == "setof":
            out = self._zero
            for i, y in enumerate(a):
                out = out | z3.If(x(y), self._bv(1 << i), self._zero)
            return out
        raise EncodingError(f"the Z3 back-end has no rule for operator {op!r}")


RULES = frozenset({
    "const", "var", "not", "and", "or", "eq", "ne", "lt", "le", "gt", "ge", "add", "sub",
    "min", "max", "ite", "select", "contains", "insert", "remove", "union", "inter", "diff",
    "size", "least", "count", "setof"})
"""The operators ``Encoding`` translates; a test keeps this equal to the language's ``OPS``."""
