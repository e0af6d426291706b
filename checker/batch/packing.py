"""States packed into 64-bit words, and their 64-bit fingerprints, a frontier at a time.

The frontier between two levels is kept packed (a few words a state instead of one int64
per slot) and unpacked a chunk at a time.

Each slot holds ``value - lo`` in ``bit_length(hi - lo)`` bits, so the packing is injective
on in-range states. The words are mixed by a chain of MurmurHash3's 64-bit finalizer, a
bijection on one word: a state that packs into a single word gets a fingerprint of its own
(no collision is possible); a wider one gets a pseudo-random 64-bit value, and every run
reports the bound ``n(n-1)/2 / 2**64`` as the reference engine does.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S33 = np.uint64(33)


def _fmix(h):
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


class Packer:
    def __init__(self, ranges):
        self.lo = np.array([lo for lo, _ in ranges], dtype=np.int64)
        self.words: list[list[tuple[int, int]]] = [[]]  # per word: (slot, shift)
        used = 0
        for slot, (lo, hi) in enumerate(ranges):
            bits = max((hi - lo).bit_length(), 1)
            if used + bits > 64:
                self.words.append([])
                used = 0
            self.words[-1].append((slot, used))
            used += bits
        self.exact = len(self.words) == 1

        self.width = len(ranges)
        self.masks = [np.uint64((1 << max((hi - lo).bit_length(), 1)) - 1) for lo, hi in ranges]
        self.where = [None] * self.width        # per slot: (word, shift)
        for w, word in enumerate(self.words):
            for slot, shift in word:
                self.where[slot] = (w, np.uint64(shift))

    def row(self, words: np.ndarray, slot: int) -> np.ndarray:
        """One slot's values (int64) of packed states."""
        w, shift = self.where[slot]
        return ((words[w] >> shift) & self.masks[slot]).astype(np.int64) + self.lo[slot]

    def patch(self, words: np.ndarray, slot: int, values: np.ndarray):
        """Write one slot of packed states in place (a value out of the slot's range
        spoils that slot only)."""
        w, shift = self.where[slot]
        field = self.masks[slot] << shift
        new = ((values - self.lo[slot]).astype(np.uint64) & self.masks[slot]) << shift
        words[w] = (words[w] & ~field) | new

    def pack(self, cols: np.ndarray) -> np.ndarray:
        """The states (columns of in-range slot values) as ``len(words)`` rows of uint64."""
        out = np.zeros((len(self.words), cols.shape[1]), dtype=np.uint64)
        for row, word in zip(out, self.words):
            for slot, shift in word:
                row |= (cols[slot] - self.lo[slot]).astype(np.uint64) << np.uint64(shift)
        return out

    def unpack(self, words: np.ndarray) -> np.ndarray:
        """``pack``'s inverse: the slot values as int64 columns."""
        cols = np.empty((self.width, words.shape[1]), dtype=np.int64)
        for row, word in zip(words, self.words):
            for slot, shift in word:
                cols[slot] = ((row >> np.uint64(shift)) & self.masks[slot]).astype(np.int64)
                cols[slot] += self.lo[slot]
        return cols

    def fingerprints(self, cols: np.ndarray) -> np.ndarray:
        return self.fingerprints_of(self.pack(cols))

    @staticmethod
    def fingerprints_of(words: np.ndarray) -> np.ndarray:
        """Fingerprints of packed states (the rows of ``pack``)."""
        with np.errstate(over="ignore"):
            h = None
            for w in words:
                h = _fmix(w * _GOLD) if h is None else _fmix(h ^ (w * _GOLD))
            return h


class PackedColumns:
    """Packed states read like columns (``c[slot]``, ``c.shape``) by the kernels: a slot
    is unpacked when first read."""

    def __init__(self, packer: Packer, words: np.ndarray):
        self.packer, self.words = packer, words
        self.shape = (packer.width, words.shape[1])
        self._rows: dict[int, np.ndarray] = {}

    def __getitem__(self, slot):
        got = self._rows.get(slot)
        if got is None:
            got = self._rows[slot] = self.packer.row(self.words, slot)
        return got

    def take(self, idx) -> "PackedColumns":
        return PackedColumns(self.packer, self.words[:, idx])

    def state(self, j: int) -> tuple:
        return tuple(int(x) for x in self.packer.unpack(self.words[:, j:j + 1])[:, 0])


class Gathered:
    """Some columns of ``cols`` (the states at ``on``) read like columns: a slot is gathered
    when first read."""

    def __init__(self, cols: np.ndarray, on: np.ndarray):
        self.cols, self.on = cols, on
        self.shape = (cols.shape[0], len(on))
        self._rows: dict[int, np.ndarray] = {}

    def __getitem__(self, slot):
        got = self._rows.get(slot)
        if got is None:
            got = self._rows[slot] = self.cols[slot][self.on]
        return got


class StepColumns:
    """A step read like columns by a step property's kernel: slots 0..W-1 are the parent's
    (of each candidate), W..2W-1 the candidate's own."""

    def __init__(self, parents, parent_index: np.ndarray, cand: PackedColumns):
        self.width = cand.shape[0]
        self.before = Gathered(parents, parent_index)
        self.after = cand
        self.shape = (2 * self.width, cand.shape[1])

    def __getitem__(self, slot):
        return self.before[slot] if slot < self.width else self.after[slot - self.width]
