"""Issue #9's hardening, case by case: bad input is one line and exit 2, limits and signals
stop a run with exit 3, output files never destroy anything. tests/test_fuzz.py covers the
same contract with generated inputs."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from kafkacheck.checker.cli import main

TOY = textwrap.dedent('''
    from kafkacheck.checker.lang import Model, Int, action, always, require
    {top}
    class M(Model):
        name = "toy"
        def variables(m):
            return {{"x": Int(0, 3)}}
        def init(m, s):
            {init}
        @action()
        def inc(m, s):
            require(s.x < 3)
            s.x = s.x + 1
        @always
        def small(m, s):
            return s.x < 2
''')


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err):
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


def toy(tmp_path, top="", init="s.x = 0", name="m.py"):
    path = tmp_path / name
    path.write_text(TOY.format(top=top, init=init))
    return path


# -- user model files -----------------------------------------------------------------------

@pytest.mark.parametrize("top, init, line", [
    ("import sys; sys.exit(0)", "s.x = 0", 3),
    ("class Boom(BaseException): pass\nraise Boom('no')", "s.x = 0", 4),
    ("", "raise SystemExit(0)", 9),
    ("", "raise GeneratorExit", 9),
])
def test_anything_a_model_file_raises_is_one_line_with_file_and_line(capsys, tmp_path, top,
                                                                      init, line):
    path = toy(tmp_path, top, init)
    code, out, err = run(capsys, "check", f"{path}:M")
    assert code == 2 and one_line(err) and f"{path}:{line}" in err, err


def test_a_loop_in_a_model_file_stops_at_the_time_limit(capsys, tmp_path):
    path = toy(tmp_path, init="while True: pass")
    start = time.monotonic()
    code, out, err = run(capsys, "check", f"{path}:M", "--time-limit", "0.3")
    assert code == 3 and "time limit" in err and time.monotonic() - start < 3


@pytest.mark.parametrize("kind", ["dir", "fifo"])
def test_a_model_file_that_is_not_a_file(capsys, tmp_path, kind):
    path = tmp_path / "x.py"
    os.mkdir(path) if kind == "dir" else os.mkfifo(path)
    code, _, err = run(capsys, "check", f"{path}:M")
    assert code == 2 and one_line(err)
    assert ("is a directory" if kind == "dir" else "not a regular file") in err


# -- check files ----------------------------------------------------------------------------

GOOD = 'name = "t"\nmodel = "failover"\n'


@pytest.mark.parametrize("body, says", [
    (GOOD + "[expect]\ndepth = 3\n", "[expect] missing required key 'verdict'"),
    (GOOD + "properties = [1]\n[expect]\nverdict = 'holds'\n", "property names"),
    (GOOD + "properties = []\n[expect]\nverdict = 'holds'\n", "non-empty list"),
    (GOOD + "before = [['a']]\n[expect]\nverdict = 'holds'\n", "before must be"),
    (GOOD + "max_depth = -1\n[expect]\nverdict = 'holds'\n", "max_depth must be"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
])
def test_check_file_problems_are_named(capsys, tmp_path, body, says):
    path = tmp_path / "c.toml"
    path.write_text(body)
    code, _, err = run(capsys, "check", str(path))
    assert code == 2 and one_line(err) and str(path) in err and says in err, err


def test_check_files_that_are_not_text(capsys, tmp_path):
    bad = tmp_path / "b.toml"
    bad.write_bytes(b"\xff\xfe name")
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    for path, says in ((bad, "not UTF-8"), (fifo, "not a regular file")):
        code, _, err = run(capsys, "check", str(path))
        assert code == 2 and one_line(err) and says in err


def test_a_check_file_is_reproduced_by_its_path(capsys, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('name = "failover-3-1-2-3"\nmodel = "failover"\nproperties = '
                    '["leader_in_isr"]\n[params]\nbrokers = 2\n[expect]\nverdict = "holds"\n')
    code, out, _ = run(capsys, "check", str(path), "--format", "json")
    assert code == 0 and str(path) in out


# -- output files ---------------------------------------------------------------------------

def test_trace_out_never_destroys_a_file(capsys, tmp_path):
    model = toy(tmp_path)
    source = model.read_text()
    code, _, err = run(capsys, "check", f"{model}:M", "--trace-out", str(model))
    assert code == 2 and "input of this run" in err and model.read_text() == source
    code, _, err = run(capsys, "check", f"{model}:M", "--trace-out", str(model), "--force")
    assert code == 2 and model.read_text() == source
    kept = tmp_path / "kept.txt"
    kept.write_text("mine")
    code, _, err = run(capsys, "check", f"{model}:M", "--trace-out", str(kept))
    assert code == 2 and "--force" in err and kept.read_text() == "mine"
    code, _, err = run(capsys, "check", f"{model}:M", "--trace-out", str(kept), "--force")
    assert code == 1 and "small" in kept.read_text()
    for bad in ("", str(tmp_path / "no" / "such.txt")):
        code, _, err = run(capsys, "check", f"{model}:M", "--trace-out", bad)
        assert code == 2 and one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt", "m.py"]


def test_trace_out_gets_the_umask_permissions(capsys, tmp_path):
    model = toy(tmp_path)
    old = os.umask(0o022)
    try:
        code, _, _ = run(capsys, "check", f"{model}:M", "--trace-out", str(tmp_path / "t.txt"))
    finally:
        os.umask(old)
    assert code == 1 and stat.S_IMODE((tmp_path / "t.txt").stat().st_mode) == 0o644


# -- values and usage -----------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    [], ["quorum"], ["graph", "failover"],
    ["check", "failover", "--time-limit", "inf"], ["check", "failover", "--time-limit", "nan"],
    ["prove", "failover", "--time-limit", "inf"],
    ["check", "failover", "-p", "replication.factor=2", "-p", "replication_factor=3"],
    ["check", "zk-cluster", "-p", "replica.assignment=1:2,1:2,1:2,1:2,1:2,1:2,1:2"],
    ["check", "failover", "-p", "brokers=100000000000000000000000"],
    ["quorum", "check", "--ids", "1,2", "--weight", "1=0", "--weight", "2=0"],
    ["quorum", "check", "--voters", "100000000000000000000"],
])
def test_bad_values_and_usage_are_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and one_line(err), err


def test_a_param_default_outside_its_own_range_is_refused(capsys, tmp_path):
    path = toy(tmp_path, top="from kafkacheck.checker.lang import Param")
    path.write_text(path.read_text().replace('name = "toy"', 'name = "toy"\n    n = Param(9, lo=0, hi=3)'))
    code, _, err = run(capsys, "check", f"{path}:M")
    assert code == 2 and one_line(err) and "default 9" in err


def test_prove_prints_parameters_as_check_does(capsys):
    code, out, _ = run(capsys, "prove", "failover", "--property", "leader_in_isr")
    _, check_out, _ = run(capsys, "check", "failover", "--property", "leader_in_isr")
    assert code == 0 and out.splitlines()[0] == check_out.splitlines()[0]


# -- signals --------------------------------------------------------------------------------

@pytest.mark.parametrize("sig, engine", [(signal.SIGINT, "batch"), (signal.SIGTERM, "bfs")])
def test_a_signal_stops_a_search_with_its_statistics(sig, engine):
    # big enough to be still running after 2 s with either engine (5 M states)
    p = subprocess.Popen([sys.executable, "-m", "kafkacheck.checker.cli", "check",
                          "zk-cluster", "-p", "brokers=4", "-p", "max_crashes=2",
                          "--engine", engine, "--time-limit", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    p.send_signal(sig)
    sent = time.monotonic()
    out, err = p.communicate(timeout=30)
    assert p.returncode == 3 and "Traceback" not in err
    assert time.monotonic() - sent < 2
    assert "Verdict: incomplete" in out or "interrupted while" in err


def test_a_configuration_whose_code_is_too_large_is_refused(capsys, monkeypatch):
    from kafkacheck.checker.lang import pycodegen
    monkeypatch.setattr(pycodegen, "MAX_SOURCE_BYTES", 1000)
    code, _, err = run(capsys, "check", "failover")
    assert code == 2 and one_line(err) and "choose smaller parameters" in err


def test_the_memory_limit_stops_a_search_with_its_statistics():
    p = subprocess.run([sys.executable, "-m", "kafkacheck.checker.cli", "check", "failover",
                        "-p", "brokers=9", "-p", "partitions=8", "--memory-limit", "200",
                        "--time-limit", "60"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert "stopped at the memory limit" in p.stdout or "out of memory" in p.stderr
