"""Liveness: ``eventually`` and ``leads_to`` properties under fairness, over the whole graph.

The reachable graph is explored breadth-first (every edge kept, in successor order; per
state here, or a frontier at a time by ``batch/graph.py``, which gives the same graph), then
each property is decided on it as TLC does, with TLA+'s semantics:

- a *behaviour* is an infinite path; any state may repeat forever by stuttering, so a
  behaviour can stop anywhere unless fairness forbids it;
- an action instance is *enabled* in a state when it has a successor other than the state
  itself, and *taken* by a step that changes the state (TLA+'s ``<<A>>_vars``);
- a behaviour is fair when every weakly fair instance that is eventually enabled forever is
  taken infinitely often (``WF``), and every strongly fair one enabled infinitely often is
  taken infinitely often (``SF``).

``p ~> q`` (``leads_to``) fails when some fair behaviour reaches a state where ``p`` holds
and ``q`` never holds from there on; ``<>q`` (``eventually``) when some fair behaviour never
satisfies ``q``. Either way the witness is a *lasso*: a stem from an initial state and a loop
that repeats forever, inside the states where ``q`` is false. The loop lies in a strongly
connected component of those states that is *fair*: every weakly fair instance enabled in all
of its states is taken inside it, and every strongly fair instance enabled in any of its
states is taken inside it; a component that fails only the strong condition is split, without
the states where those instances are enabled, and its parts are tried again (Emerson and Lei's
algorithm; Tarjan's algorithm finds the components). A single state is a component too: it
loops by stuttering, which is fair when no fair instance is enabled there.

The stem is a shortest path to the first state (in breadth-first order) from which a fair
loop can be reached; the loop goes through each requirement of fairness in turn (the nearest
first) and back. Cost: the graph keeps every state's key and every edge (about 20 bytes per
edge and 100 per state), and each property is one pass of Tarjan's algorithm over it.
"""

from __future__ import annotations

import time
from array import array
from collections import deque

from .fingerprint import fingerprint
from .trace import Step, Trace

FAIRNESS = ("none", "weak", "strong")


