"""Models: parameters, state variables, an initial predicate, actions and properties.

A model is a class. Its parameters are ``Param`` class attributes; ``setup`` builds the
domains and derived constants from them; ``variables`` declares the state; ``init`` writes the
initial state; methods decorated with ``@action`` are the protocol steps, and methods decorated
with ``@always``, ``@sometimes`` or ``@constraint`` are properties. ``build()`` traces all of it
into expression trees (a ``Built`` model), which a back-end compiles.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass, field
from difflib import get_close_matches

from .errors import ModelError, ParameterError, TracingError
from .expr import And, Const, Expr, Var, lift
from .evaluate import evaluate
from .layout import Layout
from .tracing import RecordingState, Tracer, lift_choice
from .types import Bool, Domain


class Param:
    """A model parameter: a name, a default, and what values it accepts.

    ``key`` is the name users type (Kafka's configuration key where Kafka has one, such as
    ``min.insync.replicas``); the attribute name is what the model's code reads.
    """

    def __init__(self, default, *, key: str | None = None, lo: int | None = None,
                 hi: int | None = None, choices=None, doc: str = "", parse=None):
        self.default = default
        self.key = key
        self.lo, self.hi = lo, hi
        self.choices = tuple(choices) if choices is not None else None
        self.doc = doc
        self._parse = parse
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name
        self.key = self.key or name

    @property
    def kind(self) -> str:
        if self.choices is not None:
            return "choice"
        return type(self.default).__name__

    def parse(self, text: str):
        """Convert a command-line string to this parameter's value, or raise ParameterError."""
        if self._parse is not None:
            try:
                return self._parse(text)
            except ValueError as e:
                raise ParameterError(f"parameter {self.key}: {e}") from None
        if isinstance(self.default, bool):
            low = text.strip().lower()
            if low in ("true", "1", "yes", "on"):
                return True
            if low in ("false", "0", "no", "off"):
                return False
            raise ParameterError(f"parameter {self.key} is a boolean: use true or false, "
                                 f"not {text!r}")
        if isinstance(self.default, int):
            try:
                value = int(text)
            except ValueError:
                raise ParameterError(f"parameter {self.key} is an integer, not {text!r}") from None
            if abs(value) > 2 ** 62:
                raise ParameterError(f"parameter {self.key}={text} is too large")
            return value
        if isinstance(self.default, float):
            try:
                value = float(text)
            except ValueError:
                raise ParameterError(f"parameter {self.key} is a number, not {text!r}") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ParameterError(f"parameter {self.key} must be a finite number, not "
                                     f"{text!r}")
            return value
        return text

    def validate(self, value):
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"parameter {self.key} must be one of "
                                 f"{', '.join(map(str, self.choices))}; got {value!r}")
        if isinstance(self.default, bool) != isinstance(value, bool) or \
                (isinstance(self.default, int) and not isinstance(value, int)):
            raise ParameterError(f"parameter {self.key} takes a {type(self.default).__name__},"
                                 f" not {value!r}")
        if isinstance(self.default, float) and (isinstance(value, bool) or
                                                not isinstance(value, (int, float))):
            raise ParameterError(f"parameter {self.key} takes a number, not {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (self.lo is not None and value < self.lo) or \
                    (self.hi is not None and value > self.hi):
                raise ParameterError(f"parameter {self.key}={value} is out of range "
                                     f"{self.lo}..{self.hi}")
        return value

    def describe(self) -> dict:
        d = {"name": self.key, "type": self.kind, "default": self.default, "doc": self.doc}
        if self.choices is not None:
            d["choices"] = list(self.choices)
        if self.lo is not None or self.hi is not None:
            d["range"] = [self.lo, self.hi]
        return d


# -- decorators ----------------------------------------------------------------------------

FAIRNESS = ("none", "weak", "strong")


def action(*over: str, where=None, fair: str | None = None, fair_when=None, lane=None,
           tells=None):
    """Declare a protocol step, instantiated once per element of each named domain.

    ``@action("broker")`` on ``def crash(m, s, broker)`` gives ``crash(broker=1)``, ... The
    names refer to attributes that ``setup`` creates (a Domain or a sequence of elements).
    ``where(m, *args)`` filters bindings statically (``r`` ranges over the replicas of ``p``).

    ``fair`` (``"weak"``, ``"strong"`` or ``"none"``; default: the model's ``fairness``) is
    the fairness of each instance, for liveness properties: a weakly fair instance cannot
    stay enabled forever without being taken (TLA+'s ``WF``: a timer that fires), a strongly
    fair one cannot be enabled infinitely often without being taken (``SF``: a retry that
    eventually gets through). Fairness is per instance: ``crash(broker=1)`` and
    ``crash(broker=2)`` are each fair on their own, as ``\\A b: WF(crash(b))``.

    ``fair_when(m, s, *args)``, a predicate of the state before the step, makes only part
    of the action fair (TLA+'s ``WF(A /\\ C)``): a session expiry is a timer for a dead
    broker but a fault for a live one, so only the first is owed.
    """
    if over and callable(over[0]) and not isinstance(over[0], str):
        raise ModelError("write @action() or @action('domain', ...), with parentheses")
    if fair is not None and fair not in FAIRNESS:
        raise ModelError(f"@action(fair={fair!r}): fairness is one of {', '.join(FAIRNESS)}")

    def mark(fn):
        fn._kc_action = (over, where)
        fn._kc_fair = fair
        fn._kc_fair_when = fair_when
        fn._kc_lane = (lane, tells)
        return fn
    return mark


def _property(kind):
    def mark(fn):
        fn._kc_property = kind
        return fn
    mark.__name__ = kind
    return mark


always = _property("always")
always.__doc__ = "Declare an invariant: it must hold in every reachable state."
sometimes = _property("sometimes")
sometimes.__doc__ = "Declare a reachability property: some reachable state satisfies it."
constraint = _property("constraint")
constraint.__doc__ = ("Declare a state constraint (TLC's CONSTRAINT): a successor where it "
                      "fails is generated and checked, but never stored, expanded or counted "
                      "as a distinct state.")
transition = _property("transition")
transition.__doc__ = ("Declare a step property (TLA+'s ``[][P]_vars``): it must hold of every "
                      "step, the state before and after. In the method ``s`` is the state "
                      "after the step and ``s.pre`` the state before "
                      "(``s.leader_epoch[p] >= s.pre.leader_epoch[p]``).")
eventually = _property("eventually")
eventually.__doc__ = ("Declare a liveness property: on every fair behaviour the predicate "
                      "holds at some point (TLA+'s ``<>P``).")
leads_to = _property("leads_to")
leads_to.__doc__ = ("Declare a liveness property: the method returns a pair ``(p, q)``; on "
                    "every fair behaviour, whenever ``p`` holds, ``q`` holds then or later "
                    "(TLA+'s ``p ~> q``).")

#: the property kinds that only a liveness engine decides (over the whole reachable graph)
LIVENESS = ("eventually", "leads_to")


# -- the built model -------------------------------------------------------------------------

@dataclass
class ActionInstance:
    label: str
    action: str
    args: dict
    guard: Expr
    updates: dict[int, Expr]
    binding: tuple = ()       # the bound values and the chosen ones, as the body saw them
    fair: str = "none"
    fair_when: Expr | None = None   # the part of the action that is fair (None: all of it)
    lane: str = "system"            # who takes the step (pictures, the explorer)
    tells: tuple = ()               # the lanes it informs


@dataclass
class Property:
    """``expr`` is a predicate of one state; for a ``transition`` property, of the states
    before (slots 0..W-1) and after (slots W..2W-1) a step; for ``leads_to``, ``expr`` is
    ``q`` and ``trigger`` is ``p``."""

    name: str
    kind: str
    expr: Expr
    doc: str = ""
    trigger: Expr | None = None


@dataclass
class Built:
    """A model traced into expression trees: the input of every back-end."""

    name: str
    params: dict
    layout: Layout
    initial: list[tuple]
    actions: list[ActionInstance]
    properties: list[Property]
    check_deadlock: bool
    domains: dict = field(default_factory=dict)
    fairness: str = "none"


class Model:
    """Base class of models. See the module docstring; subclasses set ``name``."""

    name: str = None
    check_deadlock: bool = False
    fairness: str = "none"
    """The fairness of every action that does not declare its own (``@action(fair=...)``):
    ``none``, ``weak`` or ``strong``; ``--fairness`` on the command line overrides both."""
    fixes: dict[str, str] = {}
    """Known fixes this model includes, id -> one line (``{"KAFKA-6082": "..."}``); a model
    built with ``before={"KAFKA-6082"}`` behaves as the system did before that fix."""

    bugs: dict[str, tuple[tuple[str, ...], str]] = {}
    """Known bugs that no single fix of ``fixes`` names, id -> (the fixes that ended it,
    one line): ``before={"KAFKA-2729"}`` builds the model before each of those fixes, and
    the report says which it removed."""

    def __init__(self, *, before=(), **values):
        unknown = [f for f in before if f not in self.fixes and f not in self.bugs]
        if unknown:
            name = self.name or type(self).__name__
            known = ", ".join([*self.fixes, *self.bugs]) or "none"
            raise ParameterError(f"unknown fix {unknown[0]!r} for model {name} "
                                 f"(known fixes: {known})")
        for bug, (fixes, _) in self.bugs.items():
            if not fixes or any(f not in self.fixes for f in fixes):
                raise ModelError(f"{type(self).__name__}.bugs[{bug!r}] must name fixes "
                                 f"declared in {type(self).__name__}.fixes")
        self.before_bugs = {b: self.bugs[b][0] for b in before if b in self.bugs}
        self.before = frozenset([f for f in before if f in self.fixes] +
                                [f for fixes in self.before_bugs.values() for f in fixes])
        params = self.params()
        for key, value in values.items():
            if key not in params:
                raise _unknown_param(self, key, python_names=True)
            setattr(self, key, params[key].validate(value))
        for p in params.values():
            if p.name not in values:
                setattr(self, p.name, p.default)
        self.setup()

    # -- parameters ----------------------------------------------------------------------
    @classmethod
    def params(cls) -> dict[str, Param]:
        found = {}
        for klass in reversed(cls.__mro__):
            for name, v in vars(klass).items():
                if isinstance(v, Param):
                    found[name] = v
        keys = [p.key for p in found.values()]
        if len(set(keys)) != len(keys):
            dup = next(k for k in keys if keys.count(k) > 1)
            raise ModelError(f"two parameters of {cls.__name__} share the key {dup!r}")
        for p in found.values():
            try:
                p.validate(p.default)
            except ParameterError as e:
                raise ModelError(f"{cls.__name__}.{p.name}: its default {p.default!r} breaks "
                                 f"its own declaration ({e})") from None
        return found

    @classmethod
    def from_settings(cls, settings: dict[str, str], before=()):
        """Build from user-typed ``key=value`` strings, by Kafka key or attribute name."""
        params = cls.params()
        by_key = {p.key: p for p in params.values()} | params
        values = {}
        for key, text in settings.items():
            p = by_key.get(key)
            if p is None:
                raise _unknown_param(cls, key)
            if p.name in values:
                raise ParameterError(f"parameter {p.key} given twice (as {p.key!r} and "
                                     f"{p.name!r}); give it once")
            values[p.name] = p.parse(text) if isinstance(text, str) else text
        return cls(before=before, **values)

    def before_names(self) -> list[str]:
        """The removed fixes as a report names them: ``KAFKA-6082 (for KAFKA-2729)``."""
        why = {}
        for bug, fixes in self.before_bugs.items():
            for f in fixes:
                why.setdefault(f, []).append(bug)
        return [f"{f} (for {', '.join(why[f])})" if f in why else f for f in sorted(self.before)]

    def fixed(self, fix: str) -> bool:
        """Whether the model includes ``fix`` (false when built with ``before={fix}``)."""
        if fix not in self.fixes:
            raise ModelError(f"{fix!r} is not declared in {type(self).__name__}.fixes")
        return fix not in self.before

    def param_values(self) -> dict:
        return {p.key: getattr(self, p.name) for p in self.params().values()}

    # -- what subclasses provide ---------------------------------------------------------
    def setup(self):
        """Create domains and derived constants from the parameters."""

    def variables(self) -> dict:
        raise ModelError(f"model {self.name or type(self).__name__} must define variables()")

    def init(self, s):
        """The initial state(s); without an ``init`` every variable starts at its type's
        default (false, 0 or an Int's lower bound when 0 is outside it, an Enum's first
        name, a Domain's first element, none, the empty set, the empty sequence)."""

    # -- building --------------------------------------------------------------------------
    def compile(self):
        """Build and compile for the explicit engines (a ``CompiledSystem``)."""
        from .compiled import CompiledSystem
        return CompiledSystem(self.build())

    @classmethod
    def members(cls, attr: str) -> list:
        """Methods marked by a decorator, in definition order (base classes first)."""
        seen = {}
        for klass in reversed(cls.__mro__):
            for name, fn in vars(klass).items():
                if callable(fn) and hasattr(fn, attr):
                    seen.pop(name, None)
                    seen[name] = fn
                elif name in seen:
                    del seen[name]
        return list(seen.items())

    @classmethod
    def property_names(cls) -> list[tuple[str, str, str]]:
        return [(n, fn._kc_property, inspect.getdoc(fn) or "")
                for n, fn in cls.members("_kc_property")]

    def build(self) -> Built:
        layout = Layout(self.variables())
        actions = self.members("_kc_action")
        if not actions:
            raise ModelError(f"model {self.name or type(self).__name__} has no actions: "
                             "mark protocol steps with @action(...)")
        instances = []
        for name, fn in actions:
            instances.extend(self._instances(layout, name, fn))
        if self.fairness not in FAIRNESS:
            raise ModelError(f"{type(self).__name__}.fairness must be one of "
                             f"{', '.join(FAIRNESS)}, not {self.fairness!r}")
        labels = [i.label for i in instances]
        if len(set(labels)) != len(labels):
            dup = next(x for x in labels if labels.count(x) > 1)
            raise ModelError(f"two action instances are both labelled {dup}: give choose() "
                             "calls distinct names")
        props = [self._property(layout, n, fn) for n, fn in self.members("_kc_property")]
        domains = {k: v for k, v in vars(self).items() if isinstance(v, Domain)}
        return Built(self.name or type(self).__name__, self.param_values(), layout,
                     self._initial(layout), instances, props, self.check_deadlock, domains,
                     self.fairness)

    def _initial(self, layout) -> list[tuple]:
        start = [Const(c, t) for c, t in zip(layout.defaults, layout.slot_types)]
        states: dict[tuple, None] = {}  # ordered and linear: a set of the states seen
        for tracer in _each_choice(layout, start, lambda s: self.init(s), "init"):
            if all(evaluate(g, ()) for g in tracer.guards):
                state = tuple(evaluate(e, ()) for e in tracer.cur)
                for name, t, code in zip(layout.slot_names, layout.slot_types, state):
                    if not t.lo() <= code <= t.hi():
                        raise ModelError(f"init writes {code} to {name}, outside its range "
                                         f"{t.lo()}..{t.hi()} ({t.describe()})")
                states.setdefault(state)
        if not states:
            raise ModelError("init admits no state: its require(...) conditions never hold")
        return list(states)

    def _instances(self, layout, name, fn):
        over, where = fn._kc_action
        argnames = list(inspect.signature(fn).parameters)[2:]
        if len(argnames) != len(over):
            raise ModelError(f"action {name} ranges over {len(over)} domain(s) {over} but "
                             f"takes {len(argnames)} argument(s) after (m, s)")
        pools = [self._pool(name, d) for d in over]
        start = [Var(i, t) for i, t in enumerate(layout.slot_types)]
        out = []
        for binding in itertools.product(*pools):
            if where is not None and not where(self, *binding):
                continue
            shown = {a: _show(v) for a, v in zip(argnames, binding)}
            for tracer in _each_choice(layout, start, lambda s: fn(self, s, *binding),
                                       _label(name, shown)):
                args = dict(shown)
                for n, vals, i in tracer.taken:
                    if n in args:
                        raise ModelError(
                            f"action {name}: choose() named {n!r} clashes with another "
                            f"parameter or choice of the same name, so its labels would be "
                            f"ambiguous; pass choose(..., name='...') with a distinct name")
                    args[n] = _show(lift_choice(vals[i]))
                updates = {i: e for i, e in enumerate(tracer.cur) if e is not start[i]}
                chosen = tuple(lift_choice(vals[i]) for _, vals, i in tracer.taken)
                fair_when = getattr(fn, "_kc_fair_when", None)
                cond = None
                if fair_when is not None:
                    cond = self._predicate(layout, f"fair_when of {name}",
                                           lambda s: fair_when(self, s, *binding))
                out.append(ActionInstance(_label(name, args), name, args,
                                          And(*tracer.guards), updates,
                                          binding=(*binding, *chosen),
                                          fair=getattr(fn, "_kc_fair", None) or self.fairness,
                                          fair_when=cond,
                                          **self._lanes(name, fn, argnames, binding)))
        return out

    def _lanes(self, name, fn, argnames, binding) -> dict:
        """The lane and the told lanes of one binding of an action (see ``action``)."""
        lane, tells = getattr(fn, "_kc_lane", (None, None))
        values = dict(zip(argnames, binding))

        def resolve(spec) -> list[str]:
            if spec is None:
                return []
            if callable(spec):
                got = spec(self, *binding)
                got = [got] if isinstance(got, str) else list(got)
                if not all(isinstance(g, str) for g in got):
                    raise ModelError(f"action {name}: lane/tells functions return lane "
                                     f"names (strings), not {got!r}")
                return got
            if isinstance(spec, (tuple, list)):
                return [x for part in spec for x in resolve(part)]
            if not isinstance(spec, str):
                raise ModelError(f"action {name}: lane/tells is an argument name, a lane "
                                 f"name or a function, not {spec!r}")
            if spec in values:
                found = _element_lanes(values[spec])
                if not found:
                    raise ModelError(f"action {name}: argument {spec!r} is not a domain "
                                     "element, so it names no lane; give a lane name or a "
                                     "function")
                return found
            return [spec]

        own = resolve(lane)
        if len(own) > 1:
            raise ModelError(f"action {name}: lane= names {len(own)} lanes ({', '.join(own)});"
                             " a step has one lane (tells= may name several)")
        if not own:
            own = next((found for v in binding if (found := _element_lanes(v))), ["system"])[:1]
        told = tuple(dict.fromkeys(t for t in resolve(tells) if t != own[0]))
        return {"lane": own[0], "tells": told}

    def _pool(self, action_name, attr):
        pool = getattr(self, attr, None)
        if pool is None:
            raise ModelError(f"action {action_name} ranges over {attr!r}, which setup() "
                             "did not define")
        return list(pool)

    def _predicate(self, layout, what, body) -> Expr:
        start = [Var(i, t) for i, t in enumerate(layout.slot_types)]
        tracer = Tracer(layout, start, writable=False)
        try:
            with tracer:
                value = lift(body(RecordingState(tracer)), Bool)
        except TracingError as e:
            raise TracingError(f"in {what}: {e}") from e
        if value.type is not Bool or tracer.guards:
            raise ModelError(f"{what} must return a boolean (and call no require())")
        return value

    def _property(self, layout, name, fn) -> Property:
        kind = fn._kc_property
        start = [Var(i, t) for i, t in enumerate(layout.slot_types)]
        pre = None
        if kind == "transition":  # s is the state after the step, s.pre the state before
            pre = start
            start = [Var(layout.width + i, t) for i, t in enumerate(layout.slot_types)]
        tracer = Tracer(layout, start, writable=False, pre_start=pre)
        if kind != "transition":
            tracer.no_pre = (f"s.pre is the state before a step, and @{kind} {name} is a "
                             "predicate of one state; make it a @transition property to "
                             "compare the states before and after a step")
        try:
            with tracer:
                got = fn(self, RecordingState(tracer))
                if kind == "leads_to":
                    if not (isinstance(got, tuple) and len(got) == 2):
                        raise ModelError(f"property {name} is @leads_to: return a pair "
                                         "(p, q), whenever p then eventually q")
                    values = [lift(x, Bool) for x in got]
                else:
                    values = [lift(got, Bool)]
        except TracingError as e:
            raise TracingError(f"in property {name}: {e}") from e
        for value in values:
            if value.type is not Bool:
                raise ModelError(f"property {name} must be boolean, but its value is "
                                 f"{value.type.describe()}")
        if tracer.guards:
            raise ModelError(f"property {name} calls require(); return a boolean instead")
        if kind == "leads_to":
            return Property(name, kind, values[1], inspect.getdoc(fn) or "", values[0])
        return Property(name, kind, values[0], inspect.getdoc(fn) or "")


def _each_choice(layout, start, body, where):
    """Run ``body`` once per combination of its choose() calls, yielding each tracer."""
    path: list[int] = []
    while True:
        tracer = Tracer(layout, start, path=path)
        try:
            with tracer:
                body(RecordingState(tracer))
        except TracingError as e:
            raise TracingError(f"in {where}: {e}") from e
        yield tracer
        path = [i for _, _, i in tracer.taken]
        sizes = [len(vals) for _, vals, _ in tracer.taken]
        while path and path[-1] + 1 >= sizes[len(path) - 1]:
            path.pop()
        if not path:
            return
        path[-1] += 1


def _show(v):
    if type(v) is tuple:            # a choice of several constants (a subclass shows itself)
        return tuple(map(_show, v))
    if isinstance(v, Expr) and v.op == "const":
        return v.type.decode(v.value)
    return v


def _element_lanes(v) -> list[str]:
    """The lanes a bound value names: ``broker 101`` for a domain element, one per element
    for a tuple of them, none for anything else."""
    if isinstance(v, Expr) and v.op == "const" and isinstance(v.type, Domain):
        return [f"{v.type.name} {v.type.decode(v.value)}"]
    if isinstance(v, tuple):
        return [lane for x in v for lane in _element_lanes(x)]
    return []


def _label(name, args: dict) -> str:
    return f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"


def _unknown_param(model, key, *, python_names=False):
    """``python_names``: the caller passed keyword arguments, so suggest attribute names
    (``replication_factor``), not the keys users type (``replication.factor``)."""
    params = model.params()
    keys = list(params) if python_names else [p.key for p in params.values()]
    hint = get_close_matches(key, keys, n=1)
    did = f"; did you mean {hint[0]!r}?" if hint else ""
    name = model.name or getattr(model, "__name__", type(model).__name__)
    return ParameterError(f"unknown parameter {key!r} for model {name}{did} "
                          f"(known: {', '.join(keys) or 'none'})")
