"""Random simulation: seeded random walks, for state spaces too large to exhaust.

Each of ``traces`` walks starts in an initial state and takes up to ``depth`` steps, each a
successor chosen uniformly at random; walk ``i`` draws from its own generator, seeded with
``(seed, i)``, so a walk is reproduced by the seed alone, whatever ``traces`` is. Every state
visited is checked against the always-properties and every step taken against the step
properties; an enabled write outside a variable's range is a ``type_ok`` violation and, when
the model checks deadlocks, a state without successors a ``deadlock``, as in ``bfs``. A
successor outside a state constraint is never followed (nor checked). The sometimes-properties
get an example when a walk reaches them. Liveness properties cannot be refuted by a finite
walk, so they are not checked (the result names them).

The verdict is ``violated`` with the walk that breaks a property (not a shortest trace), or
``holds`` *for the walks taken*, never a proof: ``complete`` is false and ``bound`` records
the seed, the walks and their depth. A sometimes-property that no walk reached makes the
verdict ``incomplete``. Coverage counts how often each action was taken and how many states
it reached first.
"""

from __future__ import annotations

import random
import time

from .fingerprint import fingerprint
from .result import ActionCoverage, CheckResult
from .stop import stop_reason
from .system import LIVENESS, SAFETY, TransitionSystem
from .trace import Step, Trace


def simulate(system: TransitionSystem, *, properties=None, seed: int = 0, traces: int = 100,
             depth: int = 100, time_limit: float | None = None, progress=None) -> CheckResult:
    """Check ``system`` by ``traces`` random walks of at most ``depth`` steps from ``seed``.

    >>> from kafkacheck.checker import ExplicitSystem
    >>> walk = ExplicitSystem("walk", init=[0], next=lambda n: [("up", n + 1), ("down", n - 1)],
    ...                       always={"near": lambda n: abs(n) < 4})
    >>> r = simulate(walk, seed=1, traces=50, depth=20)
    >>> r.verdict, r.violation.property, abs(r.violation.steps[-1].raw)
    ('violated', 'near', 4)
    """
    if traces < 1 or depth < 0:
        raise ValueError(f"simulate needs traces >= 1 and depth >= 0 (got {traces}, {depth})")
    kinds = {p.name: p.kind for p in system.properties}
    chosen = TransitionSystem.select(system, properties, kinds=SAFETY + LIVENESS)
    unchecked = [n for n in chosen if kinds[n] in LIVENESS]
    if properties is not None and unchecked:
        raise ValueError(f"liveness property {unchecked[0]} cannot be refuted by a finite "
                         "random walk; check it with bfs or dfs")
    chosen = [n for n in chosen if n not in unchecked]
    always = [n for n in chosen if kinds[n] == "always"]
    steps_ = [n for n in chosen if kinds[n] == "transition"]
    pending = [n for n in chosen if kinds[n] == "sometimes"]
    bad = system.first_false(always) if always else None
    bad_step = system.first_false_step(steps_) if steps_ else None
    reached = {n: system.first_false([n]) for n in pending}
    constraints = [p.name for p in system.properties if p.kind == "constraint"]
    outside = system.first_false(constraints) if constraints else None
    encode = system.encoder()
    key = (lambda s: s) if encode is None else fingerprint(encode)
    seen = set()
    fired: list[int] = []
    new: list[int] = []
    examples: dict[str, Trace] = {}
    violation = None
    generated = longest = walks = 0
    stop = None
    start = time.perf_counter()
    inits = system.initial_states()
    out_of_range = getattr(system, "out_of_range", ())

    def grow():
        missing = len(system.actions) - len(fired)
        if missing > 0:
            fired.extend([0] * missing)
            new.extend([0] * missing)

    def check_state(path, state):
        nonlocal violation
        if bad is not None:
            k = bad(state)
            if k >= 0:
                violation = Trace(always[k], "always", tuple(path))
                return True
        for n in list(pending):
            if reached[n](state) < 0:
                examples[n] = Trace(n, "sometimes", tuple(path))
                pending.remove(n)
        return False

    try:
        for i in range(traces):
            if time_limit is not None and time.perf_counter() - start >= time_limit:
                stop = "time_limit"
                break
            rng = random.Random(f"{seed}/{i}")
            walks += 1
            state = inits[rng.randrange(len(inits))]
            path = [Step("init", system.decode(state), state)]
            if key(state) not in seen:
                seen.add(key(state))
            if check_state(path, state):
                break
            for d in range(depth):
                if outside is not None and outside(state) >= 0:
                    break  # a state outside the constraint is not expanded
                try:
                    succ = system.successors(state)
                except out_of_range as err:
                    violation = Trace("type_ok", "type_ok", tuple(path),
                                      system.describe_out_of_range(err))
                    break
                grow()
                generated += len(succ)
                if not succ:
                    if system.check_deadlock:
                        violation = Trace("deadlock", "deadlock", tuple(path),
                                          "no action is enabled in the last state")
                    break
                inside = succ if outside is None else [x for x in succ if outside(x[1]) < 0]
                if not inside:
                    break
                action, nxt = inside[rng.randrange(len(inside))]
                fired[action] += 1
                step = Step(system.actions[action], system.decode(nxt), nxt)
                if bad_step is not None:
                    k = bad_step(state, nxt)
                    if k >= 0:
                        violation = Trace(steps_[k], "transition", tuple(path + [step]),
                                          "the last step breaks it")
                        break
                path.append(step)
                k2 = key(nxt)
                if k2 not in seen:
                    seen.add(k2)
                    new[action] += 1
                if check_state(path, nxt):
                    break
                state = nxt
                longest = max(longest, d + 1)
                if progress is not None and not len(seen) % 4096:
                    progress({"distinct": len(seen), "queue": traces - i, "depth": longest,
                              "seconds": time.perf_counter() - start,
                              "states_per_second": len(seen) / max(time.perf_counter() - start,
                                                                   1e-9)})
            if violation is not None:
                break
    except KeyboardInterrupt as e:
        stop = stop_reason(e)
    grow()
    if violation is not None:
        verdict = "violated"
        longest = max(longest, violation.length)
    elif stop is not None:
        verdict = "incomplete"
    elif pending:
        verdict, stop = "incomplete", "simulation"
    else:
        verdict = "holds"
    result = CheckResult(
        system=system.name, engine="simulate", verdict=verdict, complete=False,
        distinct_states=len(seen), states_generated=generated, depth=longest,
        seconds=time.perf_counter() - start, properties=chosen, violation=violation,
        examples=examples,
        coverage=[ActionCoverage(a, f, w) for a, f, w in zip(system.actions, fired, new)],
        stop_reason=stop, bound={"seed": seed, "traces": traces, "depth": depth,
                                 "walks": walks},
        fingerprints="exact" if encode is None else "64-bit",
        vacuous=system.vacuous(chosen), kinds=system.kinds(chosen), unchecked=unchecked)
    return result
