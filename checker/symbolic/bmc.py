"""Bounded model checking with Z3: a shortest violation up to a depth bound, or none up to it.

The path ``s0 -> s1 -> ... -> sk`` is unrolled one step at a time in one incremental solver.
At each depth k, in this order, the solver is asked for a state ``sk`` that

1. breaks an always-property (trace kind ``always``);
2. has an enabled action writing outside a slot's range (kind ``type_ok``, as the explicit
   engine reports it: the trace ends in the state where the action is enabled);
3. has no enabled action, when the model checks deadlocks (kind ``deadlock``);
4. satisfies a sometimes-property not yet reached (an example).

Because depth k is only unrolled after every query at k-1 came back unsatisfiable, the first
violation found is a shortest one: the same length breadth-first search reports. Every trace
is decoded from the Z3 model into the engines' ``Trace`` and replayed through the reference
successors (``CompiledSystem.successors``); a trace that does not replay raises
``ReplayError``, because it means the Z3 back-end and the reference semantics disagree.

Trade-off: BMC never enumerates states, so it reaches depths where the state space is far too
large to store, but "holds" only means "no violation within ``max_depth`` steps"
(``complete=False``, ``bound={"max_depth": K}``). Each query is harder than the last; for a
proof at every depth use ``prove`` (induction). When no path of length k exists at all, every
reachable state has been seen and the result is complete.
"""

from __future__ import annotations

import time

import z3

from ..result import CheckResult
from ..system import LIVENESS, SAFETY, TransitionSystem
from ..stop import stop_reason as _stop_reason
from ..trace import Step, Trace
from .z3gen import Encoding


class ReplayError(AssertionError):
    """A trace decoded from Z3 does not replay through the reference successors: the Z3
    back-end and the reference semantics disagree. This is a bug in kafkacheck."""


