"""The fused expansion loop of bfs (``lang/pyexpand``) against the plain loop: the same
counts, coverage, levels, traces and examples, including the runs it hands back to the plain
loop (a violation, a write out of range, a deadlock, a state limit)."""

from __future__ import annotations

import pytest

from kafkacheck.checker import bfs, explicit
from kafkacheck.checker.lang import Int, Model, action, always, require, sometimes
from kafkacheck.specs.failover import FailoverSpec
from kafkacheck.specs.failover import UncleanElectionFailover


class Counters(Model):
    """Two counters; ``a`` may overflow (type_ok), the pair may get stuck (deadlock)."""

    name = "counters"
    check_deadlock = False
    top = 5

    def variables(m):
        return {"a": Int(0, m.top), "b": Int(0, 3)}

    def init(m, s):
        s.a = 0
        s.b = 0

    @action()
    def inc_a(m, s):
        require(s.a < 5)
        s.a = s.a + 1

    @action()
    def inc_b(m, s):
        require(s.b < 3)
        s.b = s.b + 1

    @always
    def small(m, s):
        return s.a + s.b < 9

    @sometimes
    def both_moved(m, s):
        return (s.a > 1) & (s.b > 1)


class Overflow(Counters):
    name = "overflow"
    top = 4  # inc_a writes 5 from a = 4: type_ok


class Stuck(Counters):
    name = "stuck"
    check_deadlock = True  # a = 5, b = 3 has no successor


class Bad(Counters):
    name = "bad"

    @always
    def small(m, s):
        return s.a + s.b < 6


def _systems():
    yield "failover-3-1-2-3", FailoverSpec(brokers=3, partitions=1, replication_factor=2,
                                           max_epoch=3).compile(), {}
    yield "failover-unclean", UncleanElectionFailover(brokers=3, partitions=1,
                                                      replication_factor=2,
                                                      max_epoch=2).compile(), {}
    for model in (Counters, Overflow, Stuck, Bad):
        yield model.name, model().compile(), {}
    yield "failover-max-states", FailoverSpec(brokers=3, partitions=1, replication_factor=2,
                                              max_epoch=3).compile(), {"max_states": 3000}


def _summary(r):
    trace = lambda t: None if t is None else (t.property, t.kind, t.note,  # noqa: E731
                                              [(s.action, s.raw) for s in t.steps])
    return (r.verdict, r.complete, r.distinct_states, r.states_generated, r.depth,
            r.states_per_depth, [(c.action, c.fired, c.new_states) for c in r.coverage],
            r.stop_reason, trace(r.violation),
            {k: trace(v) for k, v in sorted(r.examples.items())})


@pytest.mark.parametrize("name,system,options", list(_systems()),
                         ids=[n for n, _, _ in _systems()])
def test_fused_loop_gives_the_plain_loops_result(name, system, options, monkeypatch):
    fused = bfs(system, **options)
    monkeypatch.setattr(explicit, "_fused", lambda search: None)
    plain = bfs(system, **options)
    assert _summary(fused) == _summary(plain)


def test_the_fused_loop_runs_on_a_compiled_model(monkeypatch):
    system = Counters().compile()
    calls = []
    real = system.expander()
    system._expand = lambda *a: calls.append(1) or real(*a)
    bfs(system)
    assert calls
