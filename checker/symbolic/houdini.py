"""Proofs without hand-picked lemmas: Houdini over a model's always-properties.

Houdini (Flanagan and Leino, 2001) finds the largest subset of candidate invariants that is
inductive *together*: start from every candidate; drop those false in an initial state; then,
while some step from a state where all the remaining candidates hold (any state in range,
reachable or not) leads to a state where some fail, drop the ones that fail there. What is
left holds initially and is preserved by every step, so each member holds in every reachable
state. The union of inductive sets is inductive, so the answer is the greatest one: if
``P`` with lemmas ``L1..Ln`` is inductive, Houdini keeps all of them without being told the
lemmas.

A dropped candidate is *not proved*, which is not the same as false: it may hold in every
reachable state yet need a lemma that is not among the candidates (or k-induction). Each
dropped candidate comes with what broke it: the initial state where it fails, or the
counterexample to induction (the step, from a state where every candidate still kept holds,
to one where it fails).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from ..stop import stop_reason as _stop_reason
from .bmc import Clock, ReplayError, _Stop, compiled_built, new_solver
from .induction import CounterexampleToInduction, _reference_step
from .z3gen import Encoding
from ..trace import Step


@dataclass(frozen=True)
class Dropped:
    """A candidate Houdini dropped: ``round`` (0: false in an initial state), the state
    that broke it (``state``) and, from round 1 on, the counterexample to induction."""

    property: str
    round: int
    state: dict
    cti: CounterexampleToInduction | None = None

    @property
    def reason(self) -> str:
        if self.cti is None:
            return "false in an initial state"
        return (f"not inductive with the others: {self.cti.action} from a state where they "
                f"all hold breaks it (round {self.round})")


@dataclass
class HoudiniResult:
    """``proved``: the candidates kept (inductive together: each holds in every reachable
    state); ``dropped``: the others, in the order they were dropped, each with the state that
    broke it; ``outcome`` is ``done``, or ``unknown`` (``reason``: Z3 unknown, a time limit)
    when the loop stopped before the fixpoint (then ``proved`` proves nothing)."""

    system: str
    candidates: list[str]
    proved: list[str] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    rounds: int = 0
    seconds: float = 0.0
    outcome: str = "done"
    reason: str = ""
    vacuous: list[str] = field(default_factory=list)


def houdini(system, *, candidates=None, time_limit: float | None = None,
            query_time_limit: float | None = None) -> HoudiniResult:
    """The largest subset of ``candidates`` (default: every always-property) that is an
    inductive invariant together; see the module docstring. Step (``transition``)
    candidates are goals only: each is proved on every step from a state where the
    invariant found holds, or dropped with the step that breaks it.

    >>> from kafkacheck.checker.lang import Model, Int, action, always, require
    >>> class Even(Model):
    ...     name = "even"
    ...     def variables(m):
    ...         return {"n": Int(0, 9)}
    ...     @action()
    ...     def add_two(m, s):
    ...         require(s.n < 8)
    ...         s.n = s.n + 2
    ...     @always
    ...     def not_seven(m, s):
    ...         return s.n != 7
    ...     @always
    ...     def even(m, s):
    ...         return (s.n != 1) & (s.n != 3) & (s.n != 5) & (s.n != 7) & (s.n != 9)
    >>> r = houdini(Even().compile())
    >>> r.proved, [d.property for d in r.dropped]
    (['not_seven', 'even'], [])
    """
    built = compiled_built(system)
    default = [p.name for p in system.properties if p.kind in ("always", "transition")]
    names = list(dict.fromkeys(candidates if candidates is not None else default))
    system.select(names, kinds=("always", "transition"), purpose="Houdini candidates")
    kinds = {p.name: p.kind for p in system.properties}
    steps = [n for n in names if kinds[n] == "transition"]
    names = [n for n in names if kinds[n] == "always"]
    clock = Clock(time_limit, query_time_limit)
    result = HoudiniResult(system.name, names + steps, vacuous=system.vacuous(names + steps))
    kept = list(names)
    try:
        try:
            # round 0: the initial states are explicit, so no solver is needed
            for state in system.initial_states():
                for n in list(kept):
                    if system.first_false([n])(state) >= 0:
                        kept.remove(n)
                        result.dropped.append(Dropped(n, 0, system.decode(state)))
            enc = Encoding(built)
            pre, post = enc.state("h0"), enc.state("h1")
            act = enc.action_var("h")
            solver = new_solver()
            solver.add(enc.in_range(pre), enc.step(pre, post, act))
            while kept:
                result.rounds += 1
                solver.push()
                solver.add(*[enc.prop(n, pre) for n in kept])
                solver.add(z3.Or([z3.Not(enc.prop(n, post)) for n in kept]))
                sat = clock.check(solver)
                model = solver.model() if sat else None
                solver.pop()
                if model is None:
                    break
                before, after = enc.decode(model, pre), enc.decode(model, post)
                a = enc.decode_action(model, act)
                if _reference_step(built, before, a) != after:
                    raise ReplayError(f"Z3's step {system.actions[a]} from {before} to {after} "
                                      "is not the reference semantics'")
                broken = [n for n in kept if system.first_false([n])(after) >= 0]
                if not broken or any(system.first_false([n])(before) >= 0 for n in kept):
                    raise ReplayError(f"Z3's counterexample to induction does not match the "
                                      f"reference evaluation: {before} -> {after}")
                path = (Step("any", system.decode(before), before),
                        Step(system.actions[a], system.decode(after), after))
                for n in broken:
                    kept.remove(n)
                    cti = CounterexampleToInduction(path[0].state, path[1].action,
                                                    path[1].state, n, path)
                    result.dropped.append(Dropped(n, result.rounds, path[1].state, cti))
            # step properties: goals, not assumptions: each holds on every step from a
            # state where the invariant found holds, or is dropped with the step that breaks it
            invariant = list(kept)
            for n in steps:
                solver.push()
                solver.add(*[enc.prop(x, pre) for x in invariant])
                solver.add(z3.Not(enc.step_prop(n, pre, post)))
                sat = clock.check(solver)
                model = solver.model() if sat else None
                solver.pop()
                if model is None:
                    kept.append(n)
                    continue
                before, after = enc.decode(model, pre), enc.decode(model, post)
                a = enc.decode_action(model, act)
                if _reference_step(built, before, a) != after or \
                        system.first_false_step([n])(before, after) < 0:
                    raise ReplayError(f"Z3's step breaking {n} does not match the reference "
                                      f"evaluation: {before} -> {after}")
                path = (Step("any", system.decode(before), before),
                        Step(system.actions[a], system.decode(after), after))
                cti = CounterexampleToInduction(path[0].state, path[1].action, path[1].state,
                                                n, path)
                result.dropped.append(Dropped(n, result.rounds + 1, path[1].state, cti))
        except KeyboardInterrupt as e:
            raise _Stop(_stop_reason(e)) from None
        except MemoryError:
            raise _Stop("memory_limit", "out of memory") from None
    except _Stop as stop:
        result.outcome = "unknown"
        result.reason = {"memory_limit": "out of memory", "time_limit": "the time limit ran out",
                         "query_time_limit": "a solver query ran past --query-time-limit",
                         "interrupted": "interrupted"}.get(stop.reason,
                                                           f"Z3 answered unknown ({stop.detail})")
        kept = []
    result.proved = kept
    result.seconds = clock.elapsed
    return result
