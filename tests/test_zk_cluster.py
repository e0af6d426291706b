"""The zk-cluster model: every property, every known-fix variant, the seed scenarios.

Counts, verdicts and trace lengths are pinned: a change to the model that moves one of them
must change the pin (and the spec file under specs/checks/) with it.
"""

from __future__ import annotations

import pytest

from kafkacheck.checker import bfs
from kafkacheck.checker.lang import ParameterError, when
from kafkacheck.specs.catalog import MODELS
from kafkacheck.specs.unavailability import Cut, measure
from kafkacheck.specs.zk_cluster import ZkClusterSpec


def check(settings=None, before=(), properties=None):
    spec = ZkClusterSpec.from_settings({k: str(v) for k, v in (settings or {}).items()},
                                       before=before)
    return bfs(spec.compile(), properties=properties)


def test_registered_in_catalog():
    assert MODELS["zk-cluster"] is ZkClusterSpec
    assert set(ZkClusterSpec.fixes) == {"KAFKA-6082", "KIP-380", "KAFKA-14140", "KAFKA-9189"}
    assert ZkClusterSpec.bugs["KAFKA-2729"][0] == ("KAFKA-6082",)


def test_default_holds_with_every_property():
    r = check()
    r.assert_holds()
    assert (r.distinct_states, r.depth) == (94539, 27)
    assert set(r.properties) >= {
        "one_controller_per_epoch", "shutting_down_broker_not_in_isr", "one_leader_per_epoch",
        "isr_only_election", "leader_in_isr", "leader_and_isr_in_assignment",
        "epochs_never_decrease", "restarted_broker_gets_leader_and_isr",
        "acked_write_not_lost", "failover_completes", "controlled_shutdown_completes"}
    r.assert_example("failover_completes", path=[
        "broker_crash(broker=1)", "broker_session_expire(broker=1)",
        "controller_process_broker_change(broker=3)",
        "broker_receive_leader_and_isr(broker=2)", "broker_receive_leader_and_isr(broker=3)"])


def test_controlled_shutdown_c17_six_steps():
    r = check({"max_crashes": 0}, properties=["controlled_shutdown_completes"])
    r.assert_holds()
    r.assert_example("controlled_shutdown_completes", path=[
        "broker_stop(broker=1)", "broker_send_controlled_shutdown(broker=1)",
        "controller_controlled_shutdown(controller=3, broker=1)",
        "broker_receive_leader_and_isr(broker=2)",
        "broker_receive_controlled_shutdown_response(broker=1)", "broker_exit(broker=1)"])


def test_durable_with_producer():
    r = check({"max_writes": 1, "max_shutdowns": 0})
    r.assert_holds()
    assert r.distinct_states == 8542
    r.assert_example("write_acknowledged", length=4)


