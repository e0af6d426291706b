"""The batch engine: breadth-first search a frontier at a time, with NumPy.

A level's states are columns of an int64 array (one row per slot). Each action instance's
guard is a boolean mask over them; its updates are column operations on the enabled states.
The candidates of a chunk are ordered by (parent, action), which is the order in which the
reference ``bfs`` meets them, so the same states are stored at the same indices: the counts,
the depth and every trace are those of ``bfs``. The visited set is a NumPy hash table of
64-bit fingerprints (``hashset.py``); the parent links are two compact arrays, and a trace is
rebuilt by the reference engine's own code (``explicit._Search.trace``).

Properties (``always``, ``sometimes``) and state constraints are evaluated as masks; only the
few states where something happens (a violation, an example, an out-of-range write, a
deadlock, the state limit) go through the per-state code, which raises exactly as ``bfs``.
"""

from __future__ import annotations

import numpy as np

from ..explicit import _Found, _options, _Search
from ..lang.pycodegen import may_leave
from ..result import CheckResult
from ..stop import stop_reason
from .hashset import FingerprintSet
from .packing import Packer
from .vectorize import as_int, as_mask, kernel, unsupported

#: states expanded together; bounds the memory of one chunk's candidates
CHUNK = 1 << 14


class BatchUnsupported(Exception):
    """The batch engine cannot run this system; the message says why."""


def applies(system) -> str | None:
    """Why the batch engine cannot check ``system``, or None when it can."""
    built = getattr(system, "built", None)
    if built is None:
        return "the system is plain Python (no expression trees to vectorize)"
    exprs = [p.expr for p in built.properties]
    for inst in built.actions:
        exprs.append(inst.guard)
        exprs.extend(inst.updates.values())
    why = unsupported(exprs)
    if why:
        return why
    for t in built.layout.slot_types:
        if t.lo() < -2 ** 62 or t.hi() > 2 ** 62:
            return f"a slot's range {t.lo()}..{t.hi()} exceeds 64-bit columns"
    return None


def batch(system, **options) -> CheckResult:
    """Breadth-first search in batches; same options and results as ``explicit.bfs``."""
    why = applies(system)
    if why:
        raise BatchUnsupported(why)
    opts = _options(options)
    if opts["exact"]:
        raise BatchUnsupported("--exact stores whole states, which the batch engine does not")
    search = _Search(system, "batch", **opts)
    run = _Batch(search)
    try:
        run.loop()
    except _Found:
        pass
    except KeyboardInterrupt as e:
        search.stop_reason = stop_reason(e)
    except MemoryError:
        run.seen = None
        search.stop_reason = "memory_limit"
    run.publish()
    result = search.result()
    result.stored_bytes = run.stored_bytes()
    return result


