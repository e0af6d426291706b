"""kraft-quorum: Raft's safety over the default bounds, and seeded bugs that must be caught."""

import pytest

from kafkacheck.checker import bfs
from kafkacheck.checker.lang import action, ite, require
from kafkacheck.model.kraft_quorum import VoterRole
from kafkacheck.specs.kraft_quorum import KraftQuorumSpec


@pytest.fixture(scope="module")
def default():
    return bfs(KraftQuorumSpec().compile())


def test_defaults_hold_with_every_sanity_example(default):
    default.assert_holds()
    assert (default.distinct_states, default.depth) == (576_744, 20)
    assert {k: v.length for k, v in default.examples.items()} == {
        "leader_elected": 3, "isolated_leader_resigns": 5, "record_committed": 6,
        "controller_failover": 8}
    path = default.examples["leader_elected"].action_path()
    assert path == ["voter_become_candidate(voter=1)",
                    "voter_handle_vote_request(voter=2, candidate=1)",
                    "candidate_become_leader(voter=1)"]


def test_before_kafka_15489_an_isolated_leader_never_resigns():
    result = bfs(KraftQuorumSpec.from_settings({}, before=("KAFKA-15489",)).compile())
    assert result.verdict == "violated"
    assert result.violation.property == "isolated_leader_resigns"
    # the whole space was searched: no run has the stale leader step down while cut off
    assert result.violation.kind == "sometimes" and result.complete
    assert result.distinct_states == 404_295


class VotesWithoutLogTest(KraftQuorumSpec):
    """Seeded bug: a voter grants its vote whatever the candidate's log."""

    def log_ok(m, s, candidate, voter):
        return s.up[voter] | ~s.up[voter]


class ForgetsItsVote(KraftQuorumSpec):
    """Seeded bug: the vote is not persisted, so a restarted voter votes again in its epoch."""

    @action("voter")
    def voter_restart(m, s, voter):
        require(~s.up[voter])
        s.up[voter] = True
        s.role[voter] = ite(s.leader[voter] == voter, VoterRole.RESIGNED, VoterRole.UNATTACHED)
        s.voted[voter] = None


def test_a_vote_without_the_log_test_loses_a_committed_record():
    result = bfs(VotesWithoutLogTest().compile())
    result.assert_violation("leader_completeness", length=8)


def test_a_forgotten_vote_elects_two_leaders_in_one_epoch():
    result = bfs(ForgetsItsVote().compile(), properties=["election_safety"])
    result.assert_violation("election_safety", length=8)
    assert "voter_crash" in " ".join(result.violation.action_path())
