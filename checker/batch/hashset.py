"""A set of 64-bit fingerprints: NumPy open addressing with double hashing.

Insertion is vectorized: a batch of distinct keys probes together; where several claim the
same empty slot, one wins and the others probe on. 0 marks an empty slot, so a key of 0 is
stored as 1 (one more pair of the 2**64 values shares a fingerprint: far below the bound).
A key's home slot is its top bits and its probe step its low bits, made odd (fingerprints are
uniformly mixed, and the table's size is a power of two, so every slot is reached).
"""

from __future__ import annotations

import numpy as np

_MAX_LOAD = 0.7


class FingerprintSet:
    def __init__(self, capacity: int = 1 << 16):
        self.table = np.zeros(capacity, dtype=np.uint64)
        self.count = 0

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    def add_new(self, keys: np.ndarray) -> np.ndarray:
        """Insert ``keys`` (distinct uint64); a boolean array: which were not present."""
        zero = np.flatnonzero(keys == 0)
        if len(zero):
            keys = np.where(keys == 0, np.uint64(1), keys)
            ones = np.flatnonzero(keys == 1)
            if len(ones) > 1:  # 0 and 1 in one batch are one key: the later is not new
                fresh = np.zeros(len(keys), dtype=bool)
                rest = np.ones(len(keys), dtype=bool)
                rest[ones[1:]] = False
                fresh[rest] = self.add_new(keys[rest])
                return fresh
        while (self.count + len(keys)) > _MAX_LOAD * len(self.table):
            self._grow()
        fresh = self._insert(self.table, keys)
        self.count += int(fresh.sum())
        return fresh

    def _grow(self):
        old = self.table[self.table != 0]
        self.table = np.zeros(2 * len(self.table), dtype=np.uint64)
        self._insert(self.table, old)

    @staticmethod
    def _insert(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
        mask = np.uint64(len(table) - 1)
        fresh = np.zeros(len(keys), dtype=bool)
        todo = np.arange(len(keys))
        slot = keys >> np.uint64(64 - (len(table) - 1).bit_length())
        # double hashing: an odd step from the low bits, so that probe runs do not merge
        # (linear probing's clusters made the last keys of a batch probe a hundred times)
        step = (keys & mask) | np.uint64(1)
        while len(todo):
            k, s = keys[todo], slot[todo]
            there = table[s]
            found = there == k
            empty = there == 0
            claim = todo[empty]
            table[s[empty]] = k[empty]
            won = table[s[empty]] == k[empty]
            fresh[claim[won]] = True
            done = found.copy()
            done[np.flatnonzero(empty)[won]] = True
            todo = todo[~done]
            slot[todo] = (slot[todo] + step[todo]) & mask
        return fresh