def test_a_second_write_loses_an_acked_write_with_min_isr_2():
    """zk-cluster-durable holds only at max_writes=1: with two writes the followers fall
    behind and leave the ISR, and the leader, alone in it, loses the acked record in a
    power loss and is re-elected (KIP-966's last replica standing)."""
    r = check({"max_writes": 2, "max_shutdowns": 0}, properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost", length=13)
    path = r.violation.action_path()
    assert path[:7] == [
        "producer_append(partition=0, leader=1)",
        "leader_shrink_isr(partition=0, replica=2, leader=1)",
        "follower_fetch(partition=0, replica=3, leader=1)",
        "leader_complete_produce(partition=0, leader=1)",
        "producer_append(partition=0, leader=1)",
        "leader_shrink_isr(partition=0, replica=3, leader=1)",
        "broker_crash(broker=1, kept=0)"]
    assert r.distinct_states == 17468


def test_before_kafka_6082_zombie_controller_writes():
    """The zombie controller 3 (its session lost) rewrites the partition znode after the new
    controller 1 sent its LeaderAndIsr; the brokers, fenced against 3's requests, never
    learn ZooKeeper's new leader epoch."""
    r = check({"max_crashes": 2, "max_shutdowns": 0}, before={"KAFKA-6082"},
              properties=["restarted_broker_gets_leader_and_isr"])
    r.assert_violation("restarted_broker_gets_leader_and_isr", path=[
        "broker_session_expire(broker=2)", "broker_session_expire(broker=3)",
        "controller_elect(broker=1)", "broker_receive_leader_and_isr(broker=1)",
        "controller_process_broker_change(broker=3)", "broker_receive_leader_and_isr(broker=1)"])
    final = r.violation.final_state
    assert final["controller_epoch"] == 2 and final["written_by"][0] == 1
    assert final["leader_epoch"][0] == 2 and final["view_epoch"][1][0] == 0
    assert r.distinct_states == 2236


def test_kafka_6082_fixed_holds_at_the_same_bounds():
    r = check({"max_crashes": 2, "max_shutdowns": 0})
    r.assert_holds()
    assert r.distinct_states == 32833


def test_before_kafka_14140_shutting_down_follower_rejoins_the_isr():
    r = check(before={"KAFKA-14140"}, properties=["shutting_down_broker_not_in_isr"])
    r.assert_violation("shutting_down_broker_not_in_isr", path=[
        "broker_stop(broker=1)", "broker_send_controlled_shutdown(broker=1)",
        "controller_controlled_shutdown(controller=3, broker=1)",
        "broker_receive_leader_and_isr(broker=1)", "broker_receive_leader_and_isr(broker=2)",
        "leader_expand_isr(partition=0, replica=1, leader=2)"])
    assert r.violation.final_state["isr"][0] == frozenset({1, 2, 3})
    fixed = check(properties=["shutting_down_broker_not_in_isr"])
    fixed.assert_holds()
    assert fixed.distinct_states == 94539


def test_before_kip_380_bounce_unnoticed():
    r = check(before={"KIP-380"}, properties=["restarted_broker_gets_leader_and_isr"])
    r.assert_violation("restarted_broker_gets_leader_and_isr", path=[
        "broker_crash(broker=1)", "broker_session_expire(broker=1)", "broker_start(broker=1)",
        "broker_recover_logs(broker=1)", "broker_register(broker=1)",
        "controller_process_broker_change(broker=3)"])


def test_unclean_election_loses_acked_write():
    r = check({"unclean.leader.election.enable": "true", "max_writes": 1, "max_crashes": 2,
               "max_shutdowns": 0}, properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost", length=8)
    assert r.violation.action_path()[-2:] == [
        "controller_process_broker_change(broker=3)", "broker_receive_leader_and_isr(broker=3)"]
    assert r.violation.final_state["leader"][0] == 3


def test_unclean_election_breaks_isr_only_election():
    r = check({"unclean.leader.election.enable": "true", "max_crashes": 2,
               "max_shutdowns": 0}, properties=["isr_only_election"])
    r.assert_violation("isr_only_election")


def test_min_isr_1_loses_acked_write_in_one_crash():
    r = check({"min.insync.replicas": 1, "max_writes": 1, "max_shutdowns": 0},
              properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost", length=11)
    assert "broker_crash(broker=1, kept=0)" in r.violation.action_path()


def test_acks_1_loses_acked_write():
    r = check({"acks": "1", "max_writes": 1, "max_shutdowns": 0},
              properties=["acked_write_not_lost"])
    r.assert_violation("acked_write_not_lost")


def test_peter_test02_failover_and_unique_new_leader():
    settings = {"replica.assignment": "1:3", "controller": 2, "max_shutdowns": 0}
    r = check(settings)
    r.assert_holds()
    assert (r.distinct_states, r.depth) == (211, 9)
    r.assert_example("failover_completes", path=[
        "broker_crash(broker=1)", "broker_session_expire(broker=1)",
        "controller_process_broker_change(broker=2)",
        "broker_receive_leader_and_isr(broker=2)", "broker_receive_leader_and_isr(broker=3)"])
    # every reachable state: once broker 1 has failed, the leader is 3 or there is none
    system = ZkClusterSpec.from_settings({k: str(v) for k, v in settings.items()}).compile()
    seen, todo, leaders = set(), list(system.initial_states()), set()
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        d = system.decode(s)
        if d["crashes"] == 1:
            leaders.add(d["leader"][0])
        todo.extend(t for _, t in system.successors(s))
    assert len(seen) == 211
    assert leaders - {1} == {3}


@pytest.mark.parametrize("brokers,careful,verdict,length", [
    (3, False, "violated", 11), (4, False, "violated", 11),
    (3, True, "holds", None), (4, True, "violated", 24)])
def test_rolling_restart_c6(brokers, careful, verdict, length):
    r = check({"brokers": brokers, "max_crashes": 0, "max_shutdowns": brokers,
               "slow_followers": "false",
               "operator": "waits_for_isr" if careful else "one_at_a_time"},
              properties=["min_isr_while_one_broker_out"])
    assert r.verdict == verdict
    if length:
        assert r.violation.length == length


def test_bootstrap_c5():
    one = check({"bootstrap.servers": "1", "max_shutdowns": 0},
                properties=["client_reaches_cluster"])
    one.assert_violation("client_reaches_cluster", path=["broker_crash(broker=1)"])
    full = check({"bootstrap.servers": "all", "max_shutdowns": 0},
                 properties=["client_reaches_cluster"])
    full.assert_holds()
    assert full.distinct_states == 1023


def test_explicit_broker_ids():
    r = check({"brokers": "101,102,103", "max_shutdowns": 0})
    r.assert_holds()
    assert r.examples["failover_completes"].action_path()[0] == "broker_crash(broker=101)"


@pytest.mark.parametrize("key,value", [
    ("brokers", "x"), ("brokers", "9"), ("replica.assignment", "1:1"),
    ("replica.assignment", "1:7"), ("acks", "2"), ("replication.factor", "5"),
    ("bootstrap.servers", "8")])
def test_bad_parameters_are_one_line_errors(key, value):
    with pytest.raises(ParameterError):
        ZkClusterSpec.from_settings({key: value})


def test_unavailability_crash_vs_controlled_shutdown():
    crash = measure("crash", k=3)
    assert [(r.steps["best"], r.steps["worst"]) for r in crash.rows] == [(3, 11), (3, 13), (3, 11)]
    assert [(r.ms["best"], r.ms["worst"]) for r in crash.rows] == \
        [(12010, 20040), (12010, 20050), (12010, 20040)]
    assert [r.new_leader for r in crash.rows] == [2, 3, 2]
    assert all(r.failed_write for r in crash.rows)          # 2 retries < 3 steps
    assert crash.path[1] == "broker_session_expire(broker=1)"   # detection comes first
    cs = measure("controlled_shutdown", k=3)
    assert [(r.steps["best"], r.steps["worst"]) for r in cs.rows] == [(1, 13), (1, 15), (1, 13)]
    assert [r.ms["best"] for r in cs.rows] == [5, 5, 5]
    assert not any(r.failed_write for r in cs.rows)
    assert measure("crash", k=3, retries=3).rows[0].failed_write is False
    # the crash's best case: 2/3 of the session timeout, one ZooKeeper write, one request
    quick = measure("crash", k=1, timings={"zookeeper.session.timeout.ms": 6000})
    assert quick.rows[0].ms["best"] == 4010


def test_unavailability_when_the_controller_itself_crashes():
    d = measure("controller_crash", k=3)
    assert d.controller == d.leader == 1
    assert "controller_elect(broker=2)" in d.path      # a new controller elects the leaders
    assert [r.ms["best"] for r in d.rows] == [12010] * 3
    assert d.rows[0].new_leader == (1, 2)              # or the crashed broker, back first


def test_unavailability_cut_at_a_limit_gives_no_figure():
    with pytest.raises(Cut):
        measure("crash", k=3, max_states=10)


def test_unavailability_bad_input():
    with pytest.raises(ParameterError):
        measure("reboot")
    with pytest.raises(ParameterError):
        measure("crash", leader=7)


def test_a_zombie_controllers_request_does_not_hide_the_active_ones():
    """Regression: requests to a broker are coalesced; a deposed controller's LeaderAndIsr
    (older controller epoch) once replaced the active controller's pending one, so the broker
    rejected it as stale and never learned the new leader epoch (a 10-step trace with two
    session losses and a controlled shutdown). Within 10 steps it cannot happen now."""
    r = bfs(ZkClusterSpec(max_crashes=2).compile(),
            properties=["restarted_broker_gets_leader_and_isr"], max_depth=10)
    assert r.verdict == "holds" and r.bound == {"max_depth": 10}
    assert r.distinct_states == 210624


def test_the_leader_epoch_constraint_has_tlc_semantics():
    """A successor past ``max_leader_epoch`` is generated and checked but never stored: at
    the default bounds the constraint never binds (94,539 states either way); at
    ``max_leader_epoch=1`` it cuts the space (74,681 states, depth 25, when such states were
    stored and counted; 71,413, depth 24, now), the generated count unchanged."""
    r = check({"max_leader_epoch": 1})
    r.assert_holds()
    assert (r.distinct_states, r.states_generated, r.depth) == (71413, 228406, 24)


# -- step properties (they replaced the ghost outside_isr_election) -----------------------

def test_isr_only_election_is_a_step_property_ending_at_the_unclean_election():
    r = check({"unclean.leader.election.enable": "true", "max_crashes": 2,
               "max_shutdowns": 0}, properties=["isr_only_election"])
    r.assert_violation("isr_only_election")
    v = r.violation
    assert v.kind == "transition"
    before, after = v.steps[-2].state, v.steps[-1].state
    new = after["leader"][0]
    assert new is not None and new != before["leader"][0] and new not in before["isr"][0]
    assert check(properties=["isr_only_election"]).verdict == "holds"


class _NoReread(ZkClusterSpec):
    """Seeded bug: the controller writes the partition znode without re-reading it, so a
    zombie controller (before KAFKA-6082) overwrites a newer controller's epoch."""

    def _zk_write_partition(m, s, c, p, cond, leader, isr):
        commit = cond
        if m.fixed("KAFKA-6082"):
            commit = cond & (s.ctrl_epoch[c] == s.controller_epoch)
        with when(commit):
            if leader is not None:
                s.leader[p] = leader
            s.isr[p] = isr
            s.leader_epoch[p] = s.leader_epoch[p] + 1
            s.written_by[p] = s.ctrl_epoch[c]
        return cond


def test_epochs_never_decrease_is_refuted_by_a_zombie_write_without_the_reread():
    assert check(before={"KAFKA-6082"}, properties=["zk_epochs_never_decrease"]).verdict \
        == "holds"
    spec = _NoReread.from_settings({}, before={"KAFKA-6082"})
    r = bfs(spec.compile(), properties=["zk_epochs_never_decrease"])
    r.assert_violation("zk_epochs_never_decrease")
    last = r.violation.steps
    assert last[-1].state["written_by"][0] < last[-2].state["written_by"][0]
    fixed = bfs(_NoReread.from_settings({}).compile(), properties=["zk_epochs_never_decrease"])
    assert fixed.verdict == "holds"


# -- liveness ----------------------------------------------------------------------------

from kafkacheck.checker.lang import FALSE, action, require  # noqa: E402
from kafkacheck.model.zk_cluster import _pair  # noqa: E402

DURABLE = {"max_writes": 1, "max_shutdowns": 0}


class _NoExpand(ZkClusterSpec):
    """Seeded bug: leaders never re-admit a follower to the ISR."""

    @action("partition", "broker", "broker", where=lambda m, p, r, b: _pair(m, p, r, b),
            fair="weak")
    def leader_expand_isr(m, s, partition, replica, leader):
        require(FALSE)


def test_a_caught_up_follower_rejoins_the_isr_unless_expansion_is_gone():
    spec = ZkClusterSpec.from_settings({k: str(v) for k, v in DURABLE.items()})
    r = bfs(spec.compile(), properties=["caught_up_replica_rejoins_isr"])
    assert r.verdict == "holds" and r.distinct_states == 8542
    bad = _NoExpand.from_settings({k: str(v) for k, v in DURABLE.items()})
    r = bfs(bad.compile(), properties=["caught_up_replica_rejoins_isr"])
    r.assert_violation("caught_up_replica_rejoins_isr")
    v = r.violation
    assert v.is_lasso and v.kind == "leads_to"
    # the loop's states keep a caught-up follower outside the ISR
    assert all(len(st.state["isr"][0]) < 3 for st in v.steps[v.loop:])


def test_liveness_needs_fairness_on_zk_cluster():
    spec = ZkClusterSpec.from_settings({k: str(v) for k, v in DURABLE.items()})
    r = bfs(spec.compile(), properties=["caught_up_replica_rejoins_isr"], fairness="none")
    r.assert_violation("caught_up_replica_rejoins_isr", length=4)
    assert r.violation.action_path()[-1] == "stutter" and r.violation.loop == 3


def test_kafka_2729_loop_remains_when_a_live_broker_must_re_register():
    """The lasso of zk-cluster-before-kafka-2729 ends with broker 3 running but cut off from
    ZooKeeper, which the model does not owe a re-registration. Owing it (weakly fair
    everywhere) does not remove the loop: the controller then has nothing to write, so the
    leader still never hears of the zombie's write."""
    class Owed(ZkClusterSpec):
        @action("broker", fair="weak", tells="ZooKeeper")
        def broker_register(m, s, broker):
            ZkClusterSpec.broker_register(m, s, broker)

    spec = Owed.from_settings({"max_crashes": "2", "max_shutdowns": "0"},
                              before=("KAFKA-2729",))
    result = bfs(spec.compile(), properties=["caught_up_replica_rejoins_isr"])
    assert result.verdict == "violated" and result.violation.is_lasso
    assert result.violation.length == 16  # 14 when the re-registration is not owed
    final = result.violation.steps[-1].state
    assert all(final["registered"][b] for b in final["registered"]
               if final["state"][b] == "RUNNING")  # nobody left cut off
    assert final["isr"][0] != set(final["registered"])  # a caught-up follower stays out
