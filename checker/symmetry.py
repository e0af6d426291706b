"""Symmetry reduction: the ids of a domain declared ``symmetric=True`` are interchangeable.

A permutation ``p`` of a domain's positions acts on a state by moving the slots of every map
keyed by the domain (``x[i]`` goes to ``x[p[i]]``) and renaming every value that is an
element of it (in slots of the domain's type, ``Maybe`` of it, or ``Set`` of it, inside maps
and sequences too). When the step relation and the properties commute with every such
permutation (``symbolic/symmetry.py`` proves it before a run), the states of one orbit behave
alike: the search stores one state per orbit, keyed by a canonical member of the orbit (the
least of its permutations), and still follows real states, so traces stay real traces.

With several symmetric domains the group is their product. Orbits are at most ``n!`` states;
the group is enumerated, so a symmetric domain may have at most ``MAX_IDS`` ids.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass

from .lang.errors import ModelError
from .lang.types import Domain, Map, Maybe, Seq, Set

#: ids of one symmetric domain at most (the group is enumerated: 6! = 720 permutations)
MAX_IDS = 6


@dataclass(frozen=True)
class Permutation:
    """One group element on whole states: ``new[j] = remap[j][old[src[j]]]``."""

    src: tuple                 # slot j of the image comes from slot src[j]
    remap: tuple               # per slot: None, or a tuple mapping an old code to a new one
    perms: dict                # Domain -> its position permutation (i goes to perms[d][i])

    def __post_init__(self):
        src = self.src
        get = operator.itemgetter(*src) if len(src) > 1 else (lambda s: (s[src[0]],))
        object.__setattr__(self, "_get", get)
        object.__setattr__(self, "_renamed",
                           tuple((j, m) for j, m in enumerate(self.remap) if m is not None))

    def apply(self, state) -> tuple:
        moved = self._get(state)
        if not self._renamed:
            return moved
        out = list(moved)
        for j, m in self._renamed:
            out[j] = m[out[j]]
        return tuple(out)


class Symmetry:
    """The permutations of a layout's symmetric domains (``domains``)."""

    def __init__(self, layout, domains):
        if not domains:
            raise ModelError("no domain is declared symmetric=True")
        for d in domains:
            if len(d) > MAX_IDS:
                raise ModelError(f"domain {d.name} has {len(d)} ids; symmetry reduction "
                                 f"enumerates its permutations and allows at most {MAX_IDS}")
        self.layout = layout
        self.domains = list(domains)
        self.shapes = _slot_shapes(layout)
        self.index = {shape[:3]: j for j, shape in enumerate(self.shapes)}
        per_domain = [list(itertools.permutations(range(len(d)))) for d in self.domains]
        self.group = [self.permutation(dict(zip(self.domains, ps)))
                      for ps in itertools.product(*per_domain)]
        self._tables = None

    def describe(self) -> str:
        ds = ", ".join(f"{d.name} ({len(d)} ids)" for d in self.domains)
        return f"{ds}: {len(self.group)} permutations"

    def generators(self):
        """For each domain: swapping its first two ids, and rotating all of them (they
        generate every permutation, so commuting with these is commuting with all)."""
        for d in self.domains:
            n = len(d)
            if n < 2:
                continue
            yield self.permutation({d: (1, 0, *range(2, n))})
            if n > 2:
                yield self.permutation({d: (*range(1, n), 0)})

    def permutation(self, perms: dict) -> Permutation:
        """The state permutation that applies ``perms[d]`` (a tuple: position i goes to
        ``perms[d][i]``) to each listed domain."""
        inverse = {d: _inverse(p) for d, p in perms.items()}
        src, remap = [], []
        for var, path, k, leaf in self.shapes:
            old = tuple((d, inverse[d][i] if d in inverse else i) for d, i in path)
            src.append(self.index[(var, old, k)])
            remap.append(_value_map(leaf, perms))
        return Permutation(tuple(src), tuple(remap), dict(perms))

    def canon(self, state) -> tuple:
        """The least permutation of ``state``: the same for every state of its orbit."""
        return min(p.apply(state) for p in self.group)

    # -- columns (the batch engine) ------------------------------------------------------------
    def canon_words(self, cols, pack):
        """The least (as packed words, compared word by word) permutation of each column of
        ``cols``; ``pack`` packs columns into words. Orbit-invariant, like ``canon``."""
        import numpy as np
        if self._tables is None:  # once: each permutation's gather and renaming tables
            self._tables = [(np.asarray(p.src), [(j, np.asarray(m, dtype=np.int64))
                                                 for j, m in enumerate(p.remap)
                                                 if m is not None]) for p in self.group]
        best = None
        for src, renames in self._tables:
            permuted = cols[src]
            for j, table in renames:   # codes of Domain, Maybe and Set slots start at 0
                permuted[j] = table[permuted[j]]
            words = pack(permuted)
            if best is None:
                best = words
                continue
            less = np.zeros(words.shape[1], dtype=bool)
            same = np.ones(words.shape[1], dtype=bool)
            for a, b in zip(words, best):
                less |= same & (a < b)
                same &= a == b
            best[:, less] = words[:, less]
        return best



def _inverse(p):
    inv = [0] * len(p)
    for i, j in enumerate(p):
        inv[j] = i
    return tuple(inv)


def _value_map(leaf, perms):
    """A code -> code table for a slot of type ``leaf`` (None when permuting leaves it)."""
    if isinstance(leaf, Domain) and leaf in perms:
        return tuple(perms[leaf])
    if isinstance(leaf, Maybe) and leaf.domain in perms:
        return (*perms[leaf.domain], len(leaf.domain))
    if isinstance(leaf, Set) and leaf.domain in perms:
        p = perms[leaf.domain]
        return tuple(sum(1 << p[i] for i in range(len(p)) if mask >> i & 1)
                     for mask in range(1 << len(p)))
    return None


def _slot_shapes(layout):
    """Per slot, in layout order: (variable, map keys as ((domain, position), ...), index in
    a sequence or None, the slot's type)."""
    out = []

    def walk(var, typ, path):
        if isinstance(typ, Map):
            for i in range(len(typ.domain)):
                walk(var, typ.value, (*path, (typ.domain, i)))
        elif isinstance(typ, Seq):
            out.append((var, path, "len", typ.length))
            for k in range(typ.max_len):
                out.append((var, path, k, typ.value))
        else:
            out.append((var, path, None, typ))

    for v in layout.variables:
        walk(v.name, v.type, ())
    if len(out) != layout.width:
        raise AssertionError("symmetry: slot shapes disagree with the layout")
    return out
