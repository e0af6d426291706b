"""The explicit-state engines: breadth-first (reference) and depth-first search.

Both store visited states as 64-bit fingerprints of a canonical encoding (``fingerprint.py``)
or, with ``exact=True`` or for a system that cannot encode its states, as the states themselves.
Every visited state gets an index in discovery order; two compact arrays keep, per index, the
index of its parent and which successor of the parent it was. A trace is rebuilt by walking
the parents back to an initial state and replaying the successors forward, so no state is
stored beyond the search frontier.

A successor that fails a state constraint is checked (TLC's CONSTRAINT) and counted as
generated, but never stored, expanded, or counted as distinct or in the depth.

- ``bfs``: shortest counterexamples and examples; memory grows with the widest level.
- ``dfs``: memory grows with the depth; traces are valid but not shortest.
"""

from __future__ import annotations

import sys
import time
from array import array

from .fingerprint import collision_bound, fingerprint
from .result import ActionCoverage, CheckResult
from .stop import stop_reason
from .system import LIVENESS, TransitionSystem
from .trace import Step, Trace

_CHECK_EVERY = 1024
_PROGRESS_SECONDS = 2.0


class _Found(Exception):
    """Ends a search early: a violation, or a resource limit."""


class _Search:
    """State shared by both engines: the visited set, parent links, properties, limits."""

    def __init__(self, system: TransitionSystem, engine, properties, max_depth, max_states,
                 time_limit, exact, progress, symmetry=None, fairness=None, liveness=False):
        self.system = system
        self.engine = engine
        kinds = {p.name: p.kind for p in system.properties}
        chosen = TransitionSystem.select(
            system, properties, kinds=tuple(dict.fromkeys(
                p.kind for p in system.properties if p.kind != "constraint")))
        #: liveness properties are checked when named, or with ``liveness=True``: they
        #: need a second pass over the whole graph; the result names those left out
        self.unchecked = []
        if properties is None:
            self.unchecked = [n for n in chosen if kinds[n] in LIVENESS]
            if liveness:
                if max_depth is not None:
                    raise ValueError("liveness properties need the whole reachable graph, "
                                     "so they cannot be checked with a depth bound "
                                     "(max_depth)")
                self.unchecked = []
            else:
                chosen = [n for n in chosen if n not in self.unchecked]
        self.checked = chosen
        self.always = [n for n in chosen if kinds[n] == "always"]
        self.pending = [n for n in chosen if kinds[n] == "sometimes"]
        self.steps = [n for n in chosen if kinds[n] == "transition"]
        self.step_bad = system.first_false_step(self.steps) if self.steps else None
        self.live = [n for n in chosen if kinds[n] in LIVENESS]
        if self.live and max_depth is not None:
            raise ValueError(f"liveness property {self.live[0]} needs the whole reachable "
                             "graph, so it cannot be checked with a depth bound (max_depth)")
        self.fairness = fairness
        constraints = [p.name for p in system.properties if p.kind == "constraint"]
        self.first_bad = system.first_false(self.always) if self.always else None
        self.outside = system.first_false(constraints) if constraints else None
        self.reached = {n: system.first_false([n]) for n in self.pending}
        self.max_depth, self.max_states, self.time_limit = max_depth, max_states, time_limit
        encode = None if exact else system.encoder()
        self.exact = encode is None
        self.key = (lambda s: s) if self.exact else fingerprint(encode)
        self.symmetry = symmetry
        if symmetry is not None:  # one state per orbit: key it by the orbit's canonical member
            key, canon = self.key, symmetry.canon
            self.key = lambda s: key(canon(s))
        self.progress = progress
        self.seen = set()
        self.parent = array("q")
        self.which = array("i")
        self.inits: list = []
        self.fired = [0] * len(system.actions)
        self.new = [0] * len(system.actions)
        self.generated = 0
        self.depth = 0
        self.per_depth: list[int] = []
        self.violation = None
        self.examples = {}
        self.stop_reason = None
        self.cut = False
        self.start = time.perf_counter()
        self.last_report = self.start

    # -- visiting ---------------------------------------------------------------------------
    def visit_initial(self) -> list:
        fresh = []
        for s in self.system.initial_states():
            k = self.key(s)
            if k in self.seen:
                continue
            if self.max_states is not None and len(self.parent) >= self.max_states:
                self.stop_reason = "max_states"
                raise _Found
            self.seen.add(k)
            self.parent.append(-1)
            self.which.append(len(self.inits))
            self.inits.append(s)
            fresh.append(s)
            self.on_new(s, len(self.parent) - 1)
        return fresh

    def on_new(self, state, index, via=None):
        """Check a newly discovered state; raise _Found on a violation. ``via`` (a successor
        position) says the state is that successor of state ``index``, not stored itself: it
        failed a state constraint."""
        if self.first_bad is not None:
            bad = self.first_bad(state)
            if bad >= 0:
                self.violation = self.trace(index, self.always[bad], "always", via=via)
                raise _Found
        if self.pending:
            self.record_examples(state, index, via)

    def record_examples(self, state, index, via=None):
        """Record ``state`` as the example of each pending ``sometimes`` property it meets."""
        for name in list(self.pending):
            if self.reached[name](state) < 0:
                self.examples[name] = self.trace(index, name, "sometimes", via=via)
                self.pending.remove(name)

    def step_violated(self, state, t, index, pos):
        """Check the step from ``state`` (stored at ``index``) to its successor number
        ``pos``, ``t``, against the step properties; raise _Found on a violation."""
        bad = self.step_bad(state, t)
        if bad >= 0:
            self.violation = self.trace(index, self.steps[bad], "transition",
                                        "the last step breaks it", via=pos)
            raise _Found

    def expand(self, state, index):
        """Successors of a state, turning a range error into a ``type_ok`` violation."""
        try:
            succ = self.system.successors(state)
        except getattr(self.system, "out_of_range", ()) as err:
            note = self.system.describe_out_of_range(err)
            self.violation = self.trace(index, "type_ok", "type_ok", note)
            raise _Found from None
        missing = len(self.system.actions) - len(self.fired)
        if missing > 0:
            # A plain-Python system learns its action labels as successors name them;
            # grow in place, since the search loops hold these lists in locals.
            self.fired.extend([0] * missing)
            self.new.extend([0] * missing)
        if not succ and self.system.check_deadlock:
            self.violation = self.trace(index, "deadlock", "deadlock",
                                        "no action is enabled in the last state")
            raise _Found
        return succ

    def tick(self, queue_len):
        """Called every few expansions: enforce limits, report progress."""
        now = time.perf_counter()
        if self.time_limit is not None and now - self.start >= self.time_limit:
            self.stop_reason = "time_limit"
            raise _Found
        if self.progress is not None and now - self.last_report >= _PROGRESS_SECONDS:
            self.last_report = now
            elapsed = now - self.start
            self.progress({"distinct": len(self.parent), "queue": queue_len,
                           "depth": self.depth, "seconds": elapsed,
                           "states_per_second": len(self.parent) / elapsed})

    # -- traces -------------------------------------------------------------------------------
    def trace(self, index, prop, kind, note="", via=None) -> Trace:
        chain = []
        while self.parent[index] >= 0:
            chain.append(self.which[index])
            index = self.parent[index]
        state = self.inits[self.which[index]]
        steps = [Step("init", self.system.decode(state), state)]
        for pos in reversed(chain):
            action, state = self.system.successors(state)[pos]
            steps.append(Step(self.system.actions[action], self.system.decode(state), state))
        if via is not None:
            action, state = self.system.successors(state)[via]
            steps.append(Step(self.system.actions[action], self.system.decode(state), state))
        return Trace(prop, kind, tuple(steps), note)

    # -- the result ---------------------------------------------------------------------------
    def result(self) -> CheckResult:
        n = len(self.parent)
        complete = self.stop_reason is None and self.violation is None and not self.cut
        if self.violation is not None:
            verdict = "violated"
        elif self.stop_reason is not None:
            verdict = "incomplete"
        elif self.pending and not self.cut:
            verdict = "violated"
            name = self.pending[0]
            self.violation = Trace(name, "sometimes", (),
                                   "no reachable state satisfies it")
        elif self.pending:
            verdict, self.stop_reason = "incomplete", "max_depth"
        else:
            verdict = "holds"
        if self.violation is not None:
            self.depth = max(self.depth, self.violation.length)
        coverage = [ActionCoverage(a, f, w) for a, f, w in
                    zip(self.system.actions, self.fired, self.new)]
        return CheckResult(
            system=self.system.name, engine=self.engine, verdict=verdict, complete=complete,
            distinct_states=n, states_generated=self.generated, depth=self.depth,
            seconds=time.perf_counter() - self.start, properties=self.checked,
            violation=self.violation, examples=self.examples, coverage=coverage,
            states_per_depth=self.per_depth, stop_reason=self.stop_reason,
            bound={"max_depth": self.max_depth} if self.cut else {},
            fingerprints="exact" if self.exact else "64-bit",
            collision_probability=0.0 if self.exact else collision_bound(n),
            vacuous=self.system.vacuous(self.checked), kinds=self.system.kinds(self.checked),
            stored_bytes=self.stored_bytes(), unchecked=list(self.unchecked),
            symmetry=self.symmetry.describe() if self.symmetry is not None else "")

    def stored_bytes(self) -> int:
        """The visited set (its table and, sampled, its keys) and the parent links."""
        seen = self.seen
        size = sys.getsizeof(seen)
        if seen:
            size += len(seen) * sys.getsizeof(next(iter(seen)))
        for links in (self.parent, self.which):
            size += getattr(links, "nbytes", None) or links.itemsize * len(links)
        return size


