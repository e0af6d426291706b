"""The ZooKeeper ensemble (Zab): pinned outcomes, engine agreement, the unsafe quorum rule.

Every count below is also recorded in specs/checks/ensemble-*.toml (tests/test_checks.py runs
those, the four-server majority run included); test_check_files_record_these_outcomes keeps
the two records in step.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from kafkacheck.checker import bfs, dfs
from kafkacheck.checker.lang import ParameterError, action, require
from kafkacheck.specs.catalog import MODELS
from kafkacheck.specs.ensemble import EnsembleSpec

SAFETY = ["one_leader_per_epoch", "committed_in_later_leaders", "committed_txns_agree",
          "committed_on_quorum", "current_epoch_accepted"]
LEMMAS = ["one_epoch_leader", "epoch_leader_has_quorum", "roles_consistent"]
SANITY = ["leader_elected", "txn_committed", "commits_with_a_server_down",
          "stale_txn_superseded"]

# (params, distinct states, depth) of the configurations that hold
THREE = ({"servers": 3}, 191187, 25)
FOUR = ({"servers": 4, "max_txns": 1}, 702721, 28)

# the shortest trace to two leaders of epoch 1 when any half of 4 servers is a quorum
SPLIT_BRAIN = [
    "elect_leader(candidate=1, voters={1,2})",
    "elect_leader(candidate=3, voters={3,4})",
    "leader_new_epoch(server=1)",
    "leader_new_epoch(server=3)",
    "leader_establish(server=1)",
    "leader_establish(server=3)",
]
SPLIT_BRAIN_STATES = 2330


@pytest.fixture(scope="module")
def three():
    params, _, _ = THREE
    return bfs(EnsembleSpec(**params).compile())


def test_catalog_and_parameters():
    assert MODELS["ensemble"] is EnsembleSpec
    assert {p.key for p in EnsembleSpec.params().values()} == {
        "servers", "quorum", "max_epoch", "max_txns", "max_down"}
    m = EnsembleSpec.from_settings({"servers": "4", "quorum": "half"})
    assert (m.servers, m.quorum, m.quorum_size) == (4, "half", 2)
    assert EnsembleSpec(servers=4).quorum_size == 3
    assert EnsembleSpec(servers=5, quorum="half").quorum_size == 3
    with pytest.raises(ParameterError, match="majority"):
        EnsembleSpec.from_settings({"quorum": "most"})
    with pytest.raises(ParameterError, match="out of range"):
        EnsembleSpec(servers=0)
    assert [n for n, _, _ in EnsembleSpec.property_names()] == SAFETY + SANITY + LEMMAS


def test_three_servers_hold(three):
    _, states, depth = THREE
    three.assert_holds()
    assert (three.distinct_states, three.depth) == (states, depth)


def test_three_servers_examples(three):
    three.assert_example("leader_elected", path=[
        "elect_leader(candidate=1, voters={1,2})",
        "leader_new_epoch(server=1)",
        "leader_establish(server=1)",
    ])
    three.assert_example("txn_committed", length=6)
    three.assert_example("commits_with_a_server_down", path=[
        "crash(server=1)",
        "elect_leader(candidate=2, voters={2,3})",
        "leader_new_epoch(server=2)",
        "leader_establish(server=2)",
        "leader_propose(server=2)",
        "follower_log(follower=3, leader=2)",
        "leader_commit(server=2)",
    ])
    three.assert_example("stale_txn_superseded", length=11)
    stale = three.examples["stale_txn_superseded"].final_state
    assert stale["history"][1] == [1] and stale["committed"] == [2]


def test_dfs_agrees_with_bfs(three):
    params, states, _ = THREE
    result = dfs(EnsembleSpec(**params).compile())
    result.assert_holds()
    assert result.distinct_states == three.distinct_states == states


def test_four_servers_any_half_elect_two_leaders():
    result = bfs(EnsembleSpec(servers=4, quorum="half").compile(),
                 properties=["one_leader_per_epoch"])
    result.assert_violation("one_leader_per_epoch", length=6, path=SPLIT_BRAIN)
    assert result.distinct_states == SPLIT_BRAIN_STATES
    assert result.violation.final_state["led"] == {1: frozenset({1, 3}), 2: frozenset()}


def test_four_servers_any_half_lose_a_commit():
    """The two leaders of epoch 1 each count half the ensemble: leader 1 commits a
    transaction that leader 3, established in the same epoch, does not have."""
    result = bfs(EnsembleSpec(servers=4, quorum="half").compile(),
                 properties=["committed_in_later_leaders"])
    result.assert_violation("committed_in_later_leaders", length=9, path=SPLIT_BRAIN + [
        "leader_propose(server=1)",
        "follower_log(follower=2, leader=1)",
        "leader_commit(server=1)",
    ])
    assert result.distinct_states == 32722


def test_odd_ensembles_gain_nothing_from_half():
    """With 3 servers, "any half" needs 2 of them: the same rule and the same state space."""
    small = {"servers": 3, "max_txns": 1}
    majority = bfs(EnsembleSpec(**small).compile())
    half = bfs(EnsembleSpec(quorum="half", **small).compile())
    majority.assert_holds()
    half.assert_holds()
    assert half.distinct_states == majority.distinct_states


def test_two_servers_cannot_commit_with_one_down():
    """Seed claim C9 from the other side: with 2 servers a majority is both of them."""
    result = bfs(EnsembleSpec(servers=2).compile())
    assert result.verdict == "violated" and result.complete
    assert result.violation.property == "commits_with_a_server_down"
    assert result.violation.kind == "sometimes"
    assert set(SAFETY) <= set(result.properties)


class TrustingLeader(EnsembleSpec):
    """A seeded bug: the leader accepts ACKEPOCH from a follower more up to date than itself
    (Leader.waitForEpochAck without its "Follower is ahead of the leader" check)."""

    def ahead_of(m, s, follower, leader):
        return False


class BlindVoters(EnsembleSpec):
    """Voters elect any LOOKING candidate, ignoring (currentEpoch, lastZxid)."""

    @action("server", "voter_sets", where=lambda m, c, v: c.value in [e.value for e in v])
    def elect_leader(m, s, candidate, voters):
        for v in voters:
            require(s.up[v] & (s.state[v] == "LOOKING"))
        for v in voters:
            s.state[v] = "LEADING" if v is candidate else "FOLLOWING"
            s.phase[v] = "DISCOVERY"
            s.leader[v] = candidate


class BlindAndTrusting(BlindVoters, TrustingLeader):
    """Both safeguards removed."""


def test_leader_must_refuse_followers_ahead_of_it():
    """Server 3 logs leader 2's transaction, leaves, and joins leader 1 in discovery; its ack
    still reaches leader 2, which commits; leader 1 then establishes epoch 2 and truncates
    server 3's copy of the committed transaction."""
    result = bfs(TrustingLeader().compile())
    result.assert_violation("committed_in_later_leaders", length=12, path=[
        "elect_leader(candidate=1, voters={1,2})",
        "follower_leave(server=2)",
        "elect_leader(candidate=2, voters={2,3})",
        "leader_new_epoch(server=2)",
        "leader_establish(server=2)",
        "leader_propose(server=2)",
        "follower_log(follower=3, leader=2)",
        "follower_leave(server=3)",
        "follower_join(follower=3, leader=1)",
        "leader_new_epoch(server=1)",
        "leader_commit(server=2)",
        "leader_establish(server=1)",
    ])


