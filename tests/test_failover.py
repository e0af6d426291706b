"""The failover benchmark: pinned counts, and a differential test of the modeling language.

``PlainFailover`` below is written directly from shared/bench/failover.md in plain Python,
without the modeling language; the language's compiled model must give the very same labelled
transition relation, hence the same counts, at every small size.
"""

from __future__ import annotations

import pytest

from kafkacheck.checker import ExplicitSystem, bfs, dfs
from kafkacheck.specs.failover import FailoverSpec


def spec(n, p, rf, e):
    return FailoverSpec(brokers=n, partitions=p, replication_factor=rf, max_epoch=e)


# -- an independent implementation, from the benchmark's definition ----------------------

class PlainFailover:
    """State: (alive, registered, controller, controller_epoch, leader, isr, leader_epoch)
    with alive/registered tuples indexed by broker-1, controller and leaders 0 for none,
    isr a tuple of frozensets, one per partition."""

    def __init__(self, n, p, rf, e, *, unclean=False):
        self.n, self.p, self.e = n, p, e
        self.brokers = range(1, n + 1)
        self.replicas = [[(q + i) % n + 1 for i in range(rf)] for q in range(p)]
        self.first = [q % n + 1 for q in range(p)]
        self.unclean = unclean   # a seeded bug: elect any registered replica, not an ISR one

    def initial(self):
        n, p = self.n, self.p
        return ((True,) * n, (True,) * n, 0, 0, tuple(self.first),
                tuple(frozenset(self.replicas[q]) for q in range(p)), (0,) * p)

    def next(self, state):
        alive, reg, ctl, cep, leader, isr, lep = state
        out = []

        def put(t, i, v):
            return t[:i] + (v,) + t[i + 1:]
        for b in self.brokers:
            if alive[b - 1]:
                out.append((f"crash(broker={b})",
                            (put(alive, b - 1, False), reg, ctl, cep, leader, isr, lep)))
        for b in self.brokers:
            if not alive[b - 1] and not reg[b - 1]:
                out.append((f"restart(broker={b})", (put(alive, b - 1, True),
                            put(reg, b - 1, True), ctl, cep, leader, isr, lep)))
        for b in self.brokers:
            if not alive[b - 1] and reg[b - 1]:
                out.append((f"session_expire(broker={b})",
                            (alive, put(reg, b - 1, False), 0 if ctl == b else ctl, cep,
                             leader, isr, lep)))
        for b in self.brokers:
            if ctl == 0 and alive[b - 1] and reg[b - 1] and cep < self.e:
                out.append((f"elect_controller(broker={b})",
                            (alive, reg, b, cep + 1, leader, isr, lep)))
        for q in range(self.p):
            old = leader[q]
            if ctl != 0 and alive[ctl - 1] and (old == 0 or not reg[old - 1]) \
                    and lep[q] < self.e:
                pool = self.replicas[q] if self.unclean else isr[q]
                cands = [r for r in pool if reg[r - 1] and r != old]
                if cands:
                    new_leader, new_isr = min(cands), isr[q] - {old}
                else:
                    new_leader, new_isr = 0, isr[q]
                out.append((f"elect_leader(partition={q})",
                            (alive, reg, ctl, cep, put(leader, q, new_leader),
                             put(isr, q, new_isr), put(lep, q, lep[q] + 1))))
        for q in range(self.p):
            for r in self.replicas[q]:
                ld = leader[q]
                if ld != 0 and alive[ld - 1] and r in isr[q] and r != ld and not alive[r - 1]:
                    out.append((f"shrink_isr(partition={q}, broker={r})",
                                (alive, reg, ctl, cep, leader, put(isr, q, isr[q] - {r}),
                                 lep)))
        for q in range(self.p):
            for r in self.replicas[q]:
                ld = leader[q]
                if ld != 0 and alive[ld - 1] and r not in isr[q] and alive[r - 1]:
                    out.append((f"expand_isr(partition={q}, broker={r})",
                                (alive, reg, ctl, cep, leader, put(isr, q, isr[q] | {r}),
                                 lep)))
        return out

    def leader_in_isr(self, state):
        leader, isr = state[4], state[5]
        return all(leader[q] == 0 or leader[q] in isr[q] for q in range(self.p))

    def system(self):
        return ExplicitSystem("plain-failover", init=[self.initial()], next=self.next,
                              always={"leader_in_isr": self.leader_in_isr})


def plain_from_decoded(d: dict, n: int, p: int):
    """A compiled model's decoded state in PlainFailover's shape."""
    return (tuple(d["alive"][b] for b in range(1, n + 1)),
            tuple(d["registered"][b] for b in range(1, n + 1)),
            d["controller"] or 0, d["controller_epoch"],
            tuple(d["leader"][q] or 0 for q in range(p)),
            tuple(frozenset(d["isr"][q]) for q in range(p)),
            tuple(d["leader_epoch"][q] for q in range(p)))


