"""``--engine simulate``: seeded random walks, reproducible by the seed alone."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkacheck.checker import ExplicitSystem
from kafkacheck.checker.cli import main
from kafkacheck.checker.simulate import simulate
from kafkacheck.specs.catalog import MODELS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def walk_system():
    return ExplicitSystem("walk", init=[0], next=lambda n: [("up", n + 1), ("down", n - 1)],
                          always={"near": lambda n: abs(n) < 6},
                          sometimes={"three": lambda n: n == 3},
                          transition={"unit": lambda a, b: abs(a - b) == 1})


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32), st.integers(1, 30), st.integers(0, 30))
def test_the_same_seed_gives_the_same_walks(seed, traces, depth):
    a = simulate(walk_system(), seed=seed, traces=traces, depth=depth)
    b = simulate(walk_system(), seed=seed, traces=traces, depth=depth)
    assert (a.verdict, a.distinct_states, a.states_generated, a.depth) == \
        (b.verdict, b.distinct_states, b.states_generated, b.depth)
    assert [c.fired for c in a.coverage] == [c.fired for c in b.coverage]
    if a.violation is not None:
        assert a.violation.action_path() == b.violation.action_path()
        raw = [s.raw for s in a.violation.steps]
        assert abs(raw[-1]) == 6 and all(abs(x) < 6 for x in raw[:-1])
        assert all(abs(x - y) == 1 for x, y in zip(raw, raw[1:]))
    # every walk is a prefix of a longer one: walk i depends on (seed, i) only
    assert a.bound["walks"] <= traces and not a.complete


def test_coverage_counts_the_steps_taken_and_the_states_first_reached():
    r = simulate(walk_system(), seed=3, traces=20, depth=5)
    steps = sum(c.fired for c in r.coverage)
    assert steps <= 20 * 5 and sum(c.new_states for c in r.coverage) == r.distinct_states - 1


def test_a_seeded_bug_is_found_on_zk_cluster_and_reproduced(capsys):
    argv = ["check", "rolling-restart-3", "--engine", "simulate", "--seed", "1",
            "--traces", "500", "--depth", "40"]
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "by a random walk of 15 steps" in out
    assert ("Reproduce: kafkacheck check rolling-restart-3 --engine simulate --seed 1 "
            "--traces 500 --depth 40") in out
    code2, out2, _ = run(capsys, *argv)
    assert out2 == out.replace(_seconds(out), _seconds(out2))
    code, out, _ = run(capsys, *argv, "--format", "json")
    d = json.loads(out)
    assert d["engine"] == "simulate" and d["bound"]["seed"] == 1 and d["violation"]["length"] == 15


def _seconds(text):
    line = next(ln for ln in text.splitlines() if ln.startswith("Engine simulate"))
    return line[line.index("longest"):]


def test_the_fixed_model_holds_for_the_walks_and_says_it_is_not_a_proof(capsys):
    code, out, _ = run(capsys, "check", "zk-cluster", "--engine", "simulate", "--traces", "50",
                       "--depth", "30")
    assert code == 0 and "not a proof" in out
    assert "liveness properties not checked" in out


@pytest.mark.parametrize("argv, message", [
    (["check", "zk-cluster", "--seed", "3"], "apply to --engine simulate"),
    (["check", "zk-cluster", "--engine", "simulate", "--liveness"],
     "engine simulate cannot check liveness property"),
    (["check", "zk-cluster", "--engine", "simulate", "--max-states", "9"],
     "does not apply to --engine simulate"),
    (["check", "zk-cluster", "--engine", "simulate", "--traces", "0"], "Invalid value"),
])
def test_bad_simulation_input_is_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_unreached_sometimes_property_is_incomplete():
    system = MODELS["zk-cluster"]().compile()
    r = simulate(system, properties=["failover_completes"], seed=0, traces=1, depth=1)
    assert r.verdict == "incomplete" and r.stop_reason == "simulation"