def test_the_epoch_ack_check_alone_keeps_commits():
    """Within these bounds FLE's vote order is not needed for safety (it is for progress):
    the leader's refusal of followers ahead of it is what protects committed transactions."""
    blind = bfs(BlindVoters().compile())
    blind.assert_holds()
    assert blind.distinct_states == 210579
    both = bfs(BlindAndTrusting().compile())
    both.assert_violation("committed_in_later_leaders", length=10)
    assert both.violation.action_path()[5] == "leader_commit(server=1)"


@pytest.mark.parametrize("name, params, expect", [
    ("ensemble-3", THREE[0], {"verdict": "holds", "distinct_states": THREE[1],
                              "depth": THREE[2]}),
    ("ensemble-4", FOUR[0], {"verdict": "holds", "distinct_states": FOUR[1],
                             "depth": FOUR[2]}),
    ("ensemble-4-half", {"servers": 4, "quorum": "half"},
     {"verdict": "violated", "property": "one_leader_per_epoch", "trace_length": 6,
      "distinct_states": SPLIT_BRAIN_STATES, "depth": 6}),
])
def test_check_files_record_these_outcomes(name, params, expect):
    text = resources.files("kafkacheck.specs").joinpath("checks", f"{name}.toml").read_text()
    check = tomllib.loads(text)
    assert check["name"] == name and check["model"] == "ensemble"
    model = EnsembleSpec.from_settings(check["params"])
    assert model.param_values() == EnsembleSpec(**params).param_values()
    assert {k: check["expect"][k] for k in expect} == expect  # tests/test_checks.py runs it
    assert check["properties"] == (SAFETY + SANITY if expect["verdict"] == "holds"
                                   else [expect["property"]])


def test_four_servers_any_half_break_the_lemma_first():
    """Checking every property, the proof lemma one_epoch_leader breaks first: two servers
    lead epoch 1 past discovery (synchronizing) two steps before both are established."""
    result = bfs(EnsembleSpec(servers=4, quorum="half").compile())
    result.assert_violation("one_epoch_leader", length=4, path=SPLIT_BRAIN[:4])
