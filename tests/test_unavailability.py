"""Downtime after the same failure in ZooKeeper mode and in KRaft (claims C11, C12)."""

from __future__ import annotations

import pytest

from kafkacheck.checker.lang import ParameterError
from kafkacheck.specs.unavailability import measure


def best(d):
    return {(r.steps["best"], r.ms["best"]) for r in d.rows}


def test_kraft_fences_a_crashed_leader_within_its_broker_session():
    d = measure("crash", model="kraft-cluster", k=2)
    # broker_session_expire (9000 - 2000 + a 35 ms commit) then the new leader's fetch
    assert best(d) == {(2, 7040)} and d.controller is None  # dedicated controller nodes
    assert d.path == ["broker_crash(broker=1)", "broker_session_expire(broker=1)",
                      "broker_fetch_metadata(broker=2)", "broker_fetch_metadata(broker=3)"]


def test_a_kraft_controller_crash_adds_a_raft_election():
    d = measure("controller_crash", model="kraft-cluster", k=1)
    assert best(d) == {(3, 2005 + 7040)}
    assert d.path[1] == "controller_elect(voter=2)" and d.controller == 1


def test_kraft_is_faster_only_because_of_its_shorter_session_timeout():
    kraft = measure("crash", model="kraft-cluster", k=1)
    zk = measure("crash", model="zk-cluster", k=1)
    assert best(kraft) == {(2, 7040)} and best(zk) == {(3, 12010)}
    same = measure("crash", model="zk-cluster", k=1,
                   timings={"zookeeper.session.timeout.ms": 9000})
    assert best(same) == {(3, 6010)}  # equal timeouts: ZooKeeper mode is back first


def test_a_kraft_controlled_shutdown_moves_leaders_before_they_stop():
    d = measure("controlled_shutdown", model="kraft-cluster", k=2)
    assert best(d) == {(1, 5)}
    assert {r.new_leader for r in d.rows} == {2, 3}


def test_kraft_controller_crash_needs_the_active_controllers_host():
    with pytest.raises(ParameterError, match="--leader 1"):
        measure("controller_crash", model="kraft-cluster", leader=2)