def bfs(system: TransitionSystem, **options) -> CheckResult:
    """Breadth-first search: every counterexample and example is a shortest one.

    Options (keyword-only, all optional): ``properties`` (names to check; default all but
    the liveness properties), ``liveness`` (also check every liveness property),
    ``fairness`` (``none``, ``weak`` or ``strong`` for every action, overriding what the
    model declares), ``max_depth``, ``max_states``, ``time_limit`` (seconds), ``exact``
    (store states rather than fingerprints), ``progress`` (a callable given a dict of
    statistics every 2 s). Liveness properties are decided after the search, over the whole
    reachable graph (``liveness.py``); a violation is a lasso.
    """
    return _run(_bfs, system, "bfs", options)


def _bfs(search: _Search):
    frontier = search.visit_initial()
    fast = _fused(search)
    index = 0
    while frontier:
        search.per_depth.append(len(frontier))
        if search.max_depth is not None and search.depth >= search.max_depth:
            search.cut = True
            return
        nxt = []
        pos = 0
        # Runs of states end where ``index`` is a multiple of _CHECK_EVERY, so the limits are
        # checked at the same states as one at a time.
        while pos < len(frontier):
            if not index % _CHECK_EVERY:
                search.tick(len(frontier) + len(nxt))
            end = min(len(frontier), pos + _CHECK_EVERY - index % _CHECK_EVERY)
            run = frontier[pos:end]
            if fast is None or not _expand_fused(search, fast, run, index, nxt):
                _expand_plain(search, run, index, nxt)
            index += len(run)
            pos = end
        if nxt:
            search.depth += 1
        frontier = nxt