class LivenessStop(Exception):
    """The graph could not be built whole: ``reason`` is a ``CheckResult.stop_reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Graph:
    """The reachable graph: states by index in breadth-first order, their edges in CSR form
    (``off[u]:off[u+1]`` index ``dst`` and ``act``; ``dst`` is -1 for a successor outside a
    state constraint, which is not stored), parent links, and each property's predicates."""

    def __init__(self, system, names, *, exact=False, max_states=None, deadline=None,
                 tick=None):
        self.system = system
        preds = [system.liveness_predicates(n) for n in names]
        encode = None if exact else system.encoder()
        key = (lambda s: s) if encode is None else fingerprint(encode)
        constraints = [p.name for p in system.properties if p.kind == "constraint"]
        outside = system.first_false(constraints) if constraints else None
        self.index: dict = {}
        self.inits: list = []
        self.parent = array("q")
        self.via = array("q")   # the edge from the parent (or the initial state's position)
        self.off = array("q", [0])
        self.dst = array("q")
        self.act = array("i")
        self.p = [bytearray() for _ in names]
        self.q = [bytearray() for _ in names]
        # per state: the actions whose fairness condition (fair_when) is false there
        conds = sorted(getattr(system, "fair_conditions", {}).items())
        self.unfair_here: list[int] | None = [] if conds else None
        index = self.index
        queue = deque()

        def add(state, parent, via):
            if max_states is not None and len(self.parent) >= max_states:
                raise LivenessStop("max_states")
            i = len(self.parent)
            index[key(state)] = i
            self.parent.append(parent)
            self.via.append(via)
            for k, (p, q) in enumerate(preds):
                self.p[k].append(1 if p is None or p(state) else 0)
                self.q[k].append(1 if q(state) else 0)
            if conds:
                off = 0
                for a, holds in conds:
                    if not holds(state):
                        off |= 1 << a
                self.unfair_here.append(off)
            queue.append(state)
            return i

        for state in system.initial_states():
            if key(state) not in index:
                self.inits.append(state)
                add(state, -1, len(self.inits) - 1)
        u = 0
        while queue:
            state = queue.popleft()
            if not u % 1024:
                if deadline is not None and time.perf_counter() >= deadline:
                    raise LivenessStop("time_limit")
                if tick is not None:
                    tick(len(queue))
            if outside is None or outside(state) < 0:
                for action, t in system.successors(state):
                    e = len(self.dst)
                    if outside is not None and outside(t) >= 0:
                        v = -1
                    else:
                        v = index.get(key(t))
                        if v is None:
                            v = add(t, u, e)
                    self.dst.append(v)
                    self.act.append(action)
            self.off.append(len(self.dst))
            u += 1
        self.n = len(self.parent)

    @classmethod
    def empty(cls, system, properties: int, *, fair_conditions: bool) -> "Graph":
        """A graph with no states, for another builder to fill (``batch/graph.py``)."""
        g = cls.__new__(cls)
        g.system = system
        g.index = {}
        g.inits = []
        g.parent, g.via, g.off, g.dst = array("q"), array("q"), array("q", [0]), array("q")
        g.act = array("i")
        g.p = [bytearray() for _ in range(properties)]
        g.q = [bytearray() for _ in range(properties)]
        g.unfair_here = [] if fair_conditions else None
        g.n = 0
        return g

    def edges(self, u):
        return range(self.off[u], self.off[u + 1])

    @property
    def stored_bytes(self) -> int:
        arrays = (self.parent, self.via, self.off, self.dst, self.act)
        return sum(a.itemsize * len(a) for a in arrays) + 100 * self.n

    # -- paths and traces --------------------------------------------------------------------
    def stem(self, u) -> list[int]:
        """Edges of the breadth-first (shortest) path from an initial state to ``u``."""
        out = []
        while self.parent[u] >= 0:
            out.append(self.via[u])
            u = self.parent[u]
        out.reverse()
        return out

    def root(self, u) -> int:
        while self.parent[u] >= 0:
            u = self.parent[u]
        return u

    def replay(self, start: int, edges: list[int]) -> list[Step]:
        system = self.system
        state = self.inits[self.via[start]]
        steps = [Step("init", system.decode(state), state)]
        u = start
        for e in edges:
            pos = e - self.off[u]
            action, state = system.successors(state)[pos]
            steps.append(Step(system.actions[action], system.decode(state), state))
            u = self.dst[e]
        return steps


def fairness_of(system, override: str | None) -> list[str]:
    """Each action's fairness: as the system declares it, or ``override`` for all."""
    n = len(system.actions)
    if override is not None:
        if override not in FAIRNESS:
            raise ValueError(f"fairness is one of {', '.join(FAIRNESS)}, not {override!r}")
        return [override] * n
    declared = list(getattr(system, "fairness", []) or [])
    return (declared + ["none"] * n)[:n]


