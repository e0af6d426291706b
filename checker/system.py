"""The transition system: the one interface every engine consumes.

Engines never see model source. They see initial states, labelled successors, named
properties and a way to show a state. Two implementations exist: ``CompiledSystem`` (a model
written in the modeling language, compiled by its back-end) and ``ExplicitSystem`` (a plain
Python model: any functions that give initial states, successors and predicates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Sequence

State = Hashable

#: the kinds of property decided over the whole reachable graph, under fairness
LIVENESS = ("eventually", "leads_to")
#: the kinds that a search state by state decides (every explicit engine, bmc)
SAFETY = ("always", "sometimes", "transition")


@dataclass(frozen=True)
class PropertyInfo:
    """A named property. ``kind`` is ``always``, ``sometimes``, ``constraint``,
    ``transition`` (a step property: a predicate of the states before and after each step),
    or a liveness kind, ``eventually`` or ``leads_to`` (see ``LIVENESS``).

    ``constant`` is the property's value when a back-end can tell that it is the same in
    every state of the checked configuration (for the modeling language: its expression
    tree, folded with the model's parameters, is a constant), else None. A property that is
    constantly true checks nothing: the engines report it as *vacuous*, never as holding.
    """

    name: str
    kind: str
    doc: str = ""
    constant: bool | None = None


class TransitionSystem:
    """Base class: what a model must provide to be checked.

    Subclasses set ``name``, ``actions`` (action labels; a successor names one by index),
    ``properties`` (``PropertyInfo`` list), ``check_deadlock`` and ``params``, and implement
    the methods below.
    """

    name: str = "system"
    actions: list[str]
    properties: list[PropertyInfo]
    check_deadlock: bool = False
    params: dict = {}
    #: per action (by index): ``none``, ``weak`` or ``strong`` fairness; an engine that
    #: checks liveness reads it (a system without the attribute has no fair action)
    fairness: list[str] = []
    #: per action (by index): ``(lane, told lanes)``, who takes the step and whom it tells,
    #: for the pictures of a trace; a system without them draws every step on one lane
    lanes: list[tuple[str, tuple[str, ...]]] = []

    def initial_states(self) -> list[State]:
        raise NotImplementedError

    def successors(self, state) -> list[tuple[int, State]]:
        """Every successor of ``state`` as ``(action index, next state)``."""
        raise NotImplementedError

    def first_false(self, names: Sequence[str]) -> Callable[[State], int]:
        """A function giving the index (into ``names``) of the first named predicate that
        is false in a state, or -1 when all hold."""
        raise NotImplementedError

    def first_false_step(self, names: Sequence[str]) -> Callable[[State, State], int]:
        """Like ``first_false`` for step (``transition``) properties: a function of the
        states before and after a step."""
        raise NotImplementedError

    def liveness_predicates(self, name: str):
        """For a liveness property, ``(p, q)``: functions of a state, ``p`` None for
        ``eventually`` (``q`` must hold at some point of every fair behaviour) and the
        trigger of ``leads_to`` (whenever ``p``, eventually ``q``)."""
        raise NotImplementedError

    def decode(self, state) -> dict:
        """The state as a dict of variable name to a readable Python value."""
        raise NotImplementedError

    def encoder(self) -> Callable[[State], bytes] | None:
        """A function encoding a state as bytes, injectively (distinct states give distinct
        bytes), from which the engines compute 64-bit fingerprints; or None, and the engines
        store whole states."""
        return None

    def vacuous(self, names: Sequence[str]) -> list[str]:
        """Those of ``names`` that are constantly true in this configuration."""
        return [p.name for p in self.properties if p.name in names and p.constant is True]

    def kinds(self, names: Sequence[str]) -> dict[str, str]:
        """The kind (``always`` or ``sometimes``) of each of ``names``."""
        known = {p.name: p.kind for p in self.properties}
        return {n: known[n] for n in names if n in known}

    def property(self, name: str) -> PropertyInfo:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def select(self, names=None, *, kinds=SAFETY + LIVENESS,
               purpose: str = "checked") -> list[str]:
        """The property names to check: ``names`` validated (each known, of one of ``kinds``),
        or by default every property of those kinds. Every engine and command asks this one
        question, and a bad name is always a ``PropertyError``."""
        known = {p.name: p.kind for p in self.properties}
        allowed = [n for n, k in known.items() if k in kinds]
        if names is None:
            return allowed
        names = list(names)
        for name in names:
            if name in allowed:
                continue
            if name in known:
                raise PropertyError(f"{name!r} is a {known[name]}-property of {self.name}; only "
                                    f"{' and '.join(kinds)}-properties can be {purpose} "
                                    f"(these: {', '.join(allowed) or 'none'})")
            from difflib import get_close_matches
            hint = get_close_matches(name, allowed, n=1)
            did = f"; did you mean {hint[0]!r}?" if hint else ""
            raise PropertyError(f"unknown property {name!r} for model {self.name}{did} "
                                f"(properties: {', '.join(allowed) or 'none'})")
        return names


class PropertyError(ValueError, KeyError):
    """A property name that the system does not have, or of a kind the request cannot use.

    A ``KeyError`` and a ``ValueError`` for the callers that caught either before."""

    def __str__(self):  # KeyError's would quote the message
        return str(self.args[0]) if self.args else ""


class ExplicitSystem(TransitionSystem):
    """A plain Python model: no modeling language needed for the explicit engines.

    ``init`` gives the initial states, ``next(state)`` yields ``(label, next_state)`` pairs,
    and each property is a function of a state returning a bool. States must be hashable.
    They are stored whole unless ``encode`` is given: a function turning a state into bytes,
    injectively, from which 64-bit fingerprints are computed.

    >>> sys = ExplicitSystem("counter", init=[0],
    ...                      next=lambda n: [("inc", n + 1)] if n < 3 else [],
    ...                      always={"small": lambda n: n <= 3})
    >>> sys.successors(0)
    [(0, 1)]

    ``transition`` maps names to step predicates ``fn(before, after)``; ``eventually`` to
    state predicates, ``leads_to`` to pairs ``(p, q)`` of them; ``fair`` maps action labels
    to ``weak`` or ``strong`` (``fairness`` is the default of the others).
    """

    def __init__(self, name: str, *, init: Iterable[State],
                 next: Callable[[State], Iterable[tuple[str, State]]],
                 always: dict | None = None, sometimes: dict | None = None,
                 constraints: dict | None = None, check_deadlock: bool = False,
                 show: Callable[[State], dict] | None = None,
                 encode: Callable[[State], bytes] | None = None,
                 transition: dict | None = None, eventually: dict | None = None,
                 leads_to: dict | None = None, fair: dict | None = None,
                 fairness: str = "none"):
        self.name = name
        self._init = list(init)
        self._next = next
        self._preds = {}
        self._live = {}
        self.properties = []
        for kind, preds in (("always", always), ("sometimes", sometimes),
                            ("constraint", constraints), ("transition", transition)):
            for pname, fn in (preds or {}).items():
                self._preds[pname] = fn
                self.properties.append(PropertyInfo(pname, kind, fn.__doc__ or ""))
        for pname, fn in (eventually or {}).items():
            self._live[pname] = (None, fn)
            self.properties.append(PropertyInfo(pname, "eventually", fn.__doc__ or ""))
        for pname, (p, q) in (leads_to or {}).items():
            self._live[pname] = (p, q)
            self.properties.append(PropertyInfo(pname, "leads_to", ""))
        self.check_deadlock = check_deadlock
        self._show = show or (lambda s: {"state": s})
        self._encode = encode
        self.actions = []
        self._index = {}
        self.params = {}
        self._fair = dict(fair or {})
        self._fair_default = fairness
        self.fairness = []

    def initial_states(self):
        return list(self._init)

    def successors(self, state):
        out = []
        for label, nxt in self._next(state):
            idx = self._index.get(label)
            if idx is None:
                idx = self._index[label] = len(self.actions)
                self.actions.append(label)
                self.fairness.append(self._fair.get(label, self._fair_default))
            out.append((idx, nxt))
        return out

    def first_false(self, names):
        fns = [self._preds[n] for n in names]

        def first(state):
            for k, fn in enumerate(fns):
                if not fn(state):
                    return k
            return -1
        return first

    def first_false_step(self, names):
        fns = [self._preds[n] for n in names]

        def first(before, after):
            for k, fn in enumerate(fns):
                if not fn(before, after):
                    return k
            return -1
        return first

    def liveness_predicates(self, name):
        return self._live[name]

    def decode(self, state):
        return self._show(state)

    def encoder(self):
        return self._encode
