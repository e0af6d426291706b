"""The kraft-cluster model: each safety property caught on a seeded bug or a variant.

The defaults, the other configurations and the five ``--before`` variants are pinned by
specs/checks/kraft-cluster*.toml (tests/test_checks.py); here, the seeded bugs each safety
property must catch, and the variants' action paths in words.
"""

from __future__ import annotations

import pytest

from kafkacheck.checker import bfs
from kafkacheck.checker.lang import when
from kafkacheck.model import kraft_cluster as kc
from kafkacheck.specs.catalog import MODELS
from kafkacheck.specs.kraft_cluster import KraftClusterSpec


def check(cls=KraftClusterSpec, settings=None, before=(), properties=None):
    spec = cls.from_settings({k: str(v) for k, v in (settings or {}).items()}, before=before)
    return bfs(spec.compile(), properties=properties)


QUIET = {"max_writes": 0, "max_crashes": 0, "max_shutdowns": 0, "max_restarts": 0}


def test_registered_with_its_fixes():
    assert MODELS["kraft-cluster"] is KraftClusterSpec
    assert set(KraftClusterSpec.fixes) == {"KIP-966", "KAFKA-15489", "KAFKA-19522", "KIP-841",
                                           "KIP-903"}


class ElectsWithoutMajority(KraftClusterSpec):
    """Seeded bug: a candidate needs only its own vote."""

    def setup(m):
        super().setup()
        m.majority = 1


def test_one_active_controller_per_epoch_catches_a_minority_election():
    r = check(ElectsWithoutMajority, {**QUIET, "max_isolations": 1, "max_epoch": 3},
              properties=["one_active_controller_per_epoch"])
    r.assert_violation("one_active_controller_per_epoch")


class CommitsWithoutMajority(KraftClusterSpec):
    """Seeded bug: a leader commits without a connected majority at its epoch."""

    def has_majority(m, s, c):
        return s.c_up[c]


def test_one_committer_per_epoch_catches_a_cut_off_commit():
    r = check(CommitsWithoutMajority, {**QUIET, "max_isolations": 1, "max_shutdowns": 1},
              before=["KAFKA-15489"], properties=["one_committer_per_epoch"])
    r.assert_violation("one_committer_per_epoch")


def test_one_committer_per_epoch_holds_before_kafka_15489():
    """A cut-off leader stays leader but cannot commit: the real harm is brokers that reach
    only it (they see no new records), not two writers."""
    r = check(settings={**QUIET, "max_isolations": 1, "max_shutdowns": 1},
              before=["KAFKA-15489"], properties=["one_committer_per_epoch"])
    r.assert_holds()


def test_isr_or_elr_election_fails_with_unclean_election():
    r = check(settings={"max_writes": 1, "max_shutdowns": 0,
                        "unclean.leader.election.enable": True},
              before=["KIP-966"], properties=["isr_or_elr_election"])
    r.assert_violation("isr_or_elr_election")


def test_empty_isr_only_with_elr_catches_an_emptied_isr(monkeypatch):
    def buggy(isr, new_isr, elr, min_isr, elr_on):
        from kafkacheck.model.kraft_elections import empty_like
        return new_isr, empty_like(isr)
    monkeypatch.setattr(kc, "target_isr_and_elr", buggy)
    r = check(settings={"max_shutdowns": 0}, before=["KIP-966"],
              properties=["empty_isr_only_with_elr"])
    r.assert_violation("empty_isr_only_with_elr")


class ResetsLeaderEpoch(KraftClusterSpec):
    """Seeded bug: the second leader change writes leader epoch 0 again."""

    def change_partition(m, s, p, new_isr):
        super().change_partition(s, p, new_isr)
        with when(s.leader_epoch[p] > 1):
            s.leader_epoch[p] = 0


def test_leader_epochs_monotone_catches_a_reset_epoch():
    r = check(ResetsLeaderEpoch, {"max_writes": 0, "max_crashes": 2, "max_restarts": 2},
              properties=["leader_epochs_monotone"])
    r.assert_violation("leader_epochs_monotone")


STALE_LEADER = {**QUIET, "max_isolations": 1}


def test_before_kafka_15489_a_fenced_broker_keeps_leading():
    """Broker 1 follows the cut-off controller 1; controller 2 fences it; it never learns."""
    r = check(settings=STALE_LEADER, before=["KAFKA-15489"],
              properties=["fenced_broker_does_not_lead", "cut_off_leader_resigns"])
    r.assert_violation("fenced_broker_does_not_lead", length=3)
    assert r.violation.action_path()[-1] == "broker_session_expire(broker=1)"
    r = check(settings=STALE_LEADER, before=["KAFKA-15489"],
              properties=["cut_off_leader_resigns"])
    assert r.verdict == "violated" and r.violation.kind == "sometimes"


