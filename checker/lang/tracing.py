"""Tracing: running an action body once per binding to record it as expression trees.

Inside a body, ``s`` is a recording state. Reading a variable returns the expression that
currently stands for it (the pre-state slot, or whatever the body wrote earlier: a read sees
the body's earlier writes, as in ordinary Python); writing replaces that expression. At the
end the written slots are one simultaneous update computed from the pre-state. ``s.pre`` reads
the state before the step whatever the body wrote, for those who think in TLA+'s primes.

A *place* says where a read or write lands: ``("slot", offset)`` for a known slot, or
``("sel", key, [place, ...])`` for a dynamic key (``s.alive[s.controller]``). Reads of a
``sel`` place become ``select`` nodes; writes become one ``ite`` per candidate slot.
"""

from __future__ import annotations

from contextlib import contextmanager

from .errors import TracingError
from .expr import (And, Const, Expr, Not, Or, TRUE, arith, compare, ite, lift, select)
from .types import Domain, Int, Map, Maybe, Seq, Set, Type

_ACTIVE: list["Tracer"] = []


class Tracer:
    """Records one run of a body: current slot expressions, guards, and choices made."""

    def __init__(self, layout, start: list[Expr], *, writable=True, path=(),
                 frozen_reason="a property or constraint cannot change the state",
                 pre_start: list[Expr] | None = None):
        self.layout = layout
        self.start = list(start)
        # what s.pre reads: the state before the step (for a step property, other slots
        # than those ``s`` reads)
        self.pre_start = list(pre_start) if pre_start is not None else self.start
        #: why ``s.pre`` cannot be read here (a predicate of one state has no step), or None
        self.no_pre: str | None = None
        self.cur = list(start)
        self.frozen_reason = frozen_reason
        self.guards: list[Expr] = []
        self.conds: list[Expr] = []
        self.writable = writable
        self.path = list(path)
        self.taken: list[tuple[str, list, int]] = []

    def __enter__(self):
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc):
        _ACTIVE.pop()
        return False

    def write(self, slot: int, value):
        if not self.writable:
            raise TracingError(self.frozen_reason)
        typ = self.layout.slot_types[slot]
        value = coerce(value, typ)
        if self.conds:
            value = ite(And(*self.conds), value, self.cur[slot])
        self.cur[slot] = value

    def require(self, cond):
        cond = lift(cond, None)
        if self.conds:
            cond = Or(Not(And(*self.conds)), cond)
        self.guards.append(cond)

    def choose(self, values, name):
        pos = len(self.taken)
        idx = self.path[pos] if pos < len(self.path) else 0
        value = lift_choice(values[idx])
        self.taken.append((name, values, idx))
        return value


def current() -> Tracer:
    if not _ACTIVE:
        raise TracingError("require(), when() and choose() are only valid inside an action, "
                           "init or property body that the model is tracing")
    return _ACTIVE[-1]


def coerce(value, typ: Type) -> Expr:
    """Check that ``value`` can be stored in a slot of type ``typ``."""
    e = lift(value, typ)
    kind = (lambda t: t.domain if isinstance(t, (Maybe, Set)) else t)
    ok = (
        (isinstance(typ, Int) and isinstance(e.type, Int))
        or (isinstance(typ, (Domain, Maybe)) and isinstance(e.type, (Domain, Maybe))
            and kind(typ) is kind(e.type))
        or (isinstance(typ, Set) and isinstance(e.type, Set) and typ.domain is e.type.domain)
        or typ is e.type
    )
    if not ok:
        raise TracingError(f"cannot store a value of {e.type.describe()} in a slot of "
                           f"{typ.describe()}")
    return e


# -- places -----------------------------------------------------------------------------

def _shift(place, delta):
    if place[0] == "slot":
        return ("slot", place[1] + delta)
    return ("sel", place[1], [_shift(p, delta) for p in place[2]])


def _index(place, key, domain: Domain, width: int):
    """The place of element ``key`` of a group of ``len(domain)`` blocks of ``width`` slots."""
    key = lift(key, domain)
    if not isinstance(key.type, (Domain, Maybe)) or \
            (key.type if isinstance(key.type, Domain) else key.type.domain) is not domain:
        raise TracingError(f"a key of {domain.name} is needed here, got {key.type.describe()}")
    if key.op == "const":
        if key.value >= len(domain):
            raise TracingError(f"cannot index by none: check .is_some() first")
        return _shift(place, key.value * width)
    return ("sel", key, [_shift(place, i * width) for i in range(len(domain))])


def _read(tracer, place, typ):
    if place[0] == "slot":
        return tracer.cur[place[1]]
    options = [_read(tracer, p, typ) for p in place[2]]
    return select(place[1], options, Const(typ.default(), typ), typ)


