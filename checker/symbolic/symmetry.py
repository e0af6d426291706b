"""Proving that a model is symmetric in its ``symmetric=True`` domains, before reducing by it.

Symmetry reduction is sound when every permutation ``π`` of the ids commutes with the step
relation and leaves the properties unchanged. It suffices to prove it for generators of the
group (``Symmetry.generators``), for every state whose slots are within their declared
ranges, with Z3:

- each property (and state constraint) ``P``: ``P(s) = P(π s)``;
- each action instance ``a`` has an image ``b``: the same action bound to the permuted ids
  (and choices), and ``guard_a(s) = guard_b(π s)``; where it is enabled, ``next_b(π s) =
  π next_a(s)`` slot by slot, and one of them writes out of range exactly when the other does.

The initial states need not be symmetric. A model that treats one id apart (a constant
``Domain.of``, ``<`` or ``least`` over the ids, ``first`` in a fixed order, a ``where=`` that
binds only some ids) fails one of these, and the error names the action or property and the
slot that differ.
"""

from __future__ import annotations

import z3

from ..lang.expr import Expr
from ..lang.types import Bool, Domain
from .z3gen import Encoding, EncodingError, StateVars


class NotSymmetric(Exception):
    """The model does not commute with a permutation of a symmetric domain."""


def verify(built, symmetry, *, timeout_ms: int = 20_000) -> int:
    """Raise NotSymmetric unless ``built`` is symmetric under ``symmetry``'s group; return
    the number of solver queries it took."""
    try:
        return _verify(built, symmetry, timeout_ms)
    except (EncodingError, z3.Z3Exception) as e:
        raise NotSymmetric(f"the model cannot be translated for the symmetry proof: {e}")


def _verify(built, symmetry, timeout_ms) -> int:
    enc = Encoding(built)
    s, t = enc.state("s"), enc.state("t")   # t: the state after a step, for step properties
    typed = enc.in_range(s)
    by_key = {_key(a): a for a in built.actions}
    by_set = {_unordered(_key(a)): a for a in built.actions}
    queries = 0
    for perm in symmetry.generators():
        ps, pt = _permuted(enc, perm, s, "perm"), _permuted(enc, perm, t, "perm-t")
        what = _describe(perm)
        for prop in built.properties:
            queries += 1
            _valid(_same_property(enc, prop, s, ps, t, pt, typed), timeout_ms,
                   f"property {prop.name} changes when {what}")
        for a in built.actions:
            image = _key(a, perm.perms)
            # a tuple of ids may stand for a set (a quorum): then its order does not matter;
            # a wrong match is not a risk, the proof below would fail on it
            b = by_key.get(image) or by_set.get(_unordered(image))
            if b is None:
                raise NotSymmetric(f"action {a.label} has no counterpart when {what} "
                                   f"(a where= filter or a choice that treats ids apart?)")
            if a.fair != b.fair:
                raise NotSymmetric(f"action {a.label} is {a.fair}ly fair but {b.label} is "
                                   f"{b.fair}ly fair: the fairness changes when {what}")
            queries += 1
            _valid(z3.Implies(typed, _commutes(enc, a, b, s, ps, perm)), timeout_ms,
                   f"action {a.label} does not commute with {b.label} when {what}")
            if a.fair_when is not None or b.fair_when is not None:
                queries += 1
                _valid(z3.Implies(typed, _fair_part(enc, a, s) == _fair_part(enc, b, ps)),
                       timeout_ms, f"the fair part of action {a.label} (fair_when) changes "
                       f"when {what}")
    return queries


def _permuted(enc, perm, sv, tag):
    return StateVars([_remap(enc, perm.remap[j], sv[perm.src[j]]) for j in range(len(sv))],
                     tag)


def _same_property(enc, prop, s, ps, t, pt, typed):
    """``prop`` has the same value on a state (a step) and on its image."""
    if prop.kind == "transition":  # over the states before (slots 0..W-1) and after a step
        both, images = StateVars(s.slots + t.slots, "s>t"), StateVars(ps.slots + pt.slots,
                                                                        "ps>pt")
        return z3.Implies(z3.And(typed, enc.in_range(t)),
                          enc.expr(prop.expr, both) == enc.expr(prop.expr, images))
    same = enc.expr(prop.expr, s) == enc.expr(prop.expr, ps)
    if prop.trigger is not None:  # leads_to: p as well as q
        same = z3.And(same, enc.expr(prop.trigger, s) == enc.expr(prop.trigger, ps))
    return z3.Implies(typed, same)


def _fair_part(enc, inst, sv):
    return z3.BoolVal(True) if inst.fair_when is None else enc.expr(inst.fair_when, sv)


def _commutes(enc, a, b, s, ps, perm):
    ga, gb = enc.expr(a.guard, s), enc.expr(b.guard, ps)
    next_a = [enc.expr(a.updates[j], s) if j in a.updates else s[j] for j in range(len(s))]
    next_b = [enc.expr(b.updates[j], ps) if j in b.updates else ps[j] for j in range(len(s))]
    image = [_remap(enc, perm.remap[j], next_a[perm.src[j]]) for j in range(len(s))]
    ok_a = enc.in_range(StateVars(next_a, "a"))
    ok_b = enc.in_range(StateVars(next_b, "b"))
    same = z3.And([x == y for x, y in zip(next_b, image)])
    return z3.And(ga == gb, z3.Implies(ga, z3.And(ok_a == ok_b, z3.Implies(ok_a, same))))


def _remap(enc, table, term):
    if table is None:
        return term
    out = term   # codes outside the table (out of range) are left as they are
    for code in reversed(range(len(table))):
        if table[code] != code:
            out = z3.If(term == enc._bv(code), enc._bv(table[code]), out)
    return out


def _valid(formula, timeout_ms, message):
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(z3.Not(formula))
    answer = solver.check()
    if answer == z3.sat:
        raise NotSymmetric(message)
    if answer != z3.unsat:
        raise NotSymmetric(f"could not prove it within {timeout_ms / 1000:g} s: {message}?")


def _key(inst, perms=None):
    """An action instance as its action and bound values, with ``perms`` (Domain ->
    position permutation) applied to every bound element of a permuted domain."""
    return (inst.action, tuple(_value_key(v, perms or {}) for v in inst.binding))


def _unordered(key):
    """``key`` with each bound tuple of elements sorted (it may stand for a set)."""
    action, values = key
    return action, tuple(("set", *sorted(v)) if isinstance(v, tuple) and v and
                         all(isinstance(k, tuple) and k[:1] == ("element",) for k in v)
                         else v for v in values)


def _value_key(v, perms):
    if isinstance(v, tuple):
        return tuple(_value_key(x, perms) for x in v)
    if isinstance(v, Expr) and v.op == "const":
        t = v.type
        if isinstance(t, Domain):
            p = perms.get(t)
            return ("element", id(t), p[v.value] if p else v.value)
        return ("const", t.describe() if t is not Bool else "Bool", v.value)
    return ("python", repr(v))


def _describe(perm) -> str:
    parts = []
    for d, p in perm.perms.items():
        moved = [i for i, j in enumerate(p) if i != j]
        if len(moved) == 2:
            a, b = (d.ids[i] for i in moved)
            parts.append(f"{d.name} ids {a} and {b} are swapped")
        else:
            cycle = "→".join(str(d.ids[i]) for i in range(len(p)))
            parts.append(f"the {d.name} ids are rotated ({cycle}→{d.ids[0]})")
    return " and ".join(parts)