def _expand_plain(search: _Search, states, index, nxt):
    """Expand ``states`` (visit indexes from ``index`` on) one at a time, appending the new
    successors to ``nxt``: every check in the order of the search's definition."""
    seen, parent, which = search.seen, search.parent, search.which
    fired, new, on_new = search.fired, search.new, search.on_new
    key = search.key
    checking = search.first_bad is not None or bool(search.pending)
    outside, expand = search.outside, search.expand
    step_bad = search.step_bad
    limit = search.max_states
    for state in states:
        if outside is None or outside(state) < 0:
            succ = expand(state, index)
            search.generated += len(succ)
            for pos, (action, t) in enumerate(succ):
                fired[action] += 1
                if step_bad is not None and step_bad(state, t) >= 0:
                    search.step_violated(state, t, index, pos)
                if outside is not None and outside(t) >= 0:
                    # TLC's CONSTRAINT: checked, counted as generated, never stored
                    if checking:
                        on_new(t, index, via=pos)
                        checking = search.first_bad is not None or bool(search.pending)
                    continue
                k = key(t)
                if k in seen:
                    continue
                if limit is not None and len(parent) >= limit:
                    search.stop_reason = "max_states"
                    raise _Found
                seen.add(k)
                parent.append(index)
                which.append(pos)
                new[action] += 1
                nxt.append(t)
                if checking:
                    on_new(t, len(parent) - 1)
                    checking = search.first_bad is not None or bool(search.pending)
        index += 1


