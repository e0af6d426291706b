"""The replication model: each safety property caught on a variant or a seeded bug.

The defaults, the crash and fault configurations, the four ``--before`` variants and the
missed-updates finding are pinned by specs/checks/replication*.toml (tests/test_checks.py with
bfs, tests/test_batch.py with batch); here, what each property must catch, the variants'
stories in their final states, and the model's own rules.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kafkacheck.checker import bfs
from kafkacheck.checker.engines import run_explicit
from kafkacheck.checker.lang import ParameterError, ite
from kafkacheck.model.replication import Replication
from kafkacheck.specs.catalog import MODELS
from kafkacheck.specs.replication import ReplicationSpec


def build(cls=ReplicationSpec, settings=None, before=()):
    return cls.from_settings({k: str(v).lower() if isinstance(v, bool) else str(v)
                              for k, v in (settings or {}).items()}, before=before).compile()


def check(cls=ReplicationSpec, settings=None, before=(), properties=None, engine="bfs"):
    return run_explicit(build(cls, settings, before), engine, properties=properties)


SMALL = {"replication.factor": 2, "max_writes": 2, "max_leader_epoch": 2}
THREE_RECORDS = {"replication.factor": 2, "max_writes": 3, "max_leader_epoch": 3}


def test_registered_with_its_fixes():
    assert MODELS["replication"] is ReplicationSpec
    assert set(Replication.fixes) == {"KIP-101", "KIP-279", "KAFKA-7164", "KIP-320", "KIP-903"}


def test_sometimes_properties_are_reached():
    r = check(settings=SMALL)
    r.assert_holds()
    assert r.distinct_states == 2134
    r.assert_example("record_acknowledged", length=3)
    r.assert_example("follower_truncated", length=5)
    r.assert_example("leader_changed", length=2)
    r.assert_example("isr_shrunk_and_expanded", length=5)


def test_bfs_and_batch_agree_with_three_records():
    a = check(settings=THREE_RECORDS)
    b = check(settings=THREE_RECORDS, engine="batch")
    a.assert_holds()
    assert b.engine == "batch", b.note
    assert (a.distinct_states, a.states_generated, a.depth) == \
        (b.distinct_states, b.states_generated, b.depth) == (22189, 44217, 28)


class RemovesTheLeaderFromTheIsr(ReplicationSpec):
    """Seeded bug: the controller's AlterPartition handling drops the leader itself."""

    def alter_partition(m, s, L, isr):
        super().alter_partition(s, L, isr - L)


def test_leader_in_isr_catches_a_leader_dropped_from_the_isr():
    r = check(RemovesTheLeaderFromTheIsr, SMALL, properties=["leader_in_isr"])
    r.assert_violation("leader_in_isr", length=2)


class LowersTheHw(ReplicationSpec):
    """Seeded bug: ``maybeIncrementLeaderHW`` without its "only if larger" test."""

    def maybe_increment_hw(m, s, leader):
        L = leader
        new = s.log[L].length()
        for r in m.replica:
            if r is not L:
                new = ite(s.r_isr[L].contains(r), ite(s.seen[L][r] < new, s.seen[L][r], new),
                          new)
        m.set_hw(s, L, ite(new >= 0, new, s.hw[L]))


def test_leader_hw_never_decreases_catches_a_lowered_hw():
    """A follower that truncated to its own HW (before KIP-101) fetches from a lower offset;
    without the guard the leader's HW follows it down."""
    r = check(LowersTheHw, {**SMALL, "max_writes": 1}, before=["KIP-101"],
              properties=["leader_hw_never_decreases"])
    r.assert_violation("leader_hw_never_decreases")
    check(settings={**SMALL, "max_writes": 1}, before=["KIP-101"],
          properties=["leader_hw_never_decreases"]).assert_holds()


def test_log_matching_is_refuted_before_kip_279_and_holds_after():
    r = check(settings=THREE_RECORDS, before=["KIP-279"], properties=["log_matching"])
    r.assert_violation("log_matching", length=11)
    log = r.violation.final_state["log"]
    assert log[1] == [1, 3] and log[2] == [2, 3]  # record 3 (epoch 2) after different records
    check(settings=THREE_RECORDS, properties=["log_matching"]).assert_holds()


def test_kip_101_story_a_demoted_replica_truncates_to_its_stale_hw():
    r = check(settings={"max_writes": 1}, before=["KIP-101"], properties=["acked_record_kept"])
    r.assert_violation("acked_record_kept", length=10)
    steps = r.violation.steps
    assert steps[7].state["hw"] == {1: 1, 2: 0, 3: 0}   # the followers' HW lags one fetch
    assert steps[7].state["log"][3] == [1]
    assert steps[8].action == "replica_become_leader_or_follower(replica=3, epoch=1)"
    assert steps[8].state["log"][3] == []                # truncated to its own HW
    final = r.violation.final_state
    assert final["acked"] == {1} and final["leader"] == 3 and final["r_epoch"][3] == 2


def test_kip_101_with_kip_903_a_restart_alone_does_not_lose_the_record():
    """With RF 2 the restarted follower must leave the ISR (the bounce) and fetch again
    before it rejoins (KIP-903): truncating to its HW then costs nothing."""
    check(settings={"replication.factor": 2, "max_crashes": 1}, before=["KIP-101"],
          properties=["acked_record_kept"]).assert_holds()
    r = check(settings={"replication.factor": 2, "max_crashes": 1, "max_writes": 1},
              before=["KIP-101", "KIP-903"], properties=["acked_record_kept"])
    r.assert_violation("acked_record_kept")
    assert "leader_expand_isr(leader=1, replica=2)" in r.violation.action_path()


