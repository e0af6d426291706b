"""One worker of the distributed search: a Ray actor that owns a partition of the states.

A state belongs to the worker ``owner_of(fingerprint)``. Its owner keeps the state's
fingerprint (a ``FingerprintSet``), its parent link (the parent's global id and which of the
parent's successors it is) and, while it is in the frontier, its packed words. Every state
in a level also carries its rank in that level in the reference ``bfs``'s order, so that
candidates are ordered by ``key = rank * (actions + 1) + position + 1`` exactly as ``bfs``
meets them (``key`` with position ``-1``, that is ``rank * (actions + 1)``, is an event at
the parent itself: a deadlock or an out-of-range write, which ``bfs`` meets before the
parent's successors).

A level runs in two calls: ``expand`` generates the successors of this worker's frontier with
the batch engine's kernels, checks what ``bfs`` checks at the parent (step properties,
states outside a constraint) and returns one batch of candidates per owner; ``absorb``
takes the batches sent to it by every worker, keeps the first occurrence (least key) of each
fingerprint not seen before, checks the invariants and sometimes-properties on those new
states and makes them its next frontier. The driver gives each new state its rank (the
merge of every owner's keys) with the next ``expand``.

This module imports no Ray: ``engine.py`` wraps ``Worker`` in ``ray.remote``.
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import numpy as np

from ..batch.engine import CHUNK, _Batch, _firsts
from ..batch.hashset import FingerprintSet
from ..batch.packing import PackedColumns, StepColumns
from ..batch.vectorize import as_mask

_GOLD = np.uint64(0x9E3779B97F4A7C15)
#: a global id is ``worker << ID_SHIFT | index at that worker``
ID_SHIFT = 40
NONE = np.int64(np.iinfo(np.int64).max)  # no event: greater than every key


def owner_of(fps: np.ndarray, workers: int) -> np.ndarray:
    """The worker that owns each fingerprint: a multiplicative hash of it, so that the
    partition does not favour the bits the visited set's probing uses."""
    with np.errstate(over="ignore"):
        return ((fps * _GOLD) >> np.uint64(33)) % np.uint64(workers)


