"""Symmetry reduction: the permutations, the proof that a model admits them, and the search.

The reduced search must give the unreduced verdicts and shortest trace lengths, one state
per permutation class, the same in bfs and batch; a model that treats an id apart must be
refused, naming what breaks the symmetry.
"""

from __future__ import annotations

import pytest

from kafkacheck.checker import check
from kafkacheck.checker.lang import (Bool, Domain, Int, Map, Maybe, Model, Set, action, always,
                                     any_of, require, sometimes, transition)
from kafkacheck.checker.symbolic.symmetry import NotSymmetric, verify
from kafkacheck.checker.symmetry import Symmetry
from kafkacheck.specs.catalog import MODELS


class Tokens(Model):
    """Nodes pass one token around; each remembers who gave it the token last."""

    name = "tokens"
    n = 3

    def setup(m):
        m.node = Domain("node", ids=range(1, m.n + 1), symmetric=True)

    def variables(m):
        return {"has": Map(m.node, Bool), "from_": Map(m.node, Maybe(m.node)),
                "seen": Map(m.node, Set(m.node)), "passes": Int(0, 3)}

    def init(m, s):
        s.has[m.node.of(1)] = True     # an asymmetric start is allowed

    @action("node", "node", where=lambda m, a, b: a is not b)
    def give(m, s, node, to):
        require(s.has[node] & (s.passes < 3))
        s.has[node] = False
        s.has[to] = True
        s.from_[to] = node
        s.seen[to] = s.seen[to] | node
        s.passes = s.passes + 1

    @always
    def one_token(m, s):
        return any_of(m.node, lambda x: s.has[x])

    @sometimes
    def two_givers(m, s):
        return any_of(m.node, lambda x: s.seen[x].size() >= 2)


def group(model):
    built = model.build()
    return built, Symmetry(built.layout, [d for d in built.domains.values() if d.symmetric])


def test_a_permutation_moves_map_slots_and_renames_elements():
    built, sym = group(Tokens())
    swap = sym.permutation({sym.domains[0]: (1, 0, 2)})
    state = list(built.layout.defaults)
    names = built.layout.slot_names
    state[names.index("has[1]")] = 1
    state[names.index("from_[3]")] = 0          # node 1 gave 3 the token
    state[names.index("seen[3]")] = 0b001       # {1}
    image = dict(zip(names, swap.apply(tuple(state))))
    assert image["has[2]"] == 1 and image["has[1]"] == 0
    assert image["from_[3]"] == 1 and image["seen[3]"] == 0b010
    assert sym.canon(tuple(state)) == sym.canon(swap.apply(tuple(state)))


def test_tokens_is_symmetric_and_the_reduced_search_agrees():
    built, sym = group(Tokens())
    assert verify(built, sym) > 0
    system = Tokens().compile()
    full = check(system, engine="bfs")
    for engine in ("bfs", "batch", "dfs"):
        r = check(system, engine=engine, symmetry=sym)
        assert r.engine == engine and r.verdict == full.verdict == "holds"
        assert r.distinct_states < full.distinct_states
        if engine != "dfs":
            assert r.depth == full.depth
            assert r.examples["two_givers"].length == full.examples["two_givers"].length
    counts = {e: check(system, engine=e, symmetry=sym).distinct_states
              for e in ("bfs", "batch", "dfs")}
    assert len(set(counts.values())) == 1


def test_ensemble_three_servers_one_state_per_class():
    spec = MODELS["ensemble"].from_settings({"servers": "3"})
    system = spec.compile()
    sym = Symmetry(system.built.layout, [spec.server])
    verify(system.built, sym)
    full, bfs_r, batch_r = (check(system, engine="batch"),
                            check(system, engine="bfs", symmetry=sym),
                            check(system, engine="batch", symmetry=sym))
    assert full.distinct_states == 191_187
    assert bfs_r.distinct_states == batch_r.distinct_states == 32_103
    assert bfs_r.states_generated == batch_r.states_generated
    assert bfs_r.depth == batch_r.depth == full.depth
    assert {k: v.length for k, v in batch_r.examples.items()} == \
        {k: v.length for k, v in full.examples.items()}


def test_a_violation_keeps_its_shortest_length_and_is_a_real_trace():
    spec = MODELS["ensemble"].from_settings({"servers": "4", "quorum": "half"})
    system = spec.compile()
    sym = Symmetry(system.built.layout, [spec.server])
    full = check(system, engine="bfs")
    for engine in ("bfs", "batch"):
        r = check(system, engine=engine, symmetry=sym)
        r.assert_violation(full.violation.property, length=full.violation.length)
        state = system.initial_states()[0]
        for step in r.violation.steps[1:]:   # replays in the unreduced system
            state = next(t for a, t in system.successors(state)
                         if system.actions[a] == step.action)
        assert state == r.violation.steps[-1].raw


