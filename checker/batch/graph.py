"""The reachable graph for liveness, built by the batch back-end.

``liveness.Graph`` is the whole reachable graph in breadth-first order with every edge; the
per-state builder explores it one state at a time and evaluates each property's predicates
with the per-state code. ``GraphRecorder`` fills the same fields a frontier chunk at a time
from the batch engine's candidates (in (parent, action) order, bfs's): the predicates and
the fairness conditions are masks over the new states, and a dictionary from fingerprint to
index gives each edge its target. The states get the same indices and the edges the same
order as the per-state builder gives them, so the lassos are the same (tested).

The batch engine records the graph during its safety search, so liveness costs no second
exploration. The graph is used only when the safety search found nothing: every write is
then known to stay in its range, and the search's own limits (states, time) bound it.
"""

from __future__ import annotations

from array import array

import numpy as np

from ..liveness import Graph
from .packing import PackedColumns
from .vectorize import as_mask, kernel, unsupported


def graph_exprs(built, names) -> list:
    """The expressions the graph needs: each property's ``q`` and trigger ``p``, and the
    actions' ``fair_when`` conditions."""
    props = {p.name: p for p in built.properties}
    out = [props[n].expr for n in names]
    out += [props[n].trigger for n in names if props[n].trigger is not None]
    out += [a.fair_when for a in built.actions if a.fair_when is not None]
    return out


def graph_applies(system, names) -> str | None:
    """Why the batch back-end cannot build the graph for ``names``, or None."""
    return unsupported(graph_exprs(system.built, names))


class GraphRecorder:
    """The liveness graph of ``run``'s system (``run``: an ``engine._Batch``), chunk by
    chunk, with the predicates of the liveness properties ``names``."""

    def __init__(self, run, names):
        built = run.built
        props = {p.name: p for p in built.properties}
        self.run, self.names = run, names
        self.q_of = kernel([props[n].expr for n in names])
        self.triggers = [k for k, n in enumerate(names) if props[n].trigger is not None]
        self.p_of = kernel([props[names[k]].trigger for k in self.triggers]) \
            if self.triggers else None
        fairness = run.search.system.fairness
        self.conds = [(a, i.fair_when) for a, i in enumerate(built.actions)
                      if i.fair_when is not None and fairness[a] != "none"]
        self.cond_of = kernel([e for _, e in self.conds]) if self.conds else None
        self.index: dict[int, int] = {}
        self.qs = [[] for _ in names]
        self.ps = [[] for _ in names]
        self.unfair = []
        self.parents, self.vias = [], []
        self.offs, self.dsts, self.acts = [np.zeros(1, dtype=np.int64)], [], []
        self.n_states = self.n_edges = 0

    def initial(self, words):
        """The distinct initial states, packed, in order."""
        keys = self.run.packer.fingerprints_of(words).tolist()
        for i, key in enumerate(keys):
            self.index[key] = i
        k = len(keys)
        self.parents.append(np.full(k, -1, dtype=np.int64))
        self.vias.append(np.arange(k, dtype=np.int64))
        self._label(words)
        self.n_states = k

    def chunk(self, c, new, base):
        """A chunk's candidates ``c`` (``engine._Candidates``) whose parents are states
        ``base...``; ``new``: the positions in ``c.inside`` of the new states, ascending."""
        index, fps = self.index, c.fps
        for i, j in enumerate(new.tolist()):
            index[int(fps[j])] = self.n_states + i
        dst = np.full(c.m, -1, dtype=np.int64)
        dst[c.inside] = [index[k] for k in fps.tolist()]
        ranks = c.inside[new]
        self.parents.append(base + c.parent[ranks])
        self.vias.append(self.n_edges + ranks)
        self._label(c.words[:, new])
        self.offs.append(self.n_edges + np.cumsum(c.counts))
        self.dsts.append(dst)
        self.acts.append(c.action)
        self.n_states += len(new)
        self.n_edges += c.m

    def _label(self, words):
        """Record the new states' predicates and fairness conditions."""
        cols = PackedColumns(self.run.packer, words)
        n = words.shape[1]
        for k, v in enumerate(self.q_of(cols)):
            self.qs[k].append(as_mask(v, n))
        pv = self.p_of(cols) if self.p_of is not None else []
        for k in range(len(self.names)):
            self.ps[k].append(as_mask(pv[self.triggers.index(k)], n) if k in self.triggers
                              else np.ones(n, dtype=bool))
        if self.conds:
            bits = np.zeros(n, dtype=object)
            for (a, _), v in zip(self.conds, self.cond_of(cols)):
                bits[~as_mask(v, n)] += 1 << a
            self.unfair.append(bits)

    def graph(self, inits) -> Graph:
        """The graph recorded, with ``inits`` the distinct initial states in order."""
        g = Graph.empty(self.run.search.system, len(self.names),
                        fair_conditions=bool(self.conds))
        g.inits = list(inits)
        g.parent, g.via, g.off, g.dst = (_q(x) for x in (self.parents, self.vias,
                                                          self.offs, self.dsts))
        acts = np.concatenate(self.acts) if self.acts else np.zeros(0, dtype=np.int32)
        g.act = array("i", acts.astype(np.int32).tobytes())
        g.p = [bytearray(np.concatenate(v).astype(np.uint8).tobytes()) for v in self.ps]
        g.q = [bytearray(np.concatenate(v).astype(np.uint8).tobytes()) for v in self.qs]
        if self.conds:
            g.unfair_here = np.concatenate(self.unfair).tolist()
        g.n = self.n_states
        return g


def _q(parts) -> array:
    out = array("q")
    if parts:
        out.frombytes(np.concatenate(parts).astype(np.int64).tobytes())
    return out