class Worker:
    """Owns the states whose fingerprints fall in partition ``index`` of ``workers``."""

    def __init__(self, index: int, workers: int, built, always, sometimes, steps,
                 die_at_level=None):
        self.index, self.workers = index, workers
        shim = SimpleNamespace(system=SimpleNamespace(built=built,
                                                      check_deadlock=built.check_deadlock),
                               always=list(always), pending=list(sometimes),
                               steps=list(steps), symmetry=None, max_states=None, live=[])
        self.batch = _Batch(shim)  # the batch engine's kernels, packer and storage
        self.packer = self.batch.packer
        self.sometimes = list(sometimes)
        self.nactions = len(built.actions)
        self.radix = self.nactions + 1
        self.seen = FingerprintSet()
        self.parent = np.zeros(1 << 12, dtype=np.int64)   # per stored state: parent's id
        self.which = np.zeros(1 << 12, dtype=np.int32)    # and its position there
        self.n = 0
        self.frontier = np.zeros((len(self.packer.words), 0), dtype=np.uint64)
        self.frontier_base = 0       # the index of the frontier's first state here
        self.keys = np.zeros(0, dtype=np.int64)           # the frontier's keys
        self.level = 0
        self.die_at_level = die_at_level
        self.sent = 0                # bytes sent to other workers
        self.received = 0            # bytes received from other workers
        self._sent_keys = self._sent_act = self._counts = self._ranks = None
        self._fresh_act = None
        self._expanded_base = 0
        self._own = None             # the candidates this worker sent itself
        self.busy = {"expand": 0.0, "absorb": 0.0}  # seconds spent in each call

    def set_pending(self, names) -> None:
        """Check only these sometimes-properties from now on (the others have examples)."""
        from ..batch.vectorize import kernel
        b = self.batch
        exprs = {p.name: p.expr for p in b.built.properties}
        self.sometimes = [n for n in self.sometimes if n in names]
        b.sometimes = {n: exprs[n] for n in self.sometimes}
        b.props = kernel([*b.always, *b.sometimes.values()])

    def ping(self) -> int:
        return os.getpid()

    # -- storage ------------------------------------------------------------------------------
    def _append(self, parents: np.ndarray, which: np.ndarray) -> np.ndarray:
        need = self.n + len(parents)
        if need > len(self.parent):
            cap = max(need, 2 * len(self.parent))
            self.parent = np.resize(self.parent, cap)
            self.which = np.resize(self.which, cap)
        self.parent[self.n:need] = parents
        self.which[self.n:need] = which
        start, self.n = self.n, need
        return np.arange(start, need, dtype=np.int64)

    def link(self, index: int) -> tuple[int, int]:
        """A stored state's parent (a global id, -1 for an initial state) and its position
        among the parent's successors (for an initial state: its index among them)."""
        return int(self.parent[index]), int(self.which[index])

    def stats(self) -> dict:
        return {"states": self.n, "sent": self.sent, "received": self.received,
                "busy": dict(self.busy),
                "stored_bytes": self.seen.nbytes + self.n * (8 + 4)}

    # -- the initial states ---------------------------------------------------------------------
    def add_initial(self, words: np.ndarray, which: np.ndarray, ranks: np.ndarray) -> int:
        """Store initial states (their words, their index among the initial states, their
        rank in the first level); the driver has checked them and removed duplicates."""
        self.seen.add_new(self.packer.fingerprints_of(words))
        local = self._append(np.full(len(which), -1, dtype=np.int64), which)
        self.frontier, self.frontier_base = words, int(local[0]) if len(local) else self.n
        self.keys = ranks.astype(np.int64)  # rank of the level; the merge orders them
        return len(which)

    # -- a level ------------------------------------------------------------------------------
    def expand(self, ranks: np.ndarray | None):
        started = time.perf_counter()
        try:
            return self._expand(ranks)
        finally:
            self.busy["expand"] += time.perf_counter() - started

    def absorb(self, *batches):
        started = time.perf_counter()
        try:
            return self._absorb(*batches)
        finally:
            self.busy["absorb"] += time.perf_counter() - started

    def _expand(self, ranks: np.ndarray | None):
        """Generate the successors of the frontier (whose ranks in the level are ``ranks``,
        in the frontier's order; None for the first level, ranked by ``add_initial``).
        Returns one batch per owner and, last, a summary of the events met here."""
        if self.die_at_level is not None and self.level + 1 >= self.die_at_level:
            os._exit(7)  # the test hook: a worker that dies mid-search
        self.level += 1
        if ranks is not None:
            self.keys = np.asarray(ranks, dtype=np.int64)
        ranks = self.keys
        self._expanded_base = self.frontier_base
        b = self.batch
        nw = self.workers
        radix = np.int64(self.radix)
        out = [[] for _ in range(nw)]
        event = {"parent": NONE, "step": NONE, "always": NONE}
        hits = {name: NONE for name in self.sometimes}
        fired = np.zeros(self.nactions, dtype=np.int64)
        sent_keys, sent_act, counts_all = [], [], []
        width = self.frontier.shape[1]
        # the narrowest types that hold a parent's position and an action's index
        pos_type = np.uint32 if width < 2 ** 32 else np.int64
        act_type = np.uint8 if self.nactions < 2 ** 8 else np.int32
        for start in range(0, width, CHUNK):
            pwords = self.frontier[:, start:start + CHUNK]
            cols = PackedColumns(self.packer, pwords)
            c = b._generate(cols, pwords)
            r = ranks[start:start + c.n]
            counts_all.append(c.counts)
            key = r[c.parent] * radix + c.pos + 1
            fired += np.bincount(c.action, minlength=self.nactions)
            sent_keys.append(key)
            sent_act.append(c.action.astype(np.int32))
            bp = np.flatnonzero(c.bad_parent)
            if len(bp):
                event["parent"] = min(event["parent"], int(r[bp[0]] * radix))
            if b.steps is not None and c.m:
                ok = np.ones(c.m, dtype=bool)
                for v in b.steps(StepColumns(cols, c.parent, c.cand)):
                    ok &= as_mask(v, c.m)
                bad = np.flatnonzero(~ok)
                if len(bad):
                    event["step"] = min(event["step"], int(key[bad[0]]))
            out_idx = np.flatnonzero(c.outside)
            if len(out_idx) and (b.always or b.sometimes):
                self._check(c.cand.take(out_idx), key[out_idx], event, hits)
            # within the chunk, only the first occurrence of each state can be new
            _, at = c.firsts
            at = np.sort(at)
            inside = c.inside[at]
            words, fps = c.words[:, at], c.fps[at]
            # the parent as its position in this worker's frontier (the owner adds ``base``)
            ppos = (start + c.parent[inside]).astype(pos_type)
            act = c.action[inside].astype(act_type)
            owner = owner_of(fps, nw) if nw > 1 else np.zeros(len(fps), dtype=np.uint64)
            for o in range(nw):
                sel = np.flatnonzero(owner == o) if nw > 1 else slice(None)
                out[o].append((words[:, sel], key[inside][sel], ppos[sel], act[sel]))
        self._sent_keys = np.concatenate(sent_keys) if sent_keys else np.zeros(0, np.int64)
        self._sent_act = np.concatenate(sent_act) if sent_act else np.zeros(0, np.int32)
        self._counts = np.concatenate(counts_all) if counts_all else np.zeros(0, np.int64)
        self._ranks = ranks
        batches = []
        base = np.array([(self.index << ID_SHIFT) + self.frontier_base], dtype=np.int64)
        for o in range(nw):
            parts = out[o]
            if parts:
                batch = (np.concatenate([p[0] for p in parts], axis=1),
                         np.concatenate([p[1] for p in parts]),
                         np.concatenate([p[2] for p in parts]),
                         np.concatenate([p[3] for p in parts]), base)
            else:
                batch = (np.zeros((len(self.packer.words), 0), dtype=np.uint64),
                         np.zeros(0, np.int64), np.zeros(0, pos_type), np.zeros(0, act_type),
                         base)
            if o != self.index:
                self.sent += sum(a.nbytes for a in batch)
                batches.append(batch)
            else:  # this worker's own share stays here, out of the object store
                self._own = batch
                batches.append(None)
        summary = {"generated": int(self._counts.sum()), "fired": fired, "event": event,
                   "hits": hits, "expanded": width}
        return (*batches, summary)

    def _check(self, cand: PackedColumns, keys: np.ndarray, event: dict, hits: dict):
        """Invariants and sometimes-properties on checked states (keys ascending)."""
        b, n = self.batch, cand.shape[1]
        pv = b.props(cand)
        na = len(b.always)
        if na:
            ok = np.ones(n, dtype=bool)
            for v in pv[:na]:
                ok &= as_mask(v, n)
            bad = np.flatnonzero(~ok)
            if len(bad):
                event["always"] = min(event["always"], int(keys[bad[0]]))
        for name, v in zip(self.sometimes, pv[na:]):
            hit = np.flatnonzero(as_mask(v, n))
            if len(hit):
                hits[name] = min(hits[name], int(keys[hit[0]]))

    def _absorb(self, *batches):
        """Take the candidates every worker sent here (``batches[w]`` from worker ``w``):
        keep the first occurrence of each new state, check it, make it the next frontier.
        Returns the new states' keys (ascending) and a summary."""
        batches = list(batches)
        batches[self.index], self._own = self._own, None
        for w, batch in enumerate(batches):
            if w != self.index:
                self.received += sum(a.nbytes for a in batch)
        words = np.concatenate([bt[0] for bt in batches], axis=1)
        keys = np.concatenate([bt[1] for bt in batches])
        gid = np.concatenate([bt[4][0] + bt[2].astype(np.int64) for bt in batches])
        act = np.concatenate([bt[3] for bt in batches])
        order = np.argsort(keys, kind="stable")  # sorted runs, one per sender: merged
        fps = self.packer.fingerprints_of(words)[order]
        distinct, at = _firsts(fps)
        fresh = np.sort(at[self.seen.add_new(distinct)])
        pick = order[fresh]
        words, keys, gid, act = words[:, pick], keys[pick], gid[pick], act[pick]
        local = self._append(gid, (keys % self.radix - 1).astype(np.int32))
        event = {"always": NONE}
        hits = {name: NONE for name in self.sometimes}
        b = self.batch
        if len(keys) and (b.always or b.sometimes):
            self._check(PackedColumns(self.packer, words), keys, event, hits)
        self.frontier, self.frontier_base, self.keys = words, \
            (int(local[0]) if len(local) else self.n), keys
        self._fresh_act = act
        return keys, {"event": event, "hits": hits, "new": len(keys),
                      "new_by_action": np.bincount(act, minlength=self.nactions),
                      "states": self.n}

    def locate(self, key: int) -> int:
        """The index here of the new state of this level with ``key`` (-1 if none)."""
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            return self.frontier_base + i
        return -1

    def parent_of_key(self, key: int) -> int:
        """The global id of the frontier state (of the level just expanded) whose rank is
        ``key // (actions + 1)``."""
        rank = key // self.radix
        i = int(np.searchsorted(self._ranks, rank))
        if i < len(self._ranks) and self._ranks[i] == rank:
            return (self.index << ID_SHIFT) + self._expanded_base + i
        return -1

    def tally(self, stop: int, kind: str) -> dict:
        """The statistics of the level just run as ``bfs`` counts them when it stops at
        ``stop`` (a key) for ``kind``: successors generated, actions fired, new states."""
        radix = self.radix
        r_stop = stop // radix
        ranks, counts = self._ranks, self._counts
        before = ranks < r_stop
        generated = int(counts[before].sum())
        if kind != "parent":
            generated += int(counts[ranks == r_stop].sum())
        fired_to = self._sent_keys <= stop if kind != "parent" else self._sent_keys < stop
        fired = np.bincount(self._sent_act[fired_to], minlength=self.nactions)
        end = self.keys <= stop if kind == "always" else self.keys < stop
        new = np.bincount(self._fresh_act[end], minlength=self.nactions)
        return {"generated": generated, "fired": fired, "new": new, "kept": int(end.sum())}