def test_kip_279_story_the_follower_keeps_an_epoch_the_leader_never_had():
    r = check(before=["KIP-279"], properties=["committed_logs_agree"])
    r.assert_violation("committed_logs_agree", length=12)
    final = r.violation.final_state
    assert final["log"][1] == [1] and final["log"][2] == [2]
    assert final["hw"][1] == final["hw"][2] == 1
    assert final["record_epoch"] == {1: 0, 2: 1}


def test_kafka_7164_needs_a_missed_epoch():
    """Without missed updates the variant is safe: every epoch's LeaderAndIsr changes the
    leader id from the follower's point of view."""
    r = check(settings={"missed_updates": True}, before=["KAFKA-7164"],
              properties=["committed_logs_agree"])
    r.assert_violation("committed_logs_agree", length=13)
    assert "replica_become_leader_or_follower(replica=3, epoch=2)" in r.violation.action_path()
    assert not any(a.startswith("replica_become_leader_or_follower(replica=3, epoch=1)")
                   for a in r.violation.action_path())
    r = check(settings={"max_writes": 2, "replication.factor": 3, "max_leader_epoch": 2},
              before=["KAFKA-7164"], properties=["committed_logs_agree"], engine="batch")
    r.assert_holds()


def test_kip_320_story_a_leader_of_an_older_epoch_answers():
    r = check(before=["KIP-320"], properties=["isr_holds_acked"])
    r.assert_violation("isr_holds_acked", length=10)
    truncate = r.violation.steps[9]
    assert truncate.action == "follower_truncate(follower=2, leader=1)"
    assert truncate.state["r_epoch"] == {1: 0, 2: 2, 3: 0}   # the leader is in epoch 0


def test_missed_updates_keep_logs_consistent_in_3_9():
    """With missed updates 3.9 keeps the logs consistent; what breaks is the HW's count of
    ISR members (specs/checks/replication-missed-updates.toml)."""
    r = check(settings={"missed_updates": True}, engine="batch",
              properties=["committed_logs_agree", "log_matching", "acked_record_kept"])
    r.assert_holds()
    assert r.distinct_states == 616357


def test_restarted_replica_gets_the_current_epoch_and_no_old_leadership():
    """A restarted broker learns only the current epoch, and not one it leads."""
    system = build(settings={"replication.factor": 2, "max_crashes": 1, "max_writes": 1})
    r = bfs(system, properties=["acked_record_kept"])
    r.assert_holds()


@pytest.mark.parametrize("args, message", [
    (["-p", "min.insync.replicas=4"], "exceeds replication.factor"),
    (["-p", "replication.factor=9"], "out of range"),
    (["--before", "KIP-966"], "KIP-966"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    p = subprocess.run([str(Path(sys.executable).parent / "kafkacheck"), "check",
                        "replication", *args], capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_min_isr_above_rf_is_a_parameter_error():
    with pytest.raises(ParameterError):
        build(settings={"min.insync.replicas": 3, "replication.factor": 2})


# The kafkacheck side of the TLC comparison table in docs/models/replication.md: 2 records,
# epochs 0..2, no crashes; (before, replicas, property) -> (steps or None, distinct states).
TLC_TABLE = {
    ("KIP-101", 2, "hw_prefix_in_leader_isr"): (7, 164),
    ("KIP-101", 2, "hw_prefix_in_isr"): (7, 164),
    ("KIP-101", 3, "hw_prefix_in_leader_isr"): (7, 1590),
    ("KIP-101", 3, "hw_prefix_in_isr"): (7, 1590),
    ("KIP-279", 2, "hw_prefix_in_leader_isr"): (10, 516),
    ("KIP-279", 2, "hw_prefix_in_isr"): (10, 516),
    ("KIP-279", 3, "hw_prefix_in_leader_isr"): (11, 15568),
    ("KIP-279", 3, "hw_prefix_in_isr"): (11, 15568),
    ("KIP-320", 2, "hw_prefix_in_leader_isr"): (8, 322),
    ("KIP-320", 2, "hw_prefix_in_isr"): (8, 322),
    ("KIP-320", 3, "hw_prefix_in_leader_isr"): (9, 5807),
    ("KIP-320", 3, "hw_prefix_in_isr"): (9, 9242),
    (None, 2, "hw_prefix_in_leader_isr"): (None, 2134),
    (None, 2, "hw_prefix_in_isr"): (None, 2134),
}


@pytest.mark.parametrize("row", sorted(TLC_TABLE, key=str), ids=str)
def test_the_tlc_comparison_rows(row):
    before, replicas, prop = row
    steps, distinct = TLC_TABLE[row]
    r = check(settings={"replication.factor": replicas}, before=[before] if before else [],
              properties=[prop], engine="batch")
    if steps is None:
        r.assert_holds()
    else:
        r.assert_violation(prop, length=steps)
    assert r.distinct_states == distinct


def test_bmc_finds_the_shortest_unclean_loss_like_bfs():
    from kafkacheck.checker.symbolic import bmc
    settings = {"replication.factor": 2, "max_crashes": 1, "max_writes": 1,
                "unclean.leader.election.enable": True}
    a = check(settings=settings, properties=["acked_record_kept"])
    b = bmc(build(settings=settings), properties=["acked_record_kept"], max_depth=6)
    a.assert_violation("acked_record_kept", length=6)
    b.assert_violation("acked_record_kept", length=6)