def _write(tracer, place, value):
    if place[0] == "slot":
        tracer.write(place[1], value)
        return
    for i, p in enumerate(place[2]):
        with when(compare("eq", place[1], Const(i, place[1].type))):
            _write(tracer, p, value)


def view(tracer, typ: Type, place):
    """What reading a place of type ``typ`` gives: an expression or a view."""
    if isinstance(typ, Map):
        return MapView(tracer, typ, place)
    if isinstance(typ, Seq):
        return SeqView(tracer, typ, place)
    return _read(tracer, place, typ)


class MapView:
    """A map variable (or a map inside one), read and written by key."""

    def __init__(self, tracer, typ: Map, place):
        self._tracer, self._type, self._place = tracer, typ, place

    def _child(self, key):
        return _index(self._place, key, self._type.domain, self._type.value.slots)

    def __getitem__(self, key):
        return view(self._tracer, self._type.value, self._child(key))

    def __setitem__(self, key, value):
        if isinstance(self._type.value, Seq) and isinstance(value, SeqView):
            SeqView(self._tracer, self._type.value, self._child(key)).assign(value)
            return
        if not self._type.value.scalar:
            raise TracingError("assign a map of maps one entry at a time (a sequence entry "
                               "takes a whole sequence: s.log[a] = s.log[b])")
        _write(self._tracer, self._child(key), value)

    def __iter__(self):
        raise TracingError("iterate over the map's domain instead: for b in m.broker: s.x[b]")

    def __bool__(self):
        raise TracingError("a map has no truth value; compare its entries")

    def __eq__(self, other):
        raise TracingError("maps cannot be compared with == or !=: compare their entries, "
                           "e.g. all_of(domain, lambda k: s.x[k] == s.y[k])")

    __ne__ = __eq__


class SeqView:
    """A bounded sequence: ``length()``, indexing, ``append``, ``truncate``, ``last``."""

    def __init__(self, tracer, typ: Seq, place):
        self._tracer, self._type, self._place = tracer, typ, place

    def _entry(self, i):
        if isinstance(i, int) and not isinstance(i, bool):
            if not 0 <= i < self._type.max_len:
                raise TracingError(f"index {i} is outside this sequence's bound "
                                   f"0..{self._type.max_len - 1}")
            return _shift(self._place, 1 + i)
        i = lift(i)
        if not isinstance(i.type, Int):
            raise TracingError(f"a sequence index must be an integer, got {i.type.describe()}")
        key = i if i.bounds() == (0, self._type.max_len - 1) else i
        entries = [_shift(self._place, 1 + k) for k in range(self._type.max_len)]
        return ("sel", key, entries)

    def length(self) -> Expr:
        return _read(self._tracer, self._place, self._type.length)

    def is_empty(self) -> Expr:
        return compare("eq", self.length(), 0)

    def __getitem__(self, i):
        return _read(self._tracer, self._entry(i), self._type.value)

    def __setitem__(self, i, value):
        """Write entry ``i``. Entries at or past length() must stay at their default so
        that equal sequences have equal slots: a write there must be followed by
        truncate(n) (which sets the length and clears what lies past it) or be an append."""
        _write(self._tracer, self._entry(i), value)

    def last(self) -> Expr:
        """The last entry, or the entry type's default when the sequence is empty."""
        return self[arith("sub", self.length(), 1)]

    def append(self, value):
        n = self.length()
        _write(self._tracer, self._entry(n), value)
        _write(self._tracer, self._place, arith("add", n, 1))

    def assign(self, other: "SeqView"):
        """Make this sequence a copy of ``other`` (a sequence of the same entry type and
        bound), all entries read before any is written."""
        if not isinstance(other, SeqView) or other._type.max_len != self._type.max_len or \
                other._type.value.describe() != self._type.value.describe():
            raise TracingError(f"a {self._type.describe()} can only be assigned a sequence "
                               f"of the same type")
        values = [other[k] for k in range(self._type.max_len)]
        length = other.length()
        for k, v in enumerate(values):
            _write(self._tracer, _shift(self._place, 1 + k), v)
        _write(self._tracer, self._place, length)

    def truncate(self, n):
        """Keep the first ``n`` entries; the rest return to their default."""
        n = lift(n)
        for k in range(self._type.max_len):
            place = _shift(self._place, 1 + k)
            keep = compare("lt", Const(k, Int(k, k)), n)
            _write(self._tracer, place, ite(keep, _read(self._tracer, place, self._type.value),
                                            Const(self._type.value.default(), self._type.value)))
        _write(self._tracer, self._place, n)

    def __len__(self):
        raise TracingError("len() must return a Python int: use .length()")

    def __bool__(self):
        raise TracingError("a sequence has no truth value: use .is_empty()")

    def __eq__(self, other):
        raise TracingError("sequences cannot be compared with == or !=: compare .length() "
                           "and their entries")

    __ne__ = __eq__


