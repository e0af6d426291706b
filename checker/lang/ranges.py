"""What the language knows statically about the values of an expression: their range, and
whether a write of one can leave its slot's declared range.

These are semantics, not back-end matters: the per-state code range-checks exactly the
writes ``may_leave`` names, Z3 encodes the same checks as ``type_ok``, the batch engine
masks them, and Z3 sizes its bit-vectors from ``node_range``.
"""

from __future__ import annotations

from .types import Bool, Domain, Enum, Int, Maybe, Set
from .walk import post_order


def node_range(e) -> tuple[int, int]:
    """The least and greatest code a node can evaluate to, out-of-range intermediate values
    included (a ``Set`` may briefly hold bit |D| after inserting none); 0..1 for a boolean."""
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


def range_of_all(roots) -> tuple[int, int]:
    """The least and greatest code of any non-boolean node under ``roots`` (0..1 at least)."""
    lo, hi = 0, 1
    for e in post_order(roots):
        if e.type is not Bool:
            a, b = node_range(e)
            lo, hi = min(lo, a), max(hi, b)
    return lo, hi


def may_hold_none(e) -> bool:
    """Whether a set expression can carry the bit of none: through set operations, from an
    insert of a ``Maybe`` value (``S | leader`` when there is no leader), or from a constant
    that folding left with that bit (``{} | least({})``)."""
    holds: dict[int, bool] = {}
    for x in post_order([e]):
        holds[id(x)] = (x.op == "insert" and isinstance(x.args[1].type, Maybe)) or (
            x.op == "const" and isinstance(x.type, Set) and
            bool(x.value >> len(x.type.domain) & 1)) or any(
            holds[id(a)] for a in x.args if isinstance(a.type, Set))
    return holds[id(e)]


def may_leave(e, slot_type) -> bool:
    """Whether a value of ``e`` could fall outside ``slot_type``'s range."""
    if isinstance(slot_type, Int):
        lo, hi = e.bounds()
        return lo < slot_type.lo() or hi > slot_type.hi()
    if isinstance(slot_type, Domain):
        return isinstance(e.type, Maybe)
    if isinstance(slot_type, Set):
        return may_hold_none(e)
    return False
