"""The reachable graph for liveness, built by the batch back-end.

``liveness.Graph`` is the whole reachable graph in breadth-first order with every edge; the
per-state builder explores it one state at a time and evaluates each property's predicates
with the per-state code. This builder fills the same fields a frontier at a time: the
successors of a chunk come from the batch engine's own ``_generate`` (in (parent, action)
order, bfs's), the predicates and the fairness conditions are masks over the new states, and
a dictionary from fingerprint to index gives each edge its target. The states get the same
indices and the edges the same order as the per-state builder gives them, so the lassos are
the same (tested).

It runs after the batch safety search has found nothing: every write is then known to stay
in its range, and no check here repeats that.
"""

from __future__ import annotations

import time
from array import array

import numpy as np

from ..liveness import Graph, LivenessStop
from .engine import CHUNK
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


def batch_graph(run, names, *, max_states=None, deadline=None) -> Graph:
    """The reachable graph of ``run``'s system (``run``: the finished ``engine._Batch``)
    with the predicates of the liveness properties ``names``."""
    system, built = run.search.system, run.built
    props = {p.name: p for p in built.properties}
    q_of = kernel([props[n].expr for n in names])
    triggers = [k for k, n in enumerate(names) if props[n].trigger is not None]
    p_of = kernel([props[names[k]].trigger for k in triggers]) if triggers else None
    conds = [(a, i.fair_when) for a, i in enumerate(built.actions)
             if i.fair_when is not None and system.fairness[a] != "none"]
    cond_of = kernel([e for _, e in conds]) if conds else None

    g = Graph.empty(system, len(names), fair_conditions=bool(conds))
    index: dict[int, int] = {}
    qs = [[] for _ in names]
    ps = [[] for _ in names]
    unfair = []

    def label(words):
        """Record the new states' predicates and fairness conditions."""
        cols = PackedColumns(run.packer, words)
        n = words.shape[1]
        for k, v in enumerate(q_of(cols)):
            qs[k].append(as_mask(v, n))
        pv = p_of(cols) if p_of is not None else []
        for k in range(len(names)):
            ps[k].append(as_mask(pv[triggers.index(k)], n) if k in triggers
                         else np.ones(n, dtype=bool))
        if conds:
            bits = np.zeros(n, dtype=object)
            for (a, _), v in zip(conds, cond_of(cols)):
                bits[~as_mask(v, n)] += 1 << a
            unfair.append(bits)

    # the initial states, deduplicated in order, as the per-state builder keeps them
    inits = system.initial_states()
    words = run.packer.pack(np.array(inits, dtype=np.int64).reshape(len(inits),
                                                                    run.width).T)
    keys = run.packer.fingerprints_of(words).tolist()
    keep = []
    for j, key in enumerate(keys):
        if key not in index:
            index[key] = len(keep)
            keep.append(j)
    g.inits = [inits[j] for j in keep]
    _limit(len(keep), max_states)
    frontier = words[:, keep]
    parents = [np.full(len(keep), -1, dtype=np.int64)]
    vias = [np.arange(len(keep), dtype=np.int64)]
    label(frontier)
    offs, dsts, acts = [np.zeros(1, dtype=np.int64)], [], []
    n_states, n_edges = len(keep), 0
    base = 0
    while frontier.shape[1]:
        nxt = []
        for start in range(0, frontier.shape[1], CHUNK):
            if deadline is not None and time.perf_counter() >= deadline:
                raise LivenessStop("time_limit")
            chunk = frontier[:, start:start + CHUNK]
            c = run._generate(PackedColumns(run.packer, chunk), chunk)
            dst = np.full(c.m, -1, dtype=np.int64)
            keys, at = c.firsts  # distinct keys ascending, each one's first position
            new = [j for j, key in zip(at.tolist(), keys.tolist()) if key not in index]
            new.sort()  # in candidate order: bfs's order of discovery
            for i, j in enumerate(new):
                index[int(c.fps[j])] = n_states + i
            _limit(n_states + len(new), max_states)
            dst[c.inside] = [index[k] for k in c.fps.tolist()]
            new = np.array(new, dtype=np.int64)
            ranks = c.inside[new]
            parents.append(base + start + c.parent[ranks])
            vias.append(n_edges + ranks)
            label(c.words[:, new])
            nxt.append(c.words[:, new])
            offs.append(n_edges + np.cumsum(c.counts))
            dsts.append(dst)
            acts.append(c.action)
            n_states += len(new)
            n_edges += c.m
        base += frontier.shape[1]
        frontier = np.concatenate(nxt, axis=1) if nxt else frontier[:, :0]
    g.parent = _q(parents)
    g.via = _q(vias)
    g.off = _q(offs)
    g.dst = _q(dsts)
    g.act = array("i", np.concatenate(acts).astype(np.int32).tobytes() if acts else b"")
    g.p = [bytearray(np.concatenate(v).astype(np.uint8).tobytes()) for v in ps]
    g.q = [bytearray(np.concatenate(v).astype(np.uint8).tobytes()) for v in qs]
    if conds:
        g.unfair_here = np.concatenate(unfair).tolist()
    g.n = n_states
    return g


def _limit(n, max_states):
    if max_states is not None and n > max_states:
        raise LivenessStop("max_states")


def _q(parts) -> array:
    out = array("q")
    if parts:
        out.frombytes(np.concatenate(parts).astype(np.int64).tobytes())
    return out
