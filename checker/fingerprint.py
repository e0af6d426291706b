"""State fingerprints: a 64-bit hash of a canonical byte encoding of the state.

The explicit engines store a visited state as its fingerprint, as TLC does, so that a state
costs a few dozen bytes however wide it is. Two rules keep that sound:

- **The encoding is canonical and injective.** A compiled model's state is a tuple of
  integers, each within its slot's declared range (the engines refuse a write outside it), so
  packing every slot at a fixed width that holds its whole range — signed where the range
  is — gives distinct bytes for distinct states, by construction. Python's own ``hash`` is
  not such a function: ``hash(-1) == hash(-2)``, so states differing only there always
  collided.
- **The hash is a real one.** The bytes are hashed with SipHash (CPython's hash of a bytes
  object on 64-bit builds: a keyed pseudo-random function, 64 bits out, at C speed), or with
  BLAKE2b cut to 64 bits where the interpreter hashes bytes otherwise. No structure of the
  input survives either, so the chance that any two of ``n`` distinct states share a
  fingerprint is bounded by ``n(n-1)/2 / 2**64``: the bound every run reports.

SipHash's key is drawn afresh by each interpreter (``PYTHONHASHSEED`` fixes it), much as TLC
draws its fingerprint polynomial: which states are stored, in which order, and therefore every
count and trace, are the same in every run; only in the event the bound measures, a
collision, would two runs differ, and a rerun does not repeat it.

A system that cannot encode its states (a plain-Python model with arbitrary values) is
stored exactly instead; see ``TransitionSystem.encoder``.

>>> encode = encoder([(0, 1), (-3, 0), (0, 300)])
>>> encode((1, -1, 300)) != encode((1, -2, 300))
True
>>> fp = fingerprint(encode)
>>> fp((1, -1, 300)) == fp((1, -1, 300)) != fp((1, -2, 300))
True
"""

from __future__ import annotations

import struct
import sys
from hashlib import blake2b
from typing import Callable, Sequence

BITS = 64
_SIPHASH = sys.hash_info.algorithm.startswith("siphash") and sys.hash_info.hash_bits == 64

# struct formats from narrowest to widest: (format, lowest, highest).
_FORMATS = [(f, lo, hi) for f, bits in (("B", 8), ("H", 16), ("I", 32), ("Q", 64))
            for f, lo, hi in ((f, 0, 2 ** bits - 1), (f.lower(), -2 ** (bits - 1),
                                                       2 ** (bits - 1) - 1))]


def slot_format(lo: int, hi: int) -> str | None:
    """The narrowest struct format holding every integer in ``lo..hi``, or None if none
    does (wider than 64 bits)."""
    for fmt, flo, fhi in _FORMATS:
        if flo <= lo and hi <= fhi:
            return fmt
    return None


def encoder(ranges: Sequence[tuple[int, int]]) -> Callable[[tuple], bytes]:
    """A function packing a tuple whose k-th value lies in ``ranges[k]`` into bytes,
    injectively. Slots too wide for 64 bits are written at a fixed width of their own."""
    formats = [slot_format(lo, hi) for lo, hi in ranges]
    if all(formats):
        pack = struct.Struct("<" + "".join(formats)).pack
        encode = lambda state: pack(*state)  # noqa: E731
        encode.pack = pack  # lets ``fingerprint`` skip one call per state
        return encode
    widths = [None if f else max(abs(lo), abs(hi)).bit_length() // 8 + 1
              for f, (lo, hi) in zip(formats, ranges)]

    def encode(state) -> bytes:
        return b"".join(
            struct.pack("<" + f, v) if f else v.to_bytes(w, "little", signed=True)
            for f, w, v in zip(formats, widths, state))
    return encode


def fingerprint(encode: Callable[[object], bytes]) -> Callable[[object], int | bytes]:
    """A function giving a state's 64-bit fingerprint from its encoding.

    (CPython maps a hash of -1 to -2, so two of the 2**64 values coincide: a bias of
    2**-127 per pair, far below the bound.)
    """
    pack = getattr(encode, "pack", None)
    if not _SIPHASH:
        return lambda state: blake2b(encode(state)).digest()[:8]
    if pack is not None:
        key = lambda state, _pack=pack: hash(_pack(*state))  # noqa: E731
        key.pack = pack  # a generated loop computes hash(pack(...)) itself (lang/pyexpand)
        return key
    return lambda state: hash(encode(state))


def collision_bound(n: int) -> float:
    """An upper bound on the chance that two of ``n`` distinct states share a fingerprint."""
    return n * (n - 1) / 2 / 2.0 ** BITS
