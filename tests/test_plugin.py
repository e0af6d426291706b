"""The pytest plugin (``pytest --kafkacheck DIR``) and the Python API (kafkacheck.testing)."""

import shutil
import subprocess
import sys
import textwrap

import pytest

from kafkacheck.checker.cli import targets
from kafkacheck.testing import BadInput, check, check_file

CHECKS = targets.checks_folder()


def pytest_run(cwd, *args):
    """pytest in a fresh process, in a folder of its own (no project config), one worker."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-p", "no:xdist", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def checks(tmp_path):
    folder = tmp_path / "checks"
    folder.mkdir()
    shutil.copy(CHECKS / "failover-3-1-2-3.toml", folder)
    shutil.copy(CHECKS / "ensemble-4-half.toml", folder)
    wrong = (CHECKS / "ensemble-4-half.toml").read_text()
    wrong = wrong.replace('name = "ensemble-4-half"', 'name = "ensemble-4-half-wrong"')
    wrong = wrong.replace("trace_length = 6", "trace_length = 5")
    (folder / "wrong.toml").write_text(wrong)
    (folder / "broken.toml").write_text('name = "broken"\nmodel = "failover"\n')
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")
    return tmp_path


def test_every_check_file_is_a_test_and_a_failure_shows_record_outcome_and_trace(checks):
    code, out = pytest_run(checks, "--kafkacheck", "checks", "-v")
    assert code == 1, out
    assert "checks/failover-3-1-2-3.toml::failover-3-1-2-3 PASSED" in out
    assert "checks/ensemble-4-half.toml::ensemble-4-half PASSED" in out
    assert "checks/wrong.toml::ensemble-4-half-wrong FAILED" in out
    assert "checks/broken.toml::broken FAILED" in out
    assert "trace of 6 steps, expected 5" in out
    assert "record:  {'verdict': 'violated'" in out
    assert "outcome: {'verdict': 'violated', 'distinct_states': 2330" in out
    assert "Action path: elect_leader(candidate=1, voters={1,2})" in out
    assert "missing required key 'expect'" in out
    assert "test_plain" not in out  # only the check files, when no test path is named
    assert "2 failed, 2 passed" in out


def test_without_the_option_nothing_changes(checks):
    code, out = pytest_run(checks, "-v")
    assert code == 0 and "test_plain.py::test_plain PASSED" in out and ".toml" not in out
    code, out = pytest_run(checks, "--kafkacheck", "checks", "test_plain.py", "-v",
                           "-k", "plain or failover")
    assert code == 0 and "test_plain PASSED" in out and "failover-3-1-2-3 PASSED" in out


def test_a_directory_that_is_not_one(checks):
    code, out = pytest_run(checks, "--kafkacheck", "nowhere")
    assert code != 0 and "--kafkacheck" in out and "not a directory" in out


def test_check_returns_the_typed_result():
    r = check("ensemble", servers=4, quorum="half", properties=["one_leader_per_epoch"])
    r.assert_violation("one_leader_per_epoch", length=6)
    assert check("failover-3-1-2-3").distinct_states == 4464
    r = check("failover", params={"replication.factor": 2}, brokers=3, max_epoch=1)
    assert r.verdict == "holds"


def test_check_files_and_bad_input_through_the_api(tmp_path):
    checked = check_file(CHECKS / "ensemble-4-half.toml")
    assert checked.as_recorded and checked.result.violation.length == 6
    with pytest.raises(BadInput, match="unknown parameter 'serverz'"):
        check("ensemble", serverz=3)
    with pytest.raises(BadInput, match="unknown model or check 'nope'"):
        check("nope")


def test_a_check_file_names_a_user_model_by_path(tmp_path, capsys):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "toy.py").write_text(textwrap.dedent('''
        from kafkacheck.checker.lang import Model, Domain, Map, Bool, Param
        from kafkacheck.checker.lang import action, always, require

        class Toy(Model):
            """Nodes that claim leadership without asking: a deliberately broken toy."""
            name = "toy"
            nodes = Param(2, lo=1, hi=3, doc="number of nodes")
            def setup(m):
                m.node = Domain("node", size=m.nodes)
            def variables(m):
                return {"leader": Map(m.node, Bool)}
            @action("node")
            def claim(m, s, node):
                """A node claims leadership."""
                require(~s.leader[node])
                s.leader[node] = True
            @always
            def one_leader(m, s):
                """At most one leader."""
                from kafkacheck.checker.lang import count_of
                return count_of(m.node, lambda n: s.leader[n]) <= 1
    '''))
    (tmp_path / "toy.toml").write_text(textwrap.dedent('''
        name = "toy-two"
        model = "models/toy.py:Toy"
        [params]
        nodes = 2
        [expect]
        verdict = "violated"
        property = "one_leader"
        trace_length = 2
        distinct_states = 4
    '''))
    from kafkacheck.checker.cli import main
    code = main(["check", str(tmp_path / "toy.toml")])
    out, err = capsys.readouterr()
    assert code == 1 and "one_leader, shortest trace 2 steps" in out, out + err
    assert check_file(tmp_path / "toy.toml").as_recorded
    code = main(["models", f"{tmp_path}/models/toy.py:Toy"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "toy: Nodes that claim leadership without asking" in out
    assert "nodes" in out and "1..3" in out and "one_leader" in out