def check_liveness(graph: Graph, k: int, name: str, kind: str, fairness: list[str]):
    """The lasso that refutes the ``k``-th property of ``graph`` (``name``), or None."""
    q = graph.q[k]
    p = graph.p[k]
    n = graph.n
    weak = 0
    strong = 0
    for a, f in enumerate(fairness):
        if f == "weak":
            weak |= 1 << a
        elif f == "strong":
            strong |= 1 << a
    fair_mask = weak | strong
    off, dst, act = graph.off, graph.dst, graph.act
    unfair_here = graph.unfair_here

    def enabled(u) -> int:
        """The fair actions enabled in ``u`` (their fair part: ``fair_when`` holds)."""
        m = 0
        for e in range(off[u], off[u + 1]):
            if dst[e] != u:
                m |= 1 << act[e]
        m &= fair_mask
        return m & ~unfair_here[u] if unfair_here is not None else m

    def fair_step(u, e) -> bool:
        """The step is a step of its action's fair part."""
        return unfair_here is None or not unfair_here[u] >> act[e] & 1

    comp = [-1] * n           # for a state in a fair component: that component's id
    fair_parts: list[list[int]] = []
    reach = bytearray(n)      # 1: a fair component can be reached through ~q states

    def fair_subsets(states: list[int]):
        """Split ``states`` (one component) into fair components (Emerson-Lei)."""
        work = [states]
        while work:
            part = work.pop()
            inside = set(part)
            taken = 0
            all_weak = weak
            some_strong = 0
            for u in part:
                en = enabled(u) if fair_mask else 0
                all_weak &= en
                some_strong |= en & strong
                for e in range(off[u], off[u + 1]):
                    v = dst[e]
                    if v != u and v in inside and fair_step(u, e):
                        taken |= 1 << act[e]
            if all_weak & ~taken:
                continue      # a weakly fair instance is enabled throughout, never taken
            bad = some_strong & ~taken
            if not bad:
                fair_parts.append(part)
                continue
            rest = [u for u in part if not enabled(u) & bad]
            if rest:
                work.extend(_components(rest, set(rest), off, dst))

    # Tarjan over the ~q states, iteratively; components come out sinks first, so whether a
    # fair component is reachable is known for every successor of a component when it closes
    order = [-1] * n
    low = [0] * n
    on_stack = bytearray(n)
    stack: list[int] = []
    counter = 0
    for root in range(n):
        if q[root] or order[root] >= 0:
            continue
        work = [(root, off[root])]
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = 1
        while work:
            u, e = work[-1]
            end = off[u + 1]
            while e < end:
                v = dst[e]
                e += 1
                if v < 0 or q[v]:
                    continue
                if order[v] < 0:
                    work[-1] = (u, e)
                    order[v] = low[v] = counter
                    counter += 1
                    stack.append(v)
                    on_stack[v] = 1
                    work.append((v, off[v]))
                    break
                if on_stack[v] and order[v] < low[u]:
                    low[u] = order[v]
            else:
                work.pop()
                if work:
                    w = work[-1][0]
                    if low[u] < low[w]:
                        low[w] = low[u]
                if low[u] == order[u]:
                    members = []
                    while True:
                        x = stack.pop()
                        on_stack[x] = 0
                        members.append(x)
                        if x == u:
                            break
                    before = len(fair_parts)
                    fair_subsets(members)
                    for c in range(before, len(fair_parts)):
                        for x in fair_parts[c]:
                            comp[x] = c
                    hit = before < len(fair_parts)
                    if not hit:
                        for x in members:
                            for e2 in range(off[x], off[x + 1]):
                                v = dst[e2]
                                if v >= 0 and not q[v] and reach[v]:
                                    hit = True
                                    break
                            if hit:
                                break
                    if hit:
                        for x in members:
                            reach[x] = 1
                continue
    # the trigger: the first state (breadth-first) where p holds, q does not, and a fair loop
    # is reachable through ~q states; for ``eventually`` only an initial state
    candidates = range(len(graph.inits)) if kind == "eventually" else range(n)
    start = next((u for u in candidates if reach[u] and p[u] and not q[u]), None)
    if start is None:
        return None
    # from the trigger to the nearest state of a fair component, through ~q states
    to = _bfs_path(graph, start, lambda v: comp[v] >= 0,
                   lambda v: v >= 0 and not q[v] and reach[v])
    x, middle = to
    part = fair_parts[comp[x]]
    loop = _loop(graph, x, part, weak, strong, enabled, fair_step)
    stem_edges = graph.stem(start)
    steps = graph.replay(graph.root(start), stem_edges + middle + loop)
    at = len(stem_edges) + len(middle)
    if not loop:
        steps.append(Step("stutter", steps[-1].state, steps[-1].raw))
    if kind == "eventually":
        note = (f"{name} never holds on this fair behaviour: the loop from state {at} "
                f"repeats forever")
    else:
        note = (f"the trigger of {name} holds in state {len(stem_edges)}, and its goal never "
                f"holds from there on: the loop from state {at} repeats forever")
    return Trace(name, kind, tuple(steps), note, loop=at)