class _Stop(Exception):
    """A query came back unknown: ``reason`` is ``time_limit``, ``unknown`` or
    ``interrupted``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


class Clock:
    """The time left for a run of several queries (``limit``), and for any one of them
    (``query_limit``)."""

    def __init__(self, limit: float | None, query_limit: float | None = None):
        self.start = time.perf_counter()
        self.limit = limit
        self.query_limit = query_limit

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def check(self, solver: z3.Solver, *assumptions) -> bool:
        """``solver.check``: True for sat, False for unsat; raise ``_Stop`` otherwise."""
        budget = [] if self.query_limit is None else [self.query_limit]
        if self.limit is not None:
            left = self.limit - self.elapsed
            if left <= 0:
                raise _Stop("time_limit")
            budget.append(left)
        if budget:
            solver.set("timeout", max(1, int(min(budget) * 1000)))
        began = time.perf_counter()
        try:
            answer = solver.check(*assumptions)
        except KeyboardInterrupt as e:
            raise _Stop(_stop_reason(e)) from None
        except z3.Z3Exception as e:  # e.g. out of memory inside Z3: no answer
            raise _Stop("memory_limit" if "memory" in str(e) else "unknown", str(e)) from None
        if answer == z3.sat:
            return True
        if answer == z3.unsat:
            return False
        reason = solver.reason_unknown()
        slack = 0.05
        total_spent = self.limit is not None and self.elapsed >= self.limit - slack
        query_spent = self.query_limit is not None and \
            time.perf_counter() - began >= self.query_limit - slack
        cut = "timeout" in reason or "canceled" in reason
        if cut and query_spent and not total_spent:
            raise _Stop("query_time_limit", reason)
        if total_spent or (cut and "timeout" in reason and self.limit is not None):
            raise _Stop("time_limit", reason)
        if "interrupted" in reason or "canceled" in reason:
            raise _Stop("interrupted", reason)  # Ctrl-C reaches Z3 as a cancel
        if "memory" in reason:
            raise _Stop("memory_limit", reason)
        raise _Stop("unknown", reason)


def new_solver() -> z3.Solver:
    """An incremental solver for the bit-vector encoding."""
    return z3.SolverFor("QF_BV")


def compiled_built(system):
    """The ``Built`` model behind ``system``, or a clear error for a plain Python system."""
    built = getattr(system, "built", None)
    if built is None:
        raise TypeError(f"the symbolic engines need a model written in the modeling language "
                        f"(a CompiledSystem); {getattr(system, 'name', system)!r} is a plain "
                        "Python transition system: check it with bfs or dfs")
    return built


def replay(system, states: list[tuple], actions: list[int]) -> tuple[Step, ...]:
    """Replay a decoded path through the reference successors; the steps of its trace."""
    if states[0] not in system.initial_states():
        raise ReplayError(f"decoded initial state {states[0]} is not an initial state of "
                          f"{system.name}")
    steps = [Step("init", system.decode(states[0]), states[0])]
    for i, act in enumerate(actions):
        try:
            succ = system.successors(states[i])
        except getattr(system, "out_of_range", ()) as err:
            raise ReplayError(f"step {i + 1} of a decoded trace starts in a state where "
                              f"{system.describe_out_of_range(err)}") from None
        if (act, states[i + 1]) not in succ:
            raise ReplayError(f"step {i + 1} of a decoded trace, {system.actions[act]}, does "
                              f"not lead from {states[i]} to {states[i + 1]} in the reference "
                              "semantics")
        steps.append(Step(system.actions[act], system.decode(states[i + 1]), states[i + 1]))
    return tuple(steps)


class _Unrolling:
    """A path from an initial state, unrolled in one incremental solver."""

    def __init__(self, system, enc: Encoding, clock: Clock):
        self.system, self.enc, self.clock = system, enc, clock
        self.solver = new_solver()
        self.states = [enc.state("0")]
        self.acts = []
        self.solver.add(enc.init(self.states[0]))

    @property
    def depth(self) -> int:
        return len(self.acts)

    def extend(self):
        k = self.depth
        self.acts.append(self.enc.action_var(str(k)))
        self.states.append(self.enc.state(str(k + 1)))
        self.solver.add(self.enc.step(self.states[k], self.states[k + 1], self.acts[k]))

    def ask(self, query) -> z3.ModelRef | None:
        """A model of the path ending in a state where ``query`` holds, or None."""
        self.solver.push()
        try:
            self.solver.add(query)
            return self.solver.model() if self.clock.check(self.solver) else None
        finally:
            self.solver.pop()

    def feasible(self) -> bool:
        return self.clock.check(self.solver)

    def path(self, model) -> tuple[list[tuple], list[int]]:
        states = [self.enc.decode(model, sv) for sv in self.states]
        acts = [self.enc.decode_action(model, a) for a in self.acts]
        return states, acts


DEFAULT_DEPTH = 10
"""The bound used when none is given (``max_depth=None``)."""


def bmc(system, *, properties=None, max_depth: int | None = DEFAULT_DEPTH,
        time_limit: float | None = None,
        query_time_limit: float | None = None) -> CheckResult:
    """Bounded model checking: a shortest violation of length at most ``max_depth``.

    Parameters
    ----------
    system : CompiledSystem
        A model written in the modeling language (``model.compile()``).
    properties : list of str, optional
        Names of the always- and sometimes-properties to check (default: all of them).
    max_depth : int, optional
        The bound K: paths of at most K steps are searched (None: ``DEFAULT_DEPTH``, 10).
    time_limit : float, optional
        Seconds for the whole run; when it runs out the verdict is ``incomplete``.
    query_time_limit : float, optional
        Seconds for any one solver query (stop reason ``query_time_limit``).

    Returns
    -------
    CheckResult
        engine ``bmc``; verdict ``violated`` with a replayed shortest trace, ``holds`` with
        ``complete=False`` and ``bound={"max_depth": K}`` (or ``complete=True`` when no path
        of some length < K exists), or ``incomplete`` (``stop_reason`` ``time_limit``,
        ``unknown``, ``interrupted``, or ``max_depth`` for a sometimes-property not reached).
        ``distinct_states`` and ``states_generated`` are 0: BMC does not enumerate states.

    Examples
    --------
    >>> from kafkacheck.checker.lang import Model, Int, action, always, require
    >>> class Counter(Model):
    ...     name = "counter"
    ...     def variables(m):
    ...         return {"n": Int(0, 5)}
    ...     def init(m, s):
    ...         s.n = 0
    ...     @action()
    ...     def inc(m, s):
    ...         require(s.n < 5)
    ...         s.n = s.n + 1
    ...     @always
    ...     def below_four(m, s):
    ...         return s.n < 4
    >>> result = bmc(Counter().compile(), max_depth=10)
    >>> result.verdict, result.violation.length, result.violation.action_path()[-1]
    ('violated', 4, 'inc()')
    """
    built = compiled_built(system)
    if max_depth is None:
        max_depth = DEFAULT_DEPTH
    if max_depth < 0:
        raise ValueError(f"max_depth must be at least 0, not {max_depth}")
    clock = Clock(time_limit, query_time_limit)
    kinds = {p.name: p.kind for p in system.properties}
    chosen = list(properties) if properties is not None else \
        [p.name for p in system.properties if p.kind in SAFETY]
    TransitionSystem.select(system, chosen, kinds=SAFETY)
    always = [n for n in chosen if kinds[n] == "always"]
    pending = [n for n in chosen if kinds[n] == "sometimes"]
    step_names = [n for n in chosen if kinds[n] == "transition"]
    enc = Encoding(built)
    first_bad = system.first_false(always) if always else None
    step_bad = system.first_false_step(step_names) if step_names else None
    overflow = enc.has_overflow()

    violation = None
    examples: dict[str, Trace] = {}
    stop_reason = None
    exhausted = False
    depth = -1
    path = None
    try:
        path = _Unrolling(system, enc, clock)
        for k in range(max_depth + 1):
            if k > 0:
                path.extend()
                if not path.feasible():
                    exhausted = True
                    break
            cur = path.states[k]
            if step_names and k > 0:
                prev = path.states[k - 1]
                model = path.ask(z3.Or([z3.Not(enc.step_prop(n, prev, cur))
                                        for n in step_names]))
                if model is not None:
                    states, acts = path.path(model)
                    bad = step_bad(states[-2], states[-1])
                    if bad < 0:
                        raise ReplayError(f"Z3 found a step breaking {', '.join(step_names)} that "
                                          f"the reference evaluation accepts: {states[-2:]}")
                    violation = Trace(step_names[bad], "transition",
                                      replay(system, states, acts),
                                      "the last step breaks it")
                    depth = k
                    break
            if always:
                model = path.ask(z3.Or([z3.Not(enc.prop(n, cur)) for n in always]))
                if model is not None:
                    states, acts = path.path(model)
                    bad = first_bad(states[-1])
                    if bad < 0:
                        raise ReplayError(f"Z3 found a state breaking {', '.join(always)} that "
                                          f"the reference evaluation accepts: {states[-1]}")
                    violation = Trace(always[bad], "always", replay(system, states, acts))
                    depth = k
                    break
            if overflow:
                model = path.ask(enc.overflow(cur))
                if model is not None:
                    violation = _type_ok_trace(system, *path.path(model))
                    depth = k
                    break
            if built.check_deadlock:
                model = path.ask(enc.deadlock(cur))
                if model is not None:
                    states, acts = path.path(model)
                    steps = replay(system, states, acts)
                    if system.successors(states[-1]):
                        raise ReplayError(f"Z3 found a deadlock in {states[-1]}, where the "
                                          "reference successors enable an action")
                    violation = Trace("deadlock", "deadlock", steps,
                                      "no action is enabled in the last state")
                    depth = k
                    break
            while pending:
                model = path.ask(z3.Or([enc.prop(n, cur) for n in pending]))
                if model is None:
                    break
                states, acts = path.path(model)
                steps = replay(system, states, acts)
                hit = [n for n in pending if system.first_false([n])(states[-1]) < 0]
                if not hit:
                    raise ReplayError(f"Z3 found a state satisfying one of {', '.join(pending)}"
                                      f" that the reference evaluation rejects: {states[-1]}")
                for n in hit:
                    examples[n] = Trace(n, "sometimes", steps)
                    pending.remove(n)
            depth = k
    except _Stop as stop:
        stop_reason = stop.reason
    except KeyboardInterrupt as e:  # between solver calls: while unrolling or replaying
        stop_reason = _stop_reason(e)
    except MemoryError:
        stop_reason = "memory_limit"

    if violation is not None:
        verdict, complete = "violated", False
    elif stop_reason is not None:
        verdict, complete = "incomplete", False
    elif exhausted:
        complete = True
        if pending:
            verdict = "violated"
            violation = Trace(pending[0], "sometimes", (), "no reachable state satisfies it")
        else:
            verdict = "holds"
    elif pending:
        verdict, complete, stop_reason = "incomplete", False, "max_depth"
    else:
        verdict, complete = "holds", False
    result = CheckResult(
        system=system.name, engine="bmc", verdict=verdict, complete=complete,
        distinct_states=0, states_generated=0, depth=max(depth, 0),
        seconds=clock.elapsed, properties=chosen, violation=violation, examples=examples,
        stop_reason=stop_reason,
        bound={} if complete or violation is not None else {"max_depth": max_depth},
        fingerprints="none", collision_probability=0.0,
        vacuous=system.vacuous(chosen), kinds=system.kinds(chosen))
    if properties is None:
        result.unchecked = [p.name for p in system.properties if p.kind in LIVENESS]
    return result


def _type_ok_trace(system, states, acts) -> Trace:
    steps = replay(system, states, acts)
    try:
        system.successors(states[-1])
    except system.out_of_range as err:
        return Trace("type_ok", "type_ok", steps, system.describe_out_of_range(err))
    raise ReplayError(f"Z3 found an out-of-range write from {states[-1]}, where the reference "
                      "successors write none")
