"""A model compiled by the per-state back-end, seen by the engines as a TransitionSystem."""

from __future__ import annotations

from ..fingerprint import encoder
from ..system import PropertyInfo, TransitionSystem
from .model import Built, Model
from .pycodegen import (OutOfRange, compile_first_false, compile_first_false_step,
                        compile_successors)


class CompiledSystem(TransitionSystem):
    """The per-state compilation of a built model.

    ``built`` keeps the expression trees, so other back-ends (NumPy, Z3) compile the very same
    model; ``layout`` says which slot is which variable.
    """

    out_of_range = OutOfRange

    def __init__(self, built: Built):
        self.built = built
        self.name = built.name
        self.params = dict(built.params)
        self.layout = built.layout
        self.actions = [a.label for a in built.actions]
        self.properties = [PropertyInfo(p.name, p.kind, p.doc,
                                        bool(p.expr.value) if p.expr.is_const else None)
                           for p in built.properties]
        self.check_deadlock = built.check_deadlock
        self.fairness = [a.fair for a in built.actions]
        self.lanes = [(a.lane, a.tells) for a in built.actions]
        self.lane_order = _lane_order(built, self.lanes)
        #: action index -> the predicate (of a state) under which it is fair, where only
        #: part of it is (``@action(fair_when=...)``)
        self.fair_conditions = {i: _holds(compile_first_false(built, [a.fair_when]))
                                for i, a in enumerate(built.actions)
                                if a.fair_when is not None and a.fair != "none"}
        self._exprs = {p.name: p.expr for p in built.properties}
        self._triggers = {p.name: p.trigger for p in built.properties
                          if p.trigger is not None}
        self.successors = compile_successors(built)
        self._first_false = {}
        self._expand = None
        self._vacuous: dict[tuple, list[str]] = {}

    def expander(self):
        """The fused expansion loop (``pyexpand``), compiled on first use: only ``bfs``
        runs it, and it costs as much to compile as ``successors``."""
        if self._expand is None:
            from .pyexpand import compile_expand
            self._expand = compile_expand(self.built)
        return self._expand

    def initial_states(self):
        return list(self.built.initial)

    def first_false(self, names):
        key = tuple(names)
        fn = self._first_false.get(key)
        if fn is None:
            fn = self._first_false[key] = compile_first_false(
                self.built, [self._exprs[n] for n in key])
        return fn

    def first_false_step(self, names):
        key = ("step", *names)
        fn = self._first_false.get(key)
        if fn is None:
            fn = self._first_false[key] = compile_first_false_step(
                self.built, [self._exprs[n] for n in names])
        return fn

    def liveness_predicates(self, name):
        trigger = self._triggers.get(name)
        p = None if trigger is None else _holds(compile_first_false(self.built, [trigger]))
        return p, _holds(self.first_false([name]))

    def decode(self, state):
        return self.layout.decode(state)

    def vacuous(self, names):
        """Constant after folding, or true in every state of the declared types (one Z3
        query each, ``checker.symbolic.vacuity``): either way the property checks nothing."""
        key = tuple(names)
        hit = self._vacuous.get(key)
        if hit is None:
            from ..symbolic.vacuity import true_in_every_typed_state  # Z3 loads only here
            folded = super().vacuous(names)
            rest = [n for n in names if n not in folded]
            typed = set(true_in_every_typed_state(self.built, rest))
            hit = self._vacuous[key] = [n for n in names if n in folded or n in typed]
        return list(hit)

    def encoder(self):
        """Every slot at a fixed width holding its declared range: the engines never store
        a state with a slot outside it (such a write is a ``type_ok`` violation)."""
        return encoder([(t.lo(), t.hi()) for t in self.layout.slot_types])

    def describe_out_of_range(self, err: OutOfRange) -> str:
        t = self.layout.slot_types[err.slot]
        return (f"{self.actions[err.action]} writes {err.value} to "
                f"{self.layout.slot_names[err.slot]}, outside its range {t.lo()}..{t.hi()}")


def _lane_order(built, lanes) -> list[str]:
    """The lanes the actions name: each domain's elements in the domain's order (domains as
    ``setup`` creates them), then the named lanes (``ZooKeeper``, ``client``) as the actions
    first name them, and ``system`` last."""
    named = list(dict.fromkeys(x for lane, tells in lanes for x in (lane, *tells)))
    order = []
    for domain in built.domains.values():
        for ident in domain.ids:
            lane = f"{domain.name} {ident}"
            if lane in named and lane not in order:
                order.append(lane)
    order += [x for x in named if x not in order and x != "system"]
    return order + (["system"] if "system" in named else [])


def _holds(first_false):
    return lambda s: first_false(s) < 0


def compile_model(model: Model) -> CompiledSystem:
    """Trace a model and compile it for the explicit engines."""
    return CompiledSystem(model.build())