def _fused(search: _Search):
    """The system's fused expansion loop and the fingerprint's ``pack``, where the search
    can use them: no constraint, no step property, plain 64-bit fingerprints."""
    expander = getattr(search.system, "expander", None)
    pack = getattr(search.key, "pack", None)
    if expander is None or pack is None or search.outside is not None \
            or search.step_bad is not None:
        return None
    return expander(), pack


class _Replay(Exception):
    """A fused run found a violation: the plain loop replays the run to report it."""


def _expand_fused(search: _Search, fast, states, index, nxt) -> bool:
    """Expand ``states`` with the fused loop; False, with nothing changed, when the run must
    be replayed one state at a time: a violation, a write out of range, a deadlock, or a
    state limit the run could reach. The plain loop then reports what happened exactly as
    it would have (the same counts, the same trace), or raises the same error."""
    expand, pack = fast
    parent, fired, new = search.parent, search.fired, search.new
    limit = search.max_states
    if limit is not None and len(parent) + len(states) * len(fired) > limit:
        return False
    p0, n0, fired0, new0 = len(parent), len(nxt), fired[:], new[:]
    try:
        generated = expand(states, index, search.seen, parent, search.which, nxt, fired,
                           new, pack)
        bad = search.first_bad
        if bad is not None and max(map(bad, nxt[n0:]), default=-1) >= 0:
            raise _Replay
    except BaseException as e:
        for t in nxt[n0:]:
            search.seen.discard(search.key(t))
        del nxt[n0:], parent[p0:], search.which[p0:]
        fired[:], new[:] = fired0, new0
        if isinstance(e, Exception):
            return False  # replayed: the plain loop raises this error again if it is one
        raise
    search.generated += generated
    if search.pending:
        for j, t in enumerate(nxt[n0:]):
            search.record_examples(t, p0 + j)
    return True


def dfs(system: TransitionSystem, **options) -> CheckResult:
    """Depth-first search: memory grows with depth, not width; traces are not shortest.

    Same options as ``bfs``. ``depth`` is the deepest path followed, which depends on the
    search order, so it may differ from the BFS depth; the state count does not.
    """
    return _run(_dfs, system, "dfs", options)


def _dfs(search: _Search):
    stack = [(s, i, 0) for i, s in enumerate(search.visit_initial())][::-1]
    seen, parent, which = search.seen, search.parent, search.which
    fired, new, on_new = search.fired, search.new, search.on_new
    key = search.key
    outside, expand, max_depth = search.outside, search.expand, search.max_depth
    step_bad = search.step_bad
    limit = search.max_states
    # With a depth bound, a state first reached by a long path must be expanded again when
    # a shorter path reaches it, or a violation within the bound could be missed. Its parent
    # link moves to the shorter path, so every trace stays within the bound: ``index_of``
    # maps a key to the state's index, ``best`` holds each index's shortest known depth.
    index_of = {} if max_depth is not None else None
    best = array("q") if max_depth is not None else None
    if index_of is not None:
        for state, i, _ in stack:
            index_of[key(state)] = i
            best.append(0)
    expanded = deepest = 0
    try:
        while stack:
            state, index, depth = stack.pop()
            if not expanded % _CHECK_EVERY:
                search.tick(len(stack))
            expanded += 1
            if best is not None and depth > best[index]:
                continue  # a shorter path reached this state since; that entry expands it
            if max_depth is not None and depth >= max_depth:
                search.cut = True
                continue
            if outside is not None and outside(state) >= 0:
                continue
            succ = expand(state, index)
            search.generated += len(succ)
            fresh = []
            for pos, (action, t) in enumerate(succ):
                fired[action] += 1
                if step_bad is not None and step_bad(state, t) >= 0:
                    search.step_violated(state, t, index, pos)
                if outside is not None and outside(t) >= 0:
                    on_new(t, index, via=pos)  # TLC's CONSTRAINT: checked, never stored
                    continue
                k = key(t)
                if k in seen:
                    if index_of is not None:
                        i = index_of[k]
                        if depth + 1 < best[i]:
                            best[i] = depth + 1
                            parent[i] = index
                            which[i] = pos
                            fresh.append((t, i, depth + 1))
                    continue
                if limit is not None and len(parent) >= limit:
                    search.stop_reason = "max_states"
                    raise _Found
                seen.add(k)
                parent.append(index)
                which.append(pos)
                new[action] += 1
                fresh.append((t, len(parent) - 1, depth + 1))
                if index_of is not None:
                    index_of[k] = len(parent) - 1
                    best.append(depth + 1)
                if depth >= deepest:
                    deepest = depth + 1
                on_new(t, len(parent) - 1)
            stack.extend(reversed(fresh))
    finally:
        search.depth = max(search.depth, deepest)


