"""Quorum queries: Z3's answers against brute force over every subset, and the known facts.

- majorities intersect for every n (explicitly for n = 1..51, and for all n at once);
- "any half" does not for even n, with two disjoint halves as the minimal counterexample;
- the n = 1..51 table: majority n // 2 + 1, tolerated failures (n - 1) // 2;
- weighted and hierarchical (ZooKeeper) systems drawn by hypothesis: intersection, failures
  tolerated and smallest quorum equal what enumerating every subset gives;
- reconfiguration: one voter at a time is safe, two at a time can give two leaders.
"""

from __future__ import annotations

import json
from itertools import combinations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkacheck.checker.symbolic import quorum as Q


def _subsets(voters):
    for k in range(len(voters) + 1):
        for c in combinations(voters, k):
            yield frozenset(c)


def _brute(q):
    quorums = [s for s in _subsets(q.voters) if q.is_quorum(s)]
    disjoint = [(a, b) for a in quorums for b in quorums if not a & b]
    everyone = frozenset(q.voters)
    breaking = [f for f in _subsets(q.voters) if not q.is_quorum(everyone - f)]
    smallest = min(map(len, breaking))
    return {"intersect": not disjoint,
            "least_pair": min((len(a) + len(b) for a, b in disjoint), default=None),
            "tolerated": smallest - 1,
            "breaking": sorted(sorted(f) for f in breaking if len(f) == smallest),
            "min_quorum": min(map(len, quorums), default=None)}


def test_the_table_for_1_to_51():
    rows = Q.table(51)
    assert [r.n for r in rows] == list(range(1, 52))
    for r in rows:
        assert r.majority == r.n // 2 + 1
        assert r.tolerated == (r.n - 1) // 2
        assert r.majority_intersects
        assert r.half_intersects == (r.n % 2 == 1)
    # an even ensemble tolerates no more failures than the odd one just below it
    assert all(rows[2 * k - 1].tolerated == rows[2 * k - 2].tolerated for k in range(1, 26))


@pytest.mark.parametrize("n", [2, 4, 6, 10, 50])
def test_half_quorums_of_an_even_ensemble_can_be_disjoint(n):
    r = Q.intersection(Q.half(range(1, n + 1)))
    assert not r.intersect
    a, b = r.witness
    assert not a & b and len(a) == len(b) == n // 2
    assert a == frozenset(range(1, n // 2 + 1))  # the first pair in voter order


def test_for_every_n_at_once():
    assert Q.majority_intersects_for_all_n()
    assert Q.single_change_safe_for_all_n()
    n, q1, q2 = Q.double_change_counterexample()
    assert n == 1 and q1 == 1 and q2 == 2  # {1} -> {1, x, y}: {1} and {x, y}


def test_three_to_five_at_once_is_unsafe_one_at_a_time_is_safe():
    plan = Q.stepwise([1, 2, 3], [1, 2, 3, 4, 5])
    assert not plan.direct.intersect
    a, b = plan.direct.witness
    assert a <= {1, 2, 3} and b <= {1, 2, 3, 4, 5} and len(a) == 2 and len(b) == 3
    assert not a & b
    assert plan.safe and [len(y) for _, y, _ in plan.steps] == [4, 5]


@pytest.mark.parametrize("n", range(1, 8))
def test_single_voter_changes_always_intersect(n):
    voters = list(range(1, n + 1))
    assert Q.reconfiguration(Q.majority(voters), Q.majority(voters + [99])).intersect
    if n > 1:
        assert Q.reconfiguration(Q.majority(voters), Q.majority(voters[1:])).intersect


def test_zookeeper_hierarchical_example():
    # zoo.cfg's example: three groups of three; a quorum is two servers in two groups
    q = Q.hierarchical({1: [1, 2, 3], 2: [4, 5, 6], 3: [7, 8, 9]})
    assert q.is_quorum({1, 2, 4, 5}) and not q.is_quorum({1, 2, 3, 4})
    res = Q.resilience(q)
    assert res.tolerated == 3 and len(res.min_quorum) == 4 and res.best_case == 5
    assert Q.intersection(q).intersect


def test_zero_weight_groups_are_not_counted():
    props = Q.parse_properties("# zoo.cfg\nserver.1=a:2888:3888\nserver.2=b:2888:3888\n"
                               "server.3=c:2888:3888\ngroup.1=1:2\ngroup.2=3\nweight.3=0\n")
    q = Q.from_properties(props)
    assert q.kind == "hierarchical" and q.counted_groups() == 1
    assert q.is_quorum({1, 2}) and not q.is_quorum({1, 3})


def test_malformed_systems_are_rejected():
    with pytest.raises(Q.QuorumError, match="exactly one group"):
        Q.hierarchical({1: [1, 2], 2: [2, 3]})
    with pytest.raises(Q.QuorumError, match="in no group"):
        Q.hierarchical({1: [1, 2]}, {3: 1})
    with pytest.raises(Q.QuorumError):
        Q.majority([])


_weights = st.lists(st.integers(0, 3), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(_weights)
def test_weighted_systems_match_brute_force(ws):
    if not any(ws):  # no quorum at all: refused, never "every two quorums intersect"
        with pytest.raises(Q.QuorumError, match="every weight is 0"):
            Q.weighted({i + 1: w for i, w in enumerate(ws)})
        return
    q = Q.weighted({i + 1: w for i, w in enumerate(ws)})
    _check_against_brute(q)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.lists(st.integers(0, 2), min_size=9, max_size=9))
def test_hierarchical_systems_match_brute_force(sizes, ws):
    groups, v = {}, 1
    for g, size in enumerate(sizes, 1):
        groups[g] = list(range(v, v + size))
        v += size
    if not any(ws[:v - 1]):
        with pytest.raises(Q.QuorumError, match="every weight is 0"):
            Q.hierarchical(groups, {i: ws[i - 1] for i in range(1, v)})
        return
    q = Q.hierarchical(groups, {i: ws[i - 1] for i in range(1, v)})
    _check_against_brute(q)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8))
