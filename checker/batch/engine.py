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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..explicit import _Found, _options, _Search, finish_liveness
from ..lang.ranges import may_leave
from ..result import CheckResult
from ..stop import stop_reason
from .hashset import FingerprintSet
from .packing import Gathered, PackedColumns, Packer, StepColumns
from .vectorize import as_int, as_mask, kernel, unsupported

#: states expanded together; bounds the memory of one chunk's candidates
CHUNK = 1 << 14
#: compute the next chunk's candidates in a second thread while absorbing this one
PREFETCH = True


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
    if search.live:
        from .graph import graph_applies
        why = graph_applies(system, search.live) or (
            "symmetry stores one state per class, and the graph needs them all"
            if search.symmetry is not None else None)
        if why:
            raise BatchUnsupported(f"liveness property {search.live[0]}: {why}")
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
    # the graph was recorded during the search: liveness explores nothing again
    result = finish_liveness(search, build=lambda *_: run.recorder.graph(run.inits))
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
        self.symmetry = search.symmetry
        # parent links: 4 bytes while indices fit, 2 for the successor's rank at its parent
        self.parent = np.zeros(1 << 16, dtype=np.int32)
        self.which = np.zeros(1 << 16, dtype=np.int16 if len(actions) < 2 ** 15 else np.int32)
        self.n = 0
        # liveness: the whole graph, recorded as the search goes (``graph.py``)
        self.recorder = None
        if search.live:
            from .graph import GraphRecorder
            self.recorder = GraphRecorder(self, search.live)
        self.inits = []

    # -- storage ------------------------------------------------------------------------------
    def stored_bytes(self) -> int:
        table = self.seen.nbytes if self.seen is not None else 0
        return table + self.n * (self.parent.itemsize + self.which.itemsize)

    def _append(self, parents, which):
        need = self.n + len(parents)
        if need >= 2 ** 31 and self.parent.dtype != np.int64:
            self.parent = self.parent.astype(np.int64)
        if len(which) and int(which.max()) > np.iinfo(self.which.dtype).max:
            self.which = self.which.astype(np.int64)  # an initial state's index
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
                         np.asarray(s.which, dtype=np.int64))
        s.seen = set()
        self.publish()
        frontier = self.packer.pack(
            np.array(inits, dtype=np.int64).reshape(len(inits), self.width).T)
        if len(inits):
            self.seen.add_new(self._keys(frontier))
        if self.recorder is not None:
            self.inits = inits
            self.recorder.initial(frontier)
        base = 0
        while frontier.shape[1]:
            s.per_depth.append(frontier.shape[1])
            if s.max_depth is not None and s.depth >= s.max_depth:
                s.cut = True
                return
            parts = []
            for start, cols, gen in self._generated(frontier):
                s.tick(frontier.shape[1])
                parts.append(self._chunk(cols, base + start, gen))
            base += frontier.shape[1]
            nxt = np.concatenate(parts, axis=1) if parts else frontier[:, :0]
            if nxt.shape[1]:
                s.depth += 1
            frontier = nxt

    def _generated(self, frontier):
        """Each chunk of a level with its candidates. With ``PREFETCH`` a second thread
        computes the next chunk's candidates while this one is absorbed (NumPy releases the
        interpreter lock in its array operations, so the two overlap on two cores); the
        chunks are still absorbed one after the other, in order."""
        width = frontier.shape[1]
        starts = list(range(0, width, CHUNK))
        unpack = lambda i: PackedColumns(self.packer, frontier[:, i:i + CHUNK])  # noqa: E731
        words = lambda i: frontier[:, i:i + CHUNK]  # noqa: E731
        if not PREFETCH or len(starts) < 2:
            for start in starts:
                cols = unpack(start)
                yield start, cols, self._generate(cols, words(start))
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafkacheck-batch")
        try:
            cols = unpack(starts[0])
            pending = pool.submit(self._generate, cols, words(starts[0]))
            for k, start in enumerate(starts):
                gen, this = pending.result(), cols
                if k + 1 < len(starts):
                    cols = unpack(starts[k + 1])
                    pending = pool.submit(self._generate, cols, words(starts[k + 1]))
                yield start, this, gen
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _generate(self, cols: np.ndarray, pwords: np.ndarray) -> "_Candidates":
        """A chunk's successors, their keys and classification: a function of the chunk
        alone (its states as columns and packed), so that it can run beside the previous
        chunk's absorption. A successor is its parent's packed words with the updated slots
        written in: only the slots an action reads are gathered, only those it writes
        computed."""
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
        packer = self.packer
        cwords = np.empty((len(packer.words), m), dtype=np.uint64)
        parent = np.empty(m, dtype=np.int64)
        action = np.empty(m, dtype=np.int32)
        taken = np.zeros(n, dtype=np.int64)
        for a, inst, on in enabled:
            # every value is computed from the parents before any is written
            values = dict(zip(inst.updates, self.updates[a](Gathered(cols, on))))
            words = pwords[:, on]
            for slot, v in values.items():
                packer.patch(words, slot, as_int(v, len(on)))
            for slot, t in self.leaves[a]:
                v = as_int(values[slot], len(on))
                bad_parent[on[(v < t.lo()) | (v > t.hi())]] = True
            dest = first[on] + taken[on]
            taken[on] += 1
            cwords[:, dest] = words
            parent[dest] = on
            action[dest] = a
        pos = np.arange(m) - first[parent]
        if self.search.system.check_deadlock:
            bad_parent |= expanded & (counts == 0)

        # classify the candidates: outside a constraint, new, or seen before
        cand = PackedColumns(packer, cwords)
        outside = np.zeros(m, dtype=bool)
        for v in self.limits(cand) if nc else ():
            outside |= ~as_mask(v, m)
        inside = np.flatnonzero(~outside)
        words = cwords[:, inside] if len(inside) < m else cwords
        fps = self._keys(words)
        firsts = _firsts(fps)
        return _Candidates(n, expanded, bad_parent, counts, first, m, cand, parent, action,
                           pos, outside, inside, words, fps, firsts)

    def _chunk(self, cols: np.ndarray, base: int, gen=None) -> np.ndarray:
        s = self.search
        c = gen if gen is not None else self._generate(cols)
        n, m, cand, parent, action, pos = c.n, c.m, c.cand, c.parent, c.action, c.pos
        expanded, bad_parent, counts, first = c.expanded, c.bad_parent, c.counts, c.first
        outside, inside, words, fps, firsts = c.outside, c.inside, c.words, c.fps, c.firsts
        na = len(self.always)
        fresh = np.zeros(m, dtype=bool)
        keys, at = firsts  # the distinct keys ascending, and where each first occurs
        fresh[inside[at[self.seen.add_new(keys)]]] = True

        # where the level stops: the first event in bfs's order
        stop, stop_kind = m, None  # stop is a candidate rank; events at a parent come first
        bp = np.flatnonzero(bad_parent)
        if len(bp):
            stop, stop_kind = int(first[bp[0]]), ("parent", int(bp[0]))
        # step properties, on every candidate (bfs checks each step before its target)
        if self.steps is not None and m:
            ok = np.ones(m, dtype=bool)
            for v in self.steps(StepColumns(cols, parent, cand)):
                ok &= as_mask(v, m)
            bad_step = np.flatnonzero(~ok)
            if len(bad_step) and bad_step[0] < stop:
                stop, stop_kind = int(bad_step[0]), ("step", int(bad_step[0]))
        checked = outside | fresh
        # properties only where bfs checks them: the new states and those outside
        chk = np.flatnonzero(checked)
        pv = self.props(cand.take(chk)) if (self.always or self.sometimes) and len(chk) else []
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
                s.expand(cols.state(at), base + at)
                raise AssertionError("batch: the per-state code found no error at a parent "
                                     "the batch code flagged")
            if kind == "always":
                self._on_new(cand, at, index_of, parent, pos, base)
                raise AssertionError("batch: the per-state code found no violation where the "
                                     "batch code did")
            if kind == "step":
                s.step_violated(cols.state(int(parent[at])), cand.state(at),
                                base + int(parent[at]), int(pos[at]))
                raise AssertionError("batch: the per-state code found no step violation "
                                     "where the batch code did")
            s.stop_reason = "max_states"
            raise _Found
        # the kept states, packed (``words`` has a column per candidate inside)
        kept = np.searchsorted(inside, keep)
        if self.recorder is not None:
            self.recorder.chunk(c, kept, base)
        return words[:, kept]

    def _keys(self, words):
        """The visited-set keys of packed states: fingerprints, of the orbit's canonical
        member under symmetry."""
        if self.symmetry is not None:
            words = self.symmetry.canon_words(self.packer.unpack(words), self.packer.pack)
        return self.packer.fingerprints_of(words)

    def _on_new(self, cand, rank, index_of, parent, pos, base):
        state = cand.state(rank)
        i = int(index_of[rank])
        if i >= 0:
            self.search.on_new(state, i)
        else:
            self.search.on_new(state, base + int(parent[rank]), via=int(pos[rank]))


@dataclass
class _Candidates:
    n: int                     # states in the chunk
    expanded: np.ndarray       # per state: inside every constraint, so expanded
    bad_parent: np.ndarray     # per state: an out-of-range write or a deadlock
    counts: np.ndarray         # per state: its successors
    first: np.ndarray          # per state: the rank of its first successor
    m: int                     # candidates (successors)
    cand: PackedColumns        # their packed states, in (parent, action) order
    parent: np.ndarray
    action: np.ndarray
    pos: np.ndarray            # rank among the parent's successors
    outside: np.ndarray        # per candidate: fails a state constraint
    inside: np.ndarray         # the ranks of those that do not
    words: np.ndarray          # those packed
    fps: np.ndarray            # their keys
    firsts: tuple              # the distinct keys ascending, where (in ``inside``) each is first


def _firsts(keys: np.ndarray):
    """The distinct keys in ascending order, and the position of each one's first
    occurrence."""
    if not len(keys):
        return keys[:0], np.zeros(0, dtype=np.int64)
    order = np.argsort(keys)  # unstable is enough: the least position of a run is taken
    ranked = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
    return ranked[starts], np.minimum.reduceat(order, starts)

