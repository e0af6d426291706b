"""Proofs for every depth: k-induction and inductive invariants, with Z3.

To prove that an always-property ``P`` holds in every reachable state, take the candidate
invariant ``Inv = P ∧ L1 ∧ ... ∧ Ln`` (the lemmas ``Li`` are other always-properties of the
model, named with ``strengthen``) and check, as Apalache does for an inductive invariant:

1. **base**: no path of fewer than k steps from an initial state reaches a state where
   ``Inv`` fails. A path that does is a real counterexample: it is replayed through the
   reference successors, and the outcome is ``refuted`` (when ``P`` fails) or ``unknown``
   (when only a lemma fails: the lemma is false, so it cannot help);
2. **step**: for any k consecutive states where ``Inv`` holds (any states in range, reachable
   or not, pairwise distinct when k > 1), every next state satisfies ``Inv``. If not, the
   outcome is ``not_inductive`` and the counterexample to induction (CTI) is shown: the
   states before and after the step, decoded, and the action between them. A CTI is usually
   an unreachable state; add a lemma that excludes it (``strengthen``), or raise k;
3. ``Inv ⇒ P`` holds because ``P`` is one of its conjuncts.

With k = 1 this is exactly the inductive-invariant check; with k > 1 it is k-induction.
Z3 ``unknown`` or the time limit gives outcome ``unknown``, never ``proved``.

Scope: the proof covers every state reachable without an out-of-range write (a write outside
a slot's declared range is a ``type_ok`` violation, which the explicit engines and ``bmc``
report; such a transition is not a step here). State constraints are respected: a state
outside them is not expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from ..lang.evaluate import evaluate
from ..stop import stop_reason as _stop_reason
from ..system import TransitionSystem
from ..trace import Step, Trace
from .bmc import Clock, ReplayError, _Stop, compiled_built, new_solver, replay
from .z3gen import Encoding

OUTCOMES = ("proved", "refuted", "not_inductive", "unknown")


@dataclass(frozen=True)
class CounterexampleToInduction:
    """Why ``Inv ∧ step ⇒ Inv'`` fails: states where ``Inv`` holds, then one where it fails.

    ``before`` and ``after`` are the last two states, decoded to readable dicts; ``action``
    is the step between them; ``violated`` names the conjunct of ``Inv`` that fails after it.
    ``path`` holds all k+1 states as steps (the first one's action is ``"any"``); ``raw``
    the state tuples.
    """

    before: dict
    action: str
    after: dict
    violated: str
    path: tuple[Step, ...]

    def changed(self) -> dict:
        """The variables the step changes, as ``{name: (before, after)}``."""
        return {k: (self.before[k], v) for k, v in self.after.items() if self.before[k] != v}


@dataclass
class ProofResult:
    """The outcome of trying to prove one always-property for every depth.

    ``outcome`` is ``proved``, ``refuted`` (``counterexample`` is a real trace from an initial
    state), ``not_inductive`` (``cti`` shows the step that breaks the candidate invariant) or
    ``unknown`` (``reason`` says why: Z3 unknown, the time limit, or a false lemma).
    ``vacuous``: the property is constant true in this configuration, so "proved" says
    nothing (``PropertyInfo.constant``).
    """

    system: str
    property: str
    outcome: str
    method: str
    k: int
    lemmas: list[str]
    seconds: float
    counterexample: Trace | None = None
    cti: CounterexampleToInduction | None = None
    reason: str = ""
    queries: list[dict] = field(default_factory=list)
    vacuous: bool = False
    stopped: bool = False  # interrupted or out of time: ``prove`` tries no further property

    @property
    def proved(self) -> bool:
        return self.outcome == "proved"


def prove(system, *, properties=None, k: int = 1, strengthen=(), base_depth: int = 0,
          time_limit: float | None = None,
          query_time_limit: float | None = None) -> list[ProofResult]:
    """Try to prove each named always-property (default: all of them) for every depth.

    ``time_limit`` is for the whole call; each property gets what is left. See
    ``prove_property`` for the rest.
    """
    always = [p.name for p in system.properties if p.kind in ("always", "transition")]
    names = list(properties) if properties is not None else always
    clock = Clock(time_limit)
    out = []
    for name in names:
        left = None if time_limit is None else max(0.0, time_limit - clock.elapsed)
        out.append(prove_property(system, name, k=k, strengthen=strengthen,
                                  base_depth=base_depth, time_limit=left,
                                  query_time_limit=query_time_limit))
        if out[-1].stopped:
            break  # interrupted or out of time: the remaining properties are not tried
    return out


def prove_property(system, name: str, *, k: int = 1, strengthen=(), base_depth: int = 0,
                   time_limit: float | None = None,
                   query_time_limit: float | None = None) -> ProofResult:
    """Prove the always-property ``name`` by k-induction, with ``strengthen`` as lemmas.

    Parameters
    ----------
    system : CompiledSystem
        A model written in the modeling language (``model.compile()``).
    name : str
        An always-property of the model.
    k : int
        The induction depth (1: ``Inv`` itself must be inductive).
    strengthen : sequence of str
        Other always-properties conjoined to the candidate invariant as lemmas.
    base_depth : int
        Search the base case deeper than the k-1 steps induction needs, up to this many
        steps, so that a property with a short real counterexample comes back ``refuted``
        rather than ``not_inductive``.
    time_limit : float, optional
        Seconds for the whole proof; when it runs out the outcome is ``unknown``.
    query_time_limit : float, optional
        Seconds for any one solver query; past it the outcome is ``unknown``.

    Examples
    --------
    >>> from kafkacheck.checker.lang import Model, Int, action, always, require
    >>> class Even(Model):
    ...     name = "even"
    ...     def variables(m):
    ...         return {"n": Int(0, 10)}
    ...     def init(m, s):
    ...         s.n = 0
    ...     @action()
    ...     def add_two(m, s):
    ...         require(s.n <= 8)
    ...         s.n = s.n + 2
    ...     @always
    ...     def not_seven(m, s):
    ...         return s.n != 7
    >>> r = prove_property(Even().compile(), "not_seven")
    >>> r.outcome, r.cti.before["n"], r.cti.after["n"]
    ('not_inductive', 5, 7)

    A 4-step path ending in 7 would have to start at -1, outside the range of ``n``, so
    4-induction proves what 1-induction cannot:

    >>> prove_property(Even().compile(), "not_seven", k=4).outcome
    'proved'
    """
    built = compiled_built(system)
    kinds = {p.name: p.kind for p in system.properties}
    TransitionSystem.select(system, [name], kinds=("always", "transition"),
                            purpose="proved")
    TransitionSystem.select(system, list(strengthen), kinds=("always",),
                            purpose="used as lemmas")
    if k < 1:
        raise ValueError(f"the induction depth k must be at least 1, not {k}")
    lemmas = [n for n in dict.fromkeys(strengthen) if n != name]
    conjuncts = [name, *lemmas]
    clock = Clock(time_limit, query_time_limit)
    enc = Encoding(built)
    method = "inductive-invariant" if k == 1 else "k-induction"
    result = ProofResult(system.name, name, "unknown", method, k, lemmas, 0.0,
                         vacuous=bool(system.vacuous([name])))
    try:
        try:
            _prove(system, enc, clock, conjuncts, k, max(k - 1, base_depth), result)
        except KeyboardInterrupt as e:  # between solver calls
            raise _Stop(_stop_reason(e)) from None
        except MemoryError:
            raise _Stop("memory_limit", "out of memory") from None
    except _Stop as stop:
        result.outcome = "unknown"
        result.stopped = stop.reason in ("time_limit", "interrupted")
        result.reason = {"memory_limit": "out of memory","time_limit": "the time limit ran out",
                         "query_time_limit": "a solver query ran past --query-time-limit",
                         "interrupted": "interrupted"}.get(stop.reason,
                                                           f"Z3 answered unknown ({stop.detail})")
    result.seconds = clock.elapsed
    return result


def _timed(result, clock, what, fn):
    t = clock.elapsed
    try:
        return fn()
    finally:
        result.queries.append({"query": what, "seconds": round(clock.elapsed - t, 4)})


def _prove(system, enc, clock, conjuncts, k, base, result):
    """``conjuncts``: the property, then its lemmas. A step (``transition``) property ``T``
    is proved as ``Inv ∧ T`` on the steps between the states where the lemmas ``Inv`` hold:
    the base checks the steps from the initial states too, the step case assumes ``T`` on
    the k-1 steps before the last and asks for it on the last."""
    name = conjuncts[0]
    kinds = {p.name: p.kind for p in system.properties}
    if kinds.get(name) == "transition":
        return _prove_step(system, enc, clock, conjuncts, k, base, result)
    check = system.first_false(conjuncts)

    # 1. base: no state reachable in fewer than k steps (or in ``base`` steps) breaks Inv,
    #    P first, then the lemmas.
    solver = new_solver()
    states = [enc.state("0")]
    acts = []
    solver.add(enc.init(states[0]))
    for d in range(base + 1):
        if d > 0:
            acts.append(enc.action_var(str(d - 1)))
            states.append(enc.state(str(d)))
            solver.add(enc.step(states[d - 1], states[d], acts[d - 1]))
        for group in ([name], conjuncts[1:]):
            if not group:
                continue
            solver.push()
            solver.add(z3.Or([z3.Not(enc.prop(n, states[d])) for n in group]))
            sat = _timed(result, clock, f"base depth {d}", lambda: clock.check(solver))
            model = solver.model() if sat else None
            solver.pop()
            if model is None:
                continue
            raw = [enc.decode(model, sv) for sv in states]
            path = [enc.decode_action(model, a) for a in acts]
            bad = check(raw[-1])
            if bad < 0:
                raise ReplayError(f"Z3 found a state breaking {', '.join(group)} that the "
                                  f"reference evaluation accepts: {raw[-1]}")
            trace = Trace(conjuncts[bad], "always", replay(system, raw, path))
            result.counterexample = trace
            if conjuncts[bad] == name:
                result.outcome = "refuted"
            else:
                result.outcome = "unknown"
                result.reason = (f"lemma {conjuncts[bad]} is false: a {trace.length}-step "
                                 "trace breaks it, so it cannot strengthen the invariant")
            return

    # 2. step: Inv in k consecutive states (pairwise distinct) implies Inv in the next.
    solver = new_solver()
    pre = [enc.state(f"i{d}") for d in range(k + 1)]
    acts = [enc.action_var(f"i{d}") for d in range(k)]
    solver.add(enc.in_range(pre[0]))
    for d in range(k):
        solver.add(enc.step(pre[d], pre[d + 1], acts[d]))
        solver.add(*[enc.prop(n, pre[d]) for n in conjuncts])
    for i in range(k + 1):
        for j in range(i + 1, k + 1):
            solver.add(z3.Not(enc.same(pre[i], pre[j])))
    solver.add(z3.Or([z3.Not(enc.prop(n, pre[k])) for n in conjuncts]))
    if not _timed(result, clock, f"step k={k}", lambda: clock.check(solver)):
        result.outcome = "proved"
        return
    model = solver.model()
    raw = [enc.decode(model, sv) for sv in pre]
    path = [enc.decode_action(model, a) for a in acts]
    bad = check(raw[-1])
    if bad < 0 or any(check(s) >= 0 for s in raw[:-1]):
        raise ReplayError(f"Z3's counterexample to induction for {name} does not match the "
                          f"reference evaluation: {raw}")
    steps = [Step("any", system.decode(raw[0]), raw[0])]
    for d, act in enumerate(path):
        if _reference_step(system.built, raw[d], act) != raw[d + 1]:
            raise ReplayError(f"Z3's counterexample to induction takes {system.actions[act]} "
                              f"from {raw[d]} to {raw[d + 1]}, which the reference successors "
                              "do not")
        steps.append(Step(system.actions[act], system.decode(raw[d + 1]), raw[d + 1]))
    result.outcome = "not_inductive"
    result.cti = CounterexampleToInduction(steps[-2].state, steps[-1].action, steps[-1].state,
                                           conjuncts[bad], tuple(steps))


def _prove_step(system, enc, clock, conjuncts, k, base, result):
    name, lemmas = conjuncts[0], conjuncts[1:]
    check = system.first_false(lemmas) if lemmas else (lambda s: -1)
    step_ok = system.first_false_step([name])

    def broken(states, d, lemma_group):
        if lemma_group:
            return z3.Or([z3.Not(enc.prop(n, states[d])) for n in lemmas])
        return z3.Not(enc.step_prop(name, states[d - 1], states[d]))

    # 1. base: no path of ``base`` steps from an initial state breaks a lemma or the property
    solver = new_solver()
    states = [enc.state("0")]
    acts = []
    solver.add(enc.init(states[0]))
    for d in range(base + 1):
        if d > 0:
            acts.append(enc.action_var(str(d - 1)))
            states.append(enc.state(str(d)))
            solver.add(enc.step(states[d - 1], states[d], acts[d - 1]))
        for lemma_group in (False, True):
            if (lemma_group and not lemmas) or (not lemma_group and d == 0):
                continue
            solver.push()
            solver.add(broken(states, d, lemma_group))
            sat = _timed(result, clock, f"base depth {d}", lambda: clock.check(solver))
            model = solver.model() if sat else None
            solver.pop()
            if model is None:
                continue
            raw = [enc.decode(model, sv) for sv in states]
            path = [enc.decode_action(model, a) for a in acts]
            steps = replay(system, raw, path)
            if not lemma_group:
                if step_ok(raw[-2], raw[-1]) < 0:
                    raise ReplayError(f"Z3 found a step breaking {name} that the reference "
                                      f"evaluation accepts: {raw[-2:]}")
                result.counterexample = Trace(name, "transition", steps,
                                              "the last step breaks it")
                result.outcome = "refuted"
            else:
                bad = check(raw[-1])
                if bad < 0:
                    raise ReplayError(f"Z3 found a state breaking a lemma that the reference "
                                      f"evaluation accepts: {raw[-1]}")
                result.counterexample = Trace(lemmas[bad], "always", steps)
                result.outcome = "unknown"
                result.reason = (f"lemma {lemmas[bad]} is false: a {len(path)}-step trace "
                                 "breaks it, so it cannot strengthen the invariant")
            return

    # 2. step: the lemmas in k consecutive states and the property on the steps between
    #    them imply the lemmas in the next state and the property on the last step
    solver = new_solver()
    pre = [enc.state(f"i{d}") for d in range(k + 1)]
    acts = [enc.action_var(f"i{d}") for d in range(k)]
    solver.add(enc.in_range(pre[0]))
    for d in range(k):
        solver.add(enc.step(pre[d], pre[d + 1], acts[d]))
        solver.add(*[enc.prop(n, pre[d]) for n in lemmas])
        if d > 0:
            solver.add(enc.step_prop(name, pre[d - 1], pre[d]))
    for i in range(k + 1):
        for j in range(i + 1, k + 1):
            solver.add(z3.Not(enc.same(pre[i], pre[j])))
    goal = [z3.Not(enc.step_prop(name, pre[k - 1], pre[k]))]
    goal += [z3.Not(enc.prop(n, pre[k])) for n in lemmas]
    solver.add(z3.Or(goal))
    if not _timed(result, clock, f"step k={k}", lambda: clock.check(solver)):
        result.outcome = "proved"
        return
    model = solver.model()
    raw = [enc.decode(model, sv) for sv in pre]
    path = [enc.decode_action(model, a) for a in acts]
    steps = [Step("any", system.decode(raw[0]), raw[0])]
    for d, act in enumerate(path):
        if _reference_step(system.built, raw[d], act) != raw[d + 1]:
            raise ReplayError(f"Z3's counterexample to induction takes {system.actions[act]} "
                              f"from {raw[d]} to {raw[d + 1]}, which the reference successors "
                              "do not")
        steps.append(Step(system.actions[act], system.decode(raw[d + 1]), raw[d + 1]))
    if step_ok(raw[-2], raw[-1]) >= 0:
        violated = name
    else:
        bad = check(raw[-1])
        if bad < 0:
            raise ReplayError(f"Z3's counterexample to induction for {name} does not match "
                              f"the reference evaluation: {raw}")
        violated = lemmas[bad]
    result.outcome = "not_inductive"
    result.cti = CounterexampleToInduction(steps[-2].state, steps[-1].action, steps[-1].state,
                                           violated, tuple(steps))


def _reference_step(built, state: tuple, act: int) -> tuple | None:
    """The state after action instance ``act`` in the reference interpreter, or None when it
    is not enabled (a CTI's states need not be reachable, so the compiled successors, which
    stop at the first out-of-range write, are not used here)."""
    inst = built.actions[act]
    if not evaluate(inst.guard, state):
        return None
    nxt = list(state)
    for slot, e in inst.updates.items():
        nxt[slot] = evaluate(e, state)
    return tuple(nxt)