def test_check_quorum_keeps_brokers_unfenced_only_if_faster_than_the_session():
    r = check(settings=STALE_LEADER, properties=["fenced_broker_does_not_lead",
                                                 "cut_off_leader_resigns"])
    r.assert_holds()
    r.assert_example("cut_off_leader_resigns", length=2)
    r = check(settings={**STALE_LEADER, "controller.quorum.fetch.timeout.ms": 5999},
              properties=["fenced_broker_does_not_lead"])
    r.assert_holds()
    r = check(settings={**STALE_LEADER, "controller.quorum.fetch.timeout.ms": 6000},
              properties=["fenced_broker_does_not_lead"])
    r.assert_violation("fenced_broker_does_not_lead", length=3)


def test_brokers_follow_a_controller_only_with_isolations():
    """Without a cut-off controller following changes nothing: it is not tracked."""
    quiet = KraftClusterSpec.from_settings({}).compile()
    cut = KraftClusterSpec.from_settings({"max_isolations": "1"}).compile()
    assert "b_ctrl" not in quiet.layout.by_name and "b_ctrl" in cut.layout.by_name


def test_variants_pinned_paths():
    """The five variants in one place (the check files pin the same traces)."""
    r = check(settings={"max_writes": 2, "max_shutdowns": 0}, before=["KIP-966"],
              properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost", length=12)
    assert r.violation.action_path()[6:8] == ["broker_crash(broker=1)",
                                              "broker_session_expire(broker=1)"]
    r = check(settings={"max_crashes": 0}, before=["KIP-841"],
              properties=["isr_holds_only_eligible_brokers"])
    r.assert_violation("isr_holds_only_eligible_brokers", length=4)
    r = check(settings={"max_writes": 0, "max_crashes": 3, "max_restarts": 2,
                        "max_shutdowns": 0}, before=["KAFKA-19522"],
              properties=["no_fenced_leader"])
    r.assert_violation("no_fenced_leader", length=8)
    r = check(settings={"max_crashes": 2, "max_shutdowns": 0, "max_disk_losses": 1},
              before=["KIP-903"], properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost", length=13)
    assert "leader_expand_isr(partition=0, replica=3, leader=1)" in r.violation.action_path()
    r = check(settings={"max_crashes": 0, "max_shutdowns": 2, "max_disk_losses": 1},
              before=["KIP-903"], properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost", length=15)
    assert "broker_disk_loss(broker=2)" in r.violation.action_path()


def test_eligible_leader_replicas_off_is_the_pre_kip_966_model():
    """``eligible.leader.replicas.enable=false`` (the 3.9 / 4.0 default) loses the same
    write as ``--before KIP-966``."""
    r = check(settings={"max_writes": 2, "max_shutdowns": 0,
                        "eligible.leader.replicas.enable": False},
              properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost", length=12)


def test_sometimes_properties_are_reached_by_default():
    r = check()
    r.assert_holds()
    r.assert_example("broker_fenced_and_unfenced", length=5)
    r.assert_example("controlled_shutdown_completes", length=3)
    r.assert_example("controller_failover", length=1)


def test_combined_roles_need_voters_within_brokers():
    with pytest.raises(Exception):
        check(settings={"process.roles": "broker,controller", "controller.quorum.voters": 5})


def test_one_active_controller_per_epoch_is_proved_with_one_lemma():
    from kafkacheck.checker.symbolic.induction import prove_property
    system = KraftClusterSpec.from_settings({"max_isolations": "1",
                                             "max_controller_crashes": "1"}).compile()
    assert prove_property(system, "one_active_controller_per_epoch").outcome == "not_inductive"
    r = prove_property(system, "one_active_controller_per_epoch",
                       strengthen=["leader_epoch_held_by_majority"])
    assert r.outcome == "proved", (r.reason, r.cti)


def test_controller_quorum_voters_as_kafka_writes_it():
    """A count, or ``id@host:port`` entries: the same quorum under other ids checks alike."""
    ids = check(settings={"controller.quorum.voters": "4@c1:9093,5@c2:9093,6@c3:9093"})
    assert ids.distinct_states == check().distinct_states
    spec = KraftClusterSpec.from_settings({"controller.quorum.voters": "4@c1:9093,5@c2:9093"})
    assert spec.compile() and spec.voter.ids == (4, 5) and spec.majority == 2
    for bad in ("0", "6", "1,1", "1@nohost", "a,b", "1,2,3,4,5,6"):
        with pytest.raises(kc.ParameterError):
            KraftClusterSpec.from_settings({"controller.quorum.voters": bad}).compile()


def test_combined_roles_run_each_controller_on_the_broker_of_its_id():
    with pytest.raises(kc.ParameterError, match="voter 4 is not among brokers"):
        check(settings={"process.roles": "broker,controller",
                        "controller.quorum.voters": "2,3,4"})
    spec = KraftClusterSpec.from_settings({"process.roles": "broker,controller",
                                           "controller.quorum.voters": "3,2"})
    spec.compile()
    assert [spec.broker.ids[spec.host(c).value] for c in spec.voter] == [3, 2]
    assert spec.controller_on(spec.broker.of(1)) is None