def _components(states, inside, off, dst) -> list[list[int]]:
    """Strongly connected components of the subgraph induced by ``inside`` (recursive-free
    Tarjan, as above, without the bookkeeping)."""
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out = []
    counter = 0
    for root in states:
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, off[root])]
        while work:
            u, e = work[-1]
            end = off[u + 1]
            while e < end:
                v = dst[e]
                e += 1
                if v not in inside:
                    continue
                if v not in order:
                    work[-1] = (u, e)
                    order[v] = low[v] = counter
                    counter += 1
                    stack.append(v)
                    on_stack.add(v)
                    work.append((v, off[v]))
                    break
                if v in on_stack and order[v] < low[u]:
                    low[u] = order[v]
            else:
                work.pop()
                if work and low[u] < low[work[-1][0]]:
                    low[work[-1][0]] = low[u]
                if low[u] == order[u]:
                    members = []
                    while True:
                        x = stack.pop()
                        on_stack.discard(x)
                        members.append(x)
                        if x == u:
                            break
                    out.append(members)
    return out


def _bfs_path(graph, start, goal, allowed):
    """The shortest path (edges) from ``start`` to a state where ``goal`` holds, through
    states where ``allowed`` holds: ``(state, edges)``."""
    if goal(start):
        return start, []
    back = {start: None}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for e in graph.edges(u):
            v = graph.dst[e]
            if v in back or not allowed(v):
                continue
            back[v] = (u, e)
            if goal(v):
                path = []
                while back[v] is not None:
                    v, e2 = back[v]
                    path.append(e2)
                path.reverse()
                return graph.dst[path[-1]], path
            queue.append(v)
    raise AssertionError("liveness: no path to a fair component that was found reachable")


def _loop(graph, x, part, weak, strong, enabled, fair_step) -> list[int]:
    """Edges of a cycle from ``x`` through the fair component ``part`` that meets each
    fairness requirement: take every fair instance that is enabled throughout (weak) or
    somewhere (strong), visit a state disabling each other weakly fair one. Empty: the
    behaviour stutters at ``x``, which is fair there."""
    inside = set(part)
    off, dst, act = graph.off, graph.dst, graph.act
    all_en = weak | strong
    some_en = 0
    for u in part:
        en = enabled(u)
        all_en &= en
        some_en |= en
    take = (all_en & weak) | (some_en & strong)      # instances the loop must take
    visit = weak & ~all_en & some_en                   # ... or find disabled somewhere
    visit &= enabled(x)                                # x disables the others already
    path: list[int] = []
    cur = x

    while take or visit:
        # the nearest state (from cur, inside the component) that settles a requirement
        back = {cur: None}
        queue = deque([cur])
        found = None
        while queue and found is None:
            u = queue.popleft()
            if visit & ~enabled(u) and u != cur:
                found = (u, None)
                break
            for e in range(off[u], off[u + 1]):
                v = dst[e]
                if v != u and v in inside and take >> act[e] & 1 and fair_step(u, e):
                    found = (u, e)
                    break
            if found is not None:
                break
            for e in range(off[u], off[u + 1]):
                v = dst[e]
                if v in inside and v not in back:
                    back[v] = (u, e)
                    queue.append(v)
        if found is None:
            raise AssertionError("liveness: a fairness requirement cannot be met inside a "
                                 "component found fair")
        u, e = found
        seg = []
        w = u
        while back[w] is not None:
            w, e2 = back[w]
            seg.append(e2)
        seg.reverse()
        if e is not None:
            seg.append(e)
        w = cur
        for e2 in seg:
            if fair_step(w, e2):
                take &= ~(1 << act[e2])
            v = w = dst[e2]
            visit &= enabled(v)
            path.append(e2)
        cur = dst[path[-1]] if path else cur
        visit &= enabled(cur)
    if cur != x:
        back = {cur: None}
        queue = deque([cur])
        while queue:
            u = queue.popleft()
            if u == x:
                break
            for e in range(off[u], off[u + 1]):
                v = dst[e]
                if v in inside and v not in back:
                    back[v] = (u, e)
                    queue.append(v)
        seg = []
        w = x
        while back[w] is not None:
            w, e2 = back[w]
            seg.append(e2)
        seg.reverse()
        path.extend(seg)
    return path
