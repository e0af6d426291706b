"""The command line on liveness and step properties: lassos in text, JSON and ITF, fairness
from the model and from --fairness, and the inputs that cannot be checked (exit 2)."""

import json
from pathlib import Path

import pytest

from kafkacheck.checker.cli import main

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "requests.py"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def models(tmp_path):
    fair = tmp_path / "requests.py"
    fair.write_text(EXAMPLE.read_text())
    unfair = tmp_path / "unfair.py"
    unfair.write_text(EXAMPLE.read_text().replace('@action(fair="weak")\n    def serve',
                                                  '@action()\n    def serve'))
    assert unfair.read_text() != fair.read_text()
    return f"{fair}:Requests", f"{unfair}:Requests"


def test_the_weakly_fair_server_answers_every_request(capsys, models):
    code, out, _ = run(capsys, "check", models[0], "--liveness")
    assert code == 0
    assert "every_request_is_answered                holds" in out
    assert "Engine batch:" in out  # the default engine builds the graph too
    assert "Liveness: a second pass over the whole graph (18 edges, about" in out


def test_without_fairness_the_lasso_stutters(capsys, models):
    code, out, _ = run(capsys, "check", models[0], "--liveness", "--fairness", "none")
    assert code == 1
    assert "a lasso of 2 steps (stem 1, loop 1" in out
    assert "  2: stutter: it stays here forever" in out and "-> back to state 1" in out
    assert "Reproduce: kafkacheck check" in out and "--liveness --fairness none" in out


def test_an_unfair_server_gives_a_lasso_of_heartbeats_in_every_format(capsys, models,
                                                                      tmp_path):
    code, out, _ = run(capsys, "check", models[1], "--property", "every_request_is_answered")
    assert code == 1
    assert "  1: submit()  (the loop starts here)" in out
    assert "  3: tick()  -> back to state 1" in out
    assert "Action path: submit(); tick(); tick()" in out
    code, out, _ = run(capsys, "check", models[1], "--liveness", "--format", "json")
    v = json.loads(out)["violation"]
    assert code == 1 and v["kind"] == "leads_to" and v["loop"] == 1
    assert v["lasso"] == {"stem": 1, "loop": 2} and v["length"] == 3
    assert v["trace"][-1]["state"] == v["trace"][1]["state"]
    itf_path = tmp_path / "lasso.itf.json"
    code, _, _ = run(capsys, "check", models[1], "--liveness", "--trace-out", str(itf_path))
    itf = json.loads(itf_path.read_text())
    assert itf["#meta"]["loop"] == 1 and itf["loop"] == 1
    assert itf["#meta"]["loop_action"] == "tick()"
    assert len(itf["states"]) == 3  # the repeated state is not written twice


def test_strong_fairness_everywhere_also_answers(capsys, models):
    code, _, _ = run(capsys, "check", models[1], "--liveness", "--fairness", "strong")
    assert code == 0
    code, _, _ = run(capsys, "check", models[1], "--liveness", "--engine", "dfs")
    assert code == 1


def test_liveness_is_named_when_it_is_not_checked(capsys, models):
    code, out, _ = run(capsys, "check", models[1])
    assert code == 0
    assert "Note: liveness properties not checked: every_request_is_answered" in out
    code, out, _ = run(capsys, "check", models[1], "--format", "json")
    assert json.loads(out)["unchecked"] == ["every_request_is_answered"]


@pytest.mark.parametrize("extra, message", [
    (["--liveness", "--engine", "bmc"], "engine bmc cannot check liveness property"),
    (["--liveness", "--max-depth", "3"], "needs the whole reachable graph"),
    (["--fairness", "weak"], "--fairness applies to liveness properties"),
    (["--liveness", "--fairness", "sometimes"], "Invalid value for '--fairness'"),
])
def test_what_cannot_be_checked_is_one_line_and_exit_2(capsys, models, extra, message):
    code, out, err = run(capsys, "check", models[0], *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_before_a_bug_removes_its_fixes_and_says_so(capsys):
    argv = ["check", "zk-cluster", "--before", "KAFKA-2729", "--property",
            "caught_up_replica_rejoins_isr", "-p", "max_crashes=2", "-p", "max_shutdowns=0"]
    code, out, _ = run(capsys, *argv)
    assert code == 1
    assert out.splitlines()[0].endswith("; before KAFKA-6082 (for KAFKA-2729))")
    assert "a lasso of 14 steps (stem 13, loop 1)" in out
    assert "Reproduce: kafkacheck check zk-cluster -p max_crashes=2 -p max_shutdowns=0 " \
           "--before KAFKA-2729" in out
    code, out, _ = run(capsys, *argv, "--format", "json")
    data = json.loads(out)
    assert (code, data["before"], data["before_bugs"]) == \
        (1, ["KAFKA-6082"], {"KAFKA-2729": ["KAFKA-6082"]})
    code, out, _ = run(capsys, "models", "zk-cluster", "--format", "json")
    bugs = json.loads(out)["models"][0]["bugs"]
    assert [(b["id"], b["fixes"]) for b in bugs] == [("KAFKA-2729", ["KAFKA-6082"])]