class RecordingState:
    """The ``s`` an action body sees: variables by name, read and written as attributes."""

    def __init__(self, tracer: Tracer):
        object.__setattr__(self, "_tracer", tracer)

    def __getattr__(self, name):
        tracer = object.__getattribute__(self, "_tracer")
        if name == "pre":
            return RecordingState(_pre_state(tracer))
        var = tracer.layout.by_name.get(name)
        if var is None:
            raise _unknown_variable(tracer.layout, name)
        return view(tracer, var.type, ("slot", var.offset))

    def __setattr__(self, name, value):
        tracer = object.__getattribute__(self, "_tracer")
        var = tracer.layout.by_name.get(name)
        if var is None:
            raise _unknown_variable(tracer.layout, name)
        if isinstance(var.type, Seq) and isinstance(value, SeqView):
            SeqView(tracer, var.type, ("slot", var.offset)).assign(value)
            return
        if not var.type.scalar:
            raise TracingError(f"{name} is a {var.type.describe()}: assign its entries, "
                               f"e.g. s.{name}[key] = value")
        tracer.write(var.offset, value)


def _pre_state(tracer: Tracer) -> Tracer:
    """A read-only view of the state before the step: ``s.pre.x`` ignores the body's writes."""
    if tracer.no_pre:
        raise TracingError(tracer.no_pre)
    pre = Tracer(tracer.layout, tracer.pre_start, writable=False,
                 frozen_reason="s.pre is the state before the step and cannot be written; "
                               "write s.x instead of s.pre.x")
    return pre


def _unknown_variable(layout, name):
    from difflib import get_close_matches
    known = [v.name for v in layout.variables]
    hint = get_close_matches(name, known, n=1)
    did = f"; did you mean {hint[0]!r}?" if hint else ""
    return TracingError(f"the model has no state variable {name!r}{did} "
                        f"(variables: {', '.join(known)})")


# -- the body-level constructs ------------------------------------------------------------

def require(cond) -> None:
    """Guard: the action is enabled only where ``cond`` holds (evaluated on the pre-state,
    with the body's earlier writes visible)."""
    current().require(cond)


@contextmanager
def when(cond):
    """Conditional update: writes inside the block take effect only where ``cond`` holds."""
    tracer = current()
    tracer.conds.append(lift(cond, None))
    try:
        yield
    finally:
        tracer.conds.pop()


def choose(values, name: str | None = None):
    """A nondeterministic choice inside a body; it becomes a further action parameter.

    ``values`` is a Domain or a sequence of constants, or of tuples of constants (pairs of
    elements, small subsets: ``choose(itertools.combinations(m.broker, 2), name="pair")``
    gives a tuple whose parts are used as usual); ``name`` labels it in traces.
    """
    if isinstance(values, Domain):
        name = name or values.name
        values = values.elements()
    else:
        # the body runs once per combination of choices: convert only the chosen value
        values = values if isinstance(values, (list, tuple, range)) else list(values)
        if not values:
            raise TracingError("choose() needs at least one value")
        if name is None:
            raise TracingError("choose(values) over a plain sequence needs name=...")
    return current().choose(values, name)


def lift_choice(v):
    """A chosen value as the body sees it: a constant, or a tuple of constants."""
    return tuple(map(lift, v)) if isinstance(v, (tuple, list)) else lift(v)


def all_of(domain, pred) -> Expr:
    """``pred(x)`` for every element x of a domain (unrolled while tracing)."""
    return And(*(pred(x) for x in _elements(domain)))


def any_of(domain, pred) -> Expr:
    """``pred(x)`` for some element x of a domain."""
    return Or(*(pred(x) for x in _elements(domain)))


def count_of(domain, pred) -> Expr:
    """How many elements x of a domain satisfy ``pred(x)``."""
    from .expr import count
    return count(pred(x) for x in _elements(domain))


def first(elements, pred) -> Expr:
    """The first element, in the given order, that satisfies ``pred``; none if there is none.

    This is how Kafka picks leaders: the first replica *in assignment order* that is live and
    in the ISR.
    """
    elements = list(elements)
    if not elements:
        raise TracingError("first() needs at least one element")
    domain = elements[0].type
    result = Const(len(domain), Maybe(domain))
    for e in reversed(elements):
        result = ite(pred(e), e, result)
    return result


def _elements(domain):
    if isinstance(domain, Domain):
        return list(domain)
    return list(domain)


__all__ = ["require", "when", "choose", "all_of", "any_of", "count_of", "first", "TRUE"]