def labelled_graph(initial, successors):
    """Every reachable state with its sorted (label, successor) list."""
    graph, todo = {}, list(initial)
    while todo:
        s = todo.pop()
        if s in graph:
            continue
        graph[s] = sorted(successors(s), key=repr)
        todo.extend(t for _, t in graph[s] if t not in graph)
    return graph


# -- pinned counts -------------------------------------------------------------------------

def test_reference_size_3_1_2_3():
    result = bfs(spec(3, 1, 2, 3).compile())
    result.assert_holds()
    assert result.distinct_states == 4464
    assert result.depth == 21
    assert result.properties == ["leader_in_isr", "controller_elected", "leader_failed_over"]
    result.assert_example("controller_elected", path=["elect_controller(broker=1)"])
    result.assert_example("leader_failed_over", length=4)
    path = result.examples["leader_failed_over"].action_path()
    assert path[-1] == "elect_leader(partition=0)"
    final = result.examples["leader_failed_over"].final_state
    assert final["leader"][0] is not None and final["leader_epoch"][0] > 0
    assert sum(c.new_states for c in result.coverage) == 4464 - 1
    assert sum(c.fired for c in result.coverage) == result.states_generated


def test_bfs_and_dfs_agree_at_3_1_2_3():
    system = spec(3, 1, 2, 3).compile()
    b, d = bfs(system), dfs(system)
    assert b.verdict == d.verdict == "holds"
    assert b.distinct_states == d.distinct_states == 4464
    assert b.states_generated == d.states_generated
    assert set(d.examples) == {"controller_elected", "leader_failed_over"}
    assert [(c.action, c.fired) for c in b.coverage] == [(c.action, c.fired) for c in d.coverage]


def test_exact_mode_agrees_at_3_1_2_3():
    system = spec(3, 1, 2, 3).compile()
    a, b = bfs(system, exact=True), bfs(system)
    assert (a.distinct_states, a.states_per_depth) == (b.distinct_states, b.states_per_depth)


def test_the_failover_spec_validates_its_parameters():
    from kafkacheck.checker.lang import ParameterError
    with pytest.raises(ParameterError, match="replication.factor=3 exceeds brokers=2"):
        spec(2, 1, 3, 2)
    with pytest.raises(ParameterError, match="max_epoch=16 is out of range"):
        spec(3, 1, 2, 16)


# -- the differential test of the language ----------------------------------------------

SIZES = [(3, 1, 2, 3), (2, 1, 2, 2), (3, 1, 3, 2), (2, 2, 1, 2), (1, 1, 1, 3)]


@pytest.mark.parametrize("n,p,rf,e", SIZES)
def test_plain_python_implementation_gives_the_same_counts(n, p, rf, e):
    compiled = bfs(spec(n, p, rf, e).compile(), properties=["leader_in_isr"])
    plain = bfs(PlainFailover(n, p, rf, e).system())
    compiled.assert_holds()
    plain.assert_holds()
    assert compiled.distinct_states == plain.distinct_states
    assert compiled.states_per_depth == plain.states_per_depth
    assert compiled.states_generated == plain.states_generated
    if (n, p, rf, e) == (3, 1, 2, 3):
        assert plain.distinct_states == 4464


@pytest.mark.parametrize("n,p,rf,e", SIZES[:3])
def test_plain_python_implementation_gives_the_same_transitions(n, p, rf, e):
    system = spec(n, p, rf, e).compile()
    plain = PlainFailover(n, p, rf, e)

    def translated(state):
        return [(system.actions[a], plain_from_decoded(system.decode(t), n, p))
                for a, t in system.successors(state)]
    (init,) = system.initial_states()
    ours = labelled_graph([init], system.successors)
    theirs = labelled_graph([plain.initial()], plain.next)
    assert plain_from_decoded(system.decode(init), n, p) == plain.initial()
    assert len(ours) == len(theirs)
    for state in ours:
        mine = plain_from_decoded(system.decode(state), n, p)
        assert sorted(translated(state), key=repr) == theirs[mine], mine


def test_a_seeded_bug_is_refuted_by_both_implementations():
    """Electing any registered replica (not only an ISR member) breaks leader_in_isr; the
    language's model and the plain one find counterexamples of the same shortest length."""
    from kafkacheck.specs.failover import UncleanElectionFailover as Unclean

    ours = bfs(Unclean(brokers=3, partitions=1, replication_factor=2, max_epoch=3).compile())
    theirs = bfs(PlainFailover(3, 1, 2, 3, unclean=True).system())
    assert ours.violation.property == theirs.violation.property == "leader_in_isr"
    assert ours.violation.length == theirs.violation.length
    assert ours.violation.action_path() == theirs.violation.action_path()
    final = ours.violation.final_state
    assert final["leader"][0] not in final["isr"][0]
