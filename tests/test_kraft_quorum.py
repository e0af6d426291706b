"""kraft-quorum: Raft's safety over the default bounds, and seeded bugs that must be caught."""


from kafkacheck.checker import bfs
from kafkacheck.checker.lang import action, ite, require, when
from kafkacheck.model.kraft_quorum import VoterRole
from kafkacheck.specs.kraft_quorum import KraftQuorumSpec


# The defaults and --before KAFKA-15489 are pinned by specs/checks/kraft-quorum*.toml
# (tests/test_checks.py); here, the seeded bugs each safety property must catch.


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


class FetchNeverTruncates(KraftQuorumSpec):
    """Seeded bug: a follower appends what it lacks but never truncates a diverging suffix."""

    @action("voter", "voter", where=lambda m, a, b: a.value != b.value)
    def follower_fetch(m, s, voter, leader):
        x, ld = voter, leader
        require(m.connected(s, x, ld) & (s.role[ld] == "LEADER"))
        require((s.epoch[x] < s.epoch[ld]) |
                ((s.epoch[x] == s.epoch[ld]) & (s.role[x] != "LEADER")))
        with when(s.epoch[x] < s.epoch[ld]):
            s.voted[x] = None
        s.epoch[x] = s.epoch[ld]
        s.role[x] = "FOLLOWER"
        s.leader[x] = ld
        s.granted[x] = set()
        for k in range(m.max_records):
            with when(s.log[x].length() <= k):
                s.log[x][k] = s.log[ld][k]
        longer = s.log[x].length() > s.log[ld].length()
        s.log[x].truncate(ite(longer, s.log[x].length(), s.log[ld].length()))
        s.end_offset[ld][x] = s.log[ld].length()
        s.hw[x] = s.hw[ld]


def test_a_vote_without_the_log_test_loses_a_committed_record():
    result = bfs(VotesWithoutLogTest().compile())
    result.assert_violation("leader_completeness", length=8)
    alone = bfs(VotesWithoutLogTest().compile(), properties=["state_machine_safety"])
    alone.assert_violation("state_machine_safety", length=10)


def test_a_fetch_that_never_truncates_breaks_log_matching_and_the_applied_log():
    bfs(FetchNeverTruncates().compile(), properties=["log_matching"]) \
        .assert_violation("log_matching", length=8)
    bfs(FetchNeverTruncates().compile(), properties=["state_machine_safety"]) \
        .assert_violation("state_machine_safety", length=9)


def test_a_forgotten_vote_elects_two_leaders_in_one_epoch():
    result = bfs(ForgetsItsVote().compile(), properties=["election_safety"])
    result.assert_violation("election_safety", length=8)
    assert "voter_crash" in " ".join(result.violation.action_path())


LEMMAS = ["granted_votes_recorded", "granted_only_to_candidates", "votes_persisted",
          "leader_had_majority"]


def test_election_safety_is_proved_for_every_depth_with_four_lemmas():
    from kafkacheck.checker.symbolic.induction import prove_property
    system = KraftQuorumSpec().compile()
    assert prove_property(system, "election_safety").outcome == "not_inductive"
    r = prove_property(system, "election_safety", strengthen=LEMMAS)
    assert r.outcome == "proved", (r.reason, r.cti)
    # larger bounds too: five voters, epochs up to 4
    big = KraftQuorumSpec(voters=5, max_epoch=4, max_records=3).compile()
    assert prove_property(big, "election_safety", strengthen=LEMMAS).outcome == "proved"