class _Batch:
    def __init__(self, search: _Search):
        self.search = search
        built = search.system.built
        self.built = built
        self.layout = built.layout
        self.width = self.layout.width
        self.packer = Packer([(t.lo(), t.hi()) for t in self.layout.slot_types])
        exprs = {p.name: p.expr for p in built.properties}
        self.always = [exprs[n] for n in search.always]
        kinds = {p.name: p.kind for p in built.properties}
        self.constraints = [p.expr for p in built.properties if kinds[p.name] == "constraint"]
        self.sometimes = {n: exprs[n] for n in search.pending}
        self.leaves = [[(slot, t) for slot, e in inst.updates.items()
                        if may_leave(e, t := self.layout.slot_types[slot])]
                       for inst in built.actions]
        actions = built.actions
        self.guards = kernel([*self.constraints, *(i.guard for i in actions)])
        self.updates = [kernel(list(i.updates.values())) for i in actions]
        self.limits = kernel(self.constraints)
        self.props = kernel([*self.always, *self.sometimes.values()])
        # step properties: over a parent's rows stacked on its candidate's (slots W..2W-1)
        self.steps = kernel([exprs[n] for n in search.steps]) if search.steps else None
        self.seen = FingerprintSet()
        self.parent = np.zeros(1 << 16, dtype=np.int64)
        self.which = np.zeros(1 << 16, dtype=np.int32)
        self.n = 0

    # -- storage ------------------------------------------------------------------------------
    def stored_bytes(self) -> int:
        parent = 4 if self.n < 2 ** 31 else 8
        table = self.seen.nbytes if self.seen is not None else 0
        return table + self.n * (parent + 4)

    def _append(self, parents, which):
        need = self.n + len(parents)
        if need > len(self.parent):
            cap = max(need, 2 * len(self.parent))
            self.parent = np.resize(self.parent, cap)
            self.which = np.resize(self.which, cap)
        self.parent[self.n:need] = parents
        self.which[self.n:need] = which
        self.n = need

    def publish(self):
        """Let the reference code (traces, result) see the links stored so far."""
        self.search.parent = self.parent[:self.n]
        self.search.which = self.which[:self.n]

    # -- the search ----------------------------------------------------------------------------
    def loop(self):
        s = self.search
        try:
            inits = s.visit_initial()  # the reference code: same order, checks and limit
        finally:  # a violation or the state limit among the initial states ends it here
            self._append(np.asarray(s.parent, dtype=np.int64),
                         np.asarray(s.which, dtype=np.int32))
        s.seen = set()
        self.publish()
        frontier = np.array(inits, dtype=np.int64).reshape(len(inits), self.width).T.copy()
        if len(inits):
            self.seen.add_new(self.packer.fingerprints(frontier))
        base = 0
        while frontier.shape[1]:
            s.per_depth.append(frontier.shape[1])
            if s.max_depth is not None and s.depth >= s.max_depth:
                s.cut = True
                return
            parts = []
            for start in range(0, frontier.shape[1], CHUNK):
                s.tick(frontier.shape[1])
                parts.append(self._chunk(frontier[:, start:start + CHUNK], base + start))
            base += frontier.shape[1]
            nxt = np.concatenate(parts, axis=1) if parts else frontier[:, :0]
            if nxt.shape[1]:
                s.depth += 1
            frontier = nxt

    def _chunk(self, cols: np.ndarray, base: int) -> np.ndarray:
        s = self.search
        n = cols.shape[1]
        g = self.guards(cols)
        nc = len(self.constraints)
        expanded = np.ones(n, dtype=bool)
        for v in g[:nc]:  # states outside are stored (initial ones) but never expanded
            expanded &= as_mask(v, n)
        bad_parent = np.zeros(n, dtype=bool)
        enabled = []
        counts = np.zeros(n, dtype=np.int64)
        for a, inst in enumerate(self.built.actions):
            on = np.flatnonzero(as_mask(g[nc + a], n) & expanded)
            if len(on):
                enabled.append((a, inst, on))
                counts[on] += 1
        first = np.cumsum(counts) - counts
        m = int(counts.sum())
        # candidates in (parent, action) order, bfs's: each action's go after the earlier ones
        cand = np.empty((self.width, m), dtype=np.int64)
        parent = np.empty(m, dtype=np.int64)
        action = np.empty(m, dtype=np.int32)
        taken = np.zeros(n, dtype=np.int64)
        for a, inst, on in enabled:
            new = cols[:, on]
            values = self.updates[a](new)
            # every value is computed before any is written; a value that is a row of
            # ``new`` itself (x := y) is copied first, so that a swap reads the old rows
            values = [v.copy() if isinstance(v, np.ndarray) and np.may_share_memory(v, new)
                      else v for v in values]
            for slot, v in zip(inst.updates, values):
                new[slot] = as_int(v, len(on))
            for slot, t in self.leaves[a]:
                bad_parent[on[(new[slot] < t.lo()) | (new[slot] > t.hi())]] = True
            dest = first[on] + taken[on]
            taken[on] += 1
            cand[:, dest] = new
            parent[dest] = on
            action[dest] = a
        pos = np.arange(m) - first[parent]
        if s.system.check_deadlock:
            bad_parent |= expanded & (counts == 0)

        # classify the candidates: outside a constraint, new, or seen before
        outside = np.zeros(m, dtype=bool)
        for v in self.limits(cand) if nc else ():
            outside |= ~as_mask(v, m)
        na = len(self.always)
        inside = np.flatnonzero(~outside)
        fps = self.packer.fingerprints(cand[:, inside] if len(inside) < m else cand)
        firsts = _firsts(fps)
        fresh = np.zeros(m, dtype=bool)
        fresh[inside[firsts[self.seen.add_new(fps[firsts])]]] = True

        # where the level stops: the first event in bfs's order
        stop, stop_kind = m, None  # stop is a candidate rank; events at a parent come first
        bp = np.flatnonzero(bad_parent)
        if len(bp):
            stop, stop_kind = int(first[bp[0]]), ("parent", int(bp[0]))
        # step properties, on every candidate (bfs checks each step before its target)
        if self.steps is not None and m:
            ok = np.ones(m, dtype=bool)
            for v in self.steps(np.concatenate((cols[:, parent], cand), axis=0)):
                ok &= as_mask(v, m)
            bad_step = np.flatnonzero(~ok)
            if len(bad_step) and bad_step[0] < stop:
                stop, stop_kind = int(bad_step[0]), ("step", int(bad_step[0]))
        checked = outside | fresh
        # properties only where bfs checks them: the new states and those outside
        chk = np.flatnonzero(checked)
        pv = self.props(cand[:, chk]) if (self.always or self.sometimes) and len(chk) else []
        if self.always and len(chk):
            ok = np.ones(len(chk), dtype=bool)
            for v in pv[:na]:
                ok &= as_mask(v, len(chk))
            viol = chk[~ok]
            if len(viol) and viol[0] < stop:
                stop, stop_kind = int(viol[0]), ("always", int(viol[0]))
        room = None if s.max_states is None else s.max_states - self.n
        new_ranks = np.flatnonzero(fresh)
        # bfs meets the state limit before it checks the new state's invariants (but after
        # the step properties and a parent's errors): at the same candidate, the limit wins
        # over an invariant violation only
        if room is not None and len(new_ranks) > room and (
                new_ranks[room] < stop or (new_ranks[room] == stop and stop_kind is not None
                                           and stop_kind[0] == "always")):
            stop, stop_kind = int(new_ranks[room]), ("limit", int(new_ranks[room]))
        include = stop_kind is not None and stop_kind[0] == "always"
        end = stop + 1 if include else stop
        keep = new_ranks[new_ranks < end]

        # statistics up to the stop, as bfs counts them
        if stop_kind is None:
            s.generated += m
        elif stop_kind[0] == "parent":
            s.generated += stop
        else:
            p = parent[stop]
            s.generated += int(first[p] + counts[p])
        fired_to = stop + 1 if stop_kind is not None and stop_kind[0] != "parent" else stop
        nacts = len(self.built.actions)
        fired = np.bincount(action[:fired_to], minlength=nacts)
        new = np.bincount(action[keep], minlength=nacts)
        for a in np.flatnonzero(fired):
            s.fired[a] += int(fired[a])
        for a in np.flatnonzero(new):
            s.new[a] += int(new[a])
        index_of = np.full(m, -1, dtype=np.int64)
        index_of[keep] = self.n + np.arange(len(keep))
        self._append(base + parent[keep], pos[keep])
        self.publish()

        # examples of sometimes-properties: the first checked state, in order
        if s.pending:
            hits = set()
            reach = dict(zip(self.sometimes, pv[na:]))
            for name in s.pending:
                if not len(chk):
                    break
                hit = chk[as_mask(reach[name], len(chk))]
                hit = hit[hit < end]
                if len(hit):
                    hits.add(int(hit[0]))
            for rank in sorted(hits):  # on_new records every pending one the state reaches
                self._on_new(cand, rank, index_of, parent, pos, base)
        if stop_kind is not None:
            kind, at = stop_kind
            if kind == "parent":
                s.expand(_row(cols, at), base + at)
                raise AssertionError("batch: the per-state code found no error at a parent "
                                     "the batch code flagged")
            if kind == "always":
                self._on_new(cand, at, index_of, parent, pos, base)
                raise AssertionError("batch: the per-state code found no violation where the "
                                     "batch code did")
            if kind == "step":
                s.step_violated(_row(cols, int(parent[at])), _row(cand, at),
                                base + int(parent[at]), int(pos[at]))
                raise AssertionError("batch: the per-state code found no step violation "
                                     "where the batch code did")
            s.stop_reason = "max_states"
            raise _Found
        return cand[:, keep]

    def _on_new(self, cand, rank, index_of, parent, pos, base):
        state = _row(cand, rank)
        i = int(index_of[rank])
        if i >= 0:
            self.search.on_new(state, i)
        else:
            self.search.on_new(state, base + int(parent[rank]), via=int(pos[rank]))


def _firsts(keys: np.ndarray) -> np.ndarray:
    """The positions of the first occurrence of each distinct key, ascending."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys)  # unstable is enough: the least position of a run is taken
    ranked = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
    firsts = np.minimum.reduceat(order, starts)
    firsts.sort()
    return firsts


def _row(cols: np.ndarray, j: int) -> tuple:
    return tuple(int(x) for x in cols[:, j])