def _run(loop, system, engine: str, options: dict) -> CheckResult:
    """Run a search loop; a violation or limit ends it early, Ctrl-C keeps the statistics."""
    search = _Search(system, engine, **_options(options))
    try:
        loop(search)
    except _Found:
        pass
    except KeyboardInterrupt as e:  # Ctrl-C, SIGTERM or the time limit's timer
        search.stop_reason = stop_reason(e)
    except MemoryError:  # the address-space limit (--memory-limit) or the machine's
        search.seen = set()  # free the visited set, so that the statistics can be reported
        search.stop_reason = "memory_limit"
    return finish_liveness(search)


def finish_liveness(search: _Search, build=None) -> CheckResult:
    """The search's result; when the safety search ended with no answer against it and
    liveness properties are checked, decide them over the whole graph (``liveness.py``).
    ``build(names, max_states, deadline)`` builds that graph where an engine has its own
    builder (batch); else the per-state one does."""
    if search.live and search.violation is None and search.stop_reason is None \
            and not search.pending \
            and not search.cut:
        from .liveness import Graph, LivenessStop, check_liveness, fairness_of
        start = time.perf_counter()
        kinds = {p.name: p.kind for p in search.system.properties}
        deadline = None if search.time_limit is None else search.start + search.time_limit
        try:
            if build is not None:
                graph = build(search.live, search.max_states, deadline)
            else:
                graph = Graph(search.system, search.live, exact=search.exact,
                              max_states=search.max_states, deadline=deadline)
            fairness = fairness_of(search.system, search.fairness)
            for k, name in enumerate(search.live):
                lasso = check_liveness(graph, k, name, kinds[name], fairness)
                if lasso is not None:
                    search.violation = lasso
                    break
            search.live_edges = len(graph.dst)
            search.live_bytes = graph.stored_bytes
        except LivenessStop as stop:
            search.stop_reason = stop.reason
        except KeyboardInterrupt as e:
            search.stop_reason = stop_reason(e)
        except MemoryError:
            search.stop_reason = "memory_limit"
        search.live_seconds = time.perf_counter() - start
    result = search.result()
    if search.live:
        result.liveness = {"seconds": round(getattr(search, "live_seconds", 0.0), 3),
                           "edges": getattr(search, "live_edges", None),
                           "bytes": getattr(search, "live_bytes", None),
                           "fairness": search.fairness or "as declared"}
    return result


def _options(options: dict) -> dict:
    allowed = {"properties", "max_depth", "max_states", "time_limit", "exact", "progress",
               "symmetry", "fairness", "liveness"}
    unknown = set(options) - allowed
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(sorted(allowed))}")
    out = {k: None for k in allowed}
    out["exact"] = False
    out["liveness"] = False
    out.update(options)
    return out


def check(system: TransitionSystem, *, engine: str = "bfs", **options) -> CheckResult:
    """Check ``system`` with the named explicit engine (see ``engines.ENGINES``); see ``bfs``
    for the options."""
    from .engines import run_explicit
    return run_explicit(system, engine, **options)