def test_thresholds_match_brute_force(n, t):
    q = Q.threshold(range(1, n + 1), min(t, n))
    _check_against_brute(q)


def _check_against_brute(q):
    want = _brute(q)
    inter = Q.intersection(q)
    assert inter.intersect == want["intersect"]
    if not inter.intersect:
        a, b = inter.witness
        assert len(a) + len(b) == want["least_pair"]
    res = Q.resilience(q, limit=100)
    assert res.tolerated == want["tolerated"]
    assert sorted(sorted(f) for f in res.breaking) == want["breaking"]
    assert (len(res.min_quorum) if res.min_quorum is not None else None) == want["min_quorum"]


# -- the quorum command -----------------------------------------------------------------------

def _run(*args):
    from kafkacheck.checker.cli.quorum import quorum_command
    return CliRunner().invoke(quorum_command, list(args))


def test_quorum_command():
    r = _run("table", "--max", "51", "--format", "json")
    assert r.exit_code == 0
    rows = json.loads(r.output)["rows"]
    assert rows[49] == {"n": 50, "parity": "even", "majority": 26, "tolerated": 24,
                        "majority_intersects": True, "half": 25, "half_intersects": False}
    r = _run("check", "--voters", "4", "--rule", "half")
    assert r.exit_code == 1 and "{1,2} and {3,4} are disjoint" in r.output
    assert _run("check", "--voters", "5").exit_code == 0
    r = _run("check", "--groups", "1:2:3", "--groups", "4:5:6", "--groups", "7:8:9",
             "--format", "json")
    assert r.exit_code == 0 and json.loads(r.output)["resilience"]["tolerated"] == 3
    r = _run("reconfig", "--from", "1,2,3", "--to", "1,2,3,4,5")
    assert r.exit_code == 1 and "one voter at a time is safe" in r.output
    for bad in (["check", "--ids", "a,b"], ["check", "--voters", "3", "--ids", "1,2"],
                ["check", "--groups", "1:2", "--groups", "2:3"], ["check", "--rule", "most"],
                ["reconfig", "--from", "1,1", "--to", "1"]):
        r = _run(*bad)
        assert r.exit_code == 2 and "Traceback" not in r.output, (bad, r.output)
