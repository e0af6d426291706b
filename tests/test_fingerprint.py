"""Fingerprints: an injective encoding, a real 64-bit hash, and no state lost to either.

The random-model comparison of fingerprint and exact storage lives in test_lang.py beside
the random model generator, and test_checks.py runs the built-in checks with exact storage
against records made with fingerprints; here, the encoding itself.
"""

from __future__ import annotations

import itertools

import pytest

from kafkacheck.checker import bfs
from kafkacheck.checker.fingerprint import collision_bound, encoder, fingerprint, slot_format
from kafkacheck.checker.lang import Int, Model, action, always, require


class CountDown(Model):
    """0 -> -1 -> -2 -> -3: CPython's hash(-1) == hash(-2) merged the middle two states."""

    name = "countdown"

    def variables(m):
        return {"x": Int(-3, 0)}

    def init(m, s):
        s.x = 0

    @action()
    def dec(m, s):
        require(s.x > -3)
        s.x = s.x - 1

    @always
    def not_minus_three(m, s):
        return s.x != -3


def test_negative_values_are_not_merged():
    assert hash(-1) == hash(-2)          # why the tuple's own hash could not be used
    result = bfs(CountDown().compile())
    assert result.fingerprints == "64-bit"
    result.assert_violation("not_minus_three", length=3, path=["dec()"] * 3)
    assert result.distinct_states == 4


@pytest.mark.parametrize("lo, hi, fmt", [
    (0, 1, "B"), (0, 255, "B"), (0, 256, "H"), (-1, 0, "b"), (-129, 0, "h"),
    (0, 2 ** 32 - 1, "I"), (-2 ** 31, 2 ** 31 - 1, "i"), (0, 2 ** 64 - 1, "Q"),
    (-1, 2 ** 63, None), (0, 2 ** 64, None)])
def test_each_slot_gets_the_narrowest_width_holding_its_range(lo, hi, fmt):
    assert slot_format(lo, hi) == fmt


@pytest.mark.parametrize("ranges", [
    [(-3, 0), (0, 1), (0, 300)],
    [(0, 2 ** 70), (-5, 5)],                 # a slot wider than 64 bits
    [(-2 ** 63, 2 ** 63 - 1), (0, 3)],
])
def test_the_encoding_is_injective_over_the_declared_ranges(ranges):
    encode = encoder(ranges)
    corners = [sorted({lo, hi, lo + 1, hi - 1, (lo + hi) // 2}) for lo, hi in ranges]
    states = list(itertools.product(*corners))
    assert len({encode(s) for s in states}) == len(states)
    fp = fingerprint(encode)
    assert len({fp(s) for s in states}) == len(states)


def test_the_bound_is_pairs_over_two_to_the_64():
    assert collision_bound(1) == 0.0
    assert collision_bound(2 ** 32) == pytest.approx(0.5, rel=1e-6)