class Special(Tokens):
    """Seeded asymmetry: node 1 may not receive the token twice."""

    @action("node", "node", where=lambda m, a, b: a is not b)
    def give(m, s, node, to):
        require(~((to == m.node.of(1)) & (s.passes > 1)))
        super().give(s, node, to)


class Ordered(Tokens):
    """Seeded asymmetry: the token only moves to a larger id."""

    @action("node", "node", where=lambda m, a, b: a is not b)
    def give(m, s, node, to):
        require(node < to)
        super().give(s, node, to)


class Filtered(Tokens):
    """Seeded asymmetry: no instance gives to node 1."""

    @action("node", "node", where=lambda m, a, b: a is not b and b.value != 0)
    def give(m, s, node, to):
        super().give(s, node, to)


class Stepped(Tokens):
    """A symmetric step property, and one that watches node 1's token."""

    @transition
    def passes_grow(m, s):
        return s.passes >= s.pre.passes

    @transition
    def node_one_keeps_it(m, s):
        return ~s.pre.has[m.node.of(1)] | s.has[m.node.of(1)] | (s.passes < 3)


class Watched(Tokens):
    """Seeded asymmetry in a property."""

    @always
    def node_one_idle(m, s):
        return s.from_[m.node.of(1)].is_none() | (s.passes < 3)


@pytest.mark.parametrize("cls, words", [
    (Special, "action give(node=1, to=2) does not commute with give(node=2, to=1) when node "
              "ids 1 and 2 are swapped"),
    (Ordered, "does not commute"),
    (Filtered, "has no counterpart"),
    (Watched, "property node_one_idle changes"),
    (Stepped, "property node_one_keeps_it changes"),
])
def test_a_model_that_treats_an_id_apart_is_refused(cls, words):
    built, sym = group(cls())
    with pytest.raises(NotSymmetric, match=words.replace("(", r"\(").replace(")", r"\)")):
        verify(built, sym)


def run(capsys, *argv):
    from kafkacheck.checker.cli import main
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_the_cli_proves_then_reduces_and_refuses_what_it_cannot(capsys, tmp_path):
    code, out = run(capsys, "check", "ensemble", "--symmetry")
    assert code == 0 and "32,103 classes of states" in out and "proved symmetric with" in out
    code, out = run(capsys, "check", "kraft-cluster", "--symmetry")
    assert code == 2 and "declares no domain symmetric" in out
    code, out = run(capsys, "check", "ensemble", "--symmetry", "--engine", "bmc")
    assert code == 2 and "not bmc" in out
    model = tmp_path / "m.py"
    model.write_text(
        "from kafkacheck.checker.lang import *\n"
        "class Pick(Model):\n"
        "    name = 'pick'\n"
        "    def setup(m):\n"
        "        m.d = Domain('d', ids=(1, 2), symmetric=True)\n"
        "    def variables(m):\n"
        "        return {'chosen': Maybe(m.d)}\n"
        "    @action('d')\n"
        "    def pick(m, s, d):\n"
        "        require(s.chosen.is_none() & (d != m.d.of(2)))\n"
        "        s.chosen = d\n")
    code, out = run(capsys, "check", f"{model}:Pick", "--symmetry")
    assert code == 2 and "the model is not symmetric: action pick(d=1)" in out
    assert len(out.strip().splitlines()) == 1


def test_symmetry_is_refused_for_liveness_properties(capsys, tmp_path):
    model = tmp_path / "ring.py"
    model.write_text(
        "from kafkacheck.checker.lang import *\n"
        "class Ring(Model):\n"
        "    name = 'ring'\n"
        "    def setup(m):\n"
        "        m.d = Domain('d', ids=(1, 2), symmetric=True)\n"
        "    def variables(m):\n"
        "        return {'on': Map(m.d, Bool)}\n"
        "    @action('d', fair='weak')\n"
        "    def flip(m, s, d):\n"
        "        s.on[d] = ~s.on[d]\n"
        "    @eventually\n"
        "    def some_on(m, s):\n"
        "        return any_of(m.d, lambda x: s.on[x])\n")
    code, out = run(capsys, "check", f"{model}:Ring", "--symmetry", "--liveness")
    assert code == 2 and "does not apply to liveness property some_on" in out
    code, out = run(capsys, "check", f"{model}:Ring", "--liveness")
    assert code == 0


def test_a_model_z3_cannot_translate_is_refused_not_a_traceback(monkeypatch):
    import z3
    from kafkacheck.checker.symbolic import symmetry as proof

    def broken(built):
        raise z3.Z3Exception("sort mismatch")
    monkeypatch.setattr(proof, "Encoding", broken)
    built, sym = group(Tokens())
    with pytest.raises(NotSymmetric, match="cannot be translated.*sort mismatch"):
        verify(built, sym)
