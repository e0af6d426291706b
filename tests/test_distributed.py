"""The distributed engine (``--cluster``): two Ray workers on this machine give the records of
``bfs`` (verdicts, distinct and generated counts, depths, traces, examples) on every built-in
check small enough for CI; limits cut where bfs cuts; a worker that dies ends the run with
exit 3, never a hang; without Ray, ``--cluster`` is one line and exit 2.

One local Ray serves the whole module (the engine keeps a Ray it did not start); its tests
run in one xdist group, so one process starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ray = pytest.importorskip("ray")

from kafkacheck.checker import check  # noqa: E402
from kafkacheck.checker.cli import main  # noqa: E402
from kafkacheck.checker.cli.checking import Run  # noqa: E402
from kafkacheck.checker.cli.targets import Target, builtin_specs, resolve  # noqa: E402
from kafkacheck.checker.specfile import mismatches  # noqa: E402
from kafkacheck.checker.system import LIVENESS  # noqa: E402

pytestmark = pytest.mark.xdist_group("ray")

LIMIT = 200_000
SPECS = [s for s in builtin_specs()
         if not s.slow and (s.expect.distinct_states or 0) <= LIMIT and not s.symmetry]


def _liveness(spec) -> bool:
    kinds = {n: k for n, k, _ in resolve(spec.name).model_class.property_names()}
    return any(kinds.get(n) in LIVENESS for n in spec.properties or ())


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR")
    yield
    if started:
        ray.shutdown()


def _run(spec, **kw):
    target = Target(spec.name, resolve(spec.name).model_class, spec)
    return Run(target, {}, (), (), "ray", None, None, None, False, False, cluster="local",
               workers=2, **kw).execute()


@pytest.mark.parametrize("spec", [s for s in SPECS if not _liveness(s)], ids=lambda s: s.name)
def test_two_workers_give_the_records_of_bfs(spec):
    result = _run(spec)
    assert result.engine == "ray", result.note
    assert mismatches(spec, result) == []
    assert result.distributed["workers"] == 2
    assert sum(result.distributed["states_per_worker"]) >= result.distinct_states


def test_liveness_runs_batch_and_says_so():
    spec = next(s for s in SPECS if _liveness(s))
    result = _run(spec)
    assert result.engine == "batch" and "distributed engine does not apply" in result.note
    assert result.note.endswith("batch ran instead")
    assert mismatches(spec, result) == []


def _failover(**params):
    from kafkacheck.specs.failover import FailoverSpec
    return FailoverSpec(**params).compile()


@pytest.mark.parametrize("workers", [1, 3])
def test_counts_per_level_and_coverage_equal_batch(workers):
    system = _failover(brokers=3, partitions=2, replication_factor=2, max_epoch=2)
    want = check(system, engine="batch")
    got = check(system, engine="ray", cluster="local", workers=workers)
    assert (got.verdict, got.distinct_states, got.states_generated, got.depth) == \
        (want.verdict, want.distinct_states, want.states_generated, want.depth)
    assert got.states_per_depth == want.states_per_depth
    assert got.coverage == want.coverage
    assert {n: e.action_path() for n, e in got.examples.items()} == \
        {n: e.action_path() for n, e in want.examples.items()}


@pytest.mark.parametrize("limit", [dict(max_states=1), dict(max_states=40),
                                   dict(max_states=1000), dict(max_depth=4)],
                         ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()))
def test_limits_cut_where_bfs_cuts(limit):
    system = _failover(brokers=3, partitions=1, replication_factor=2, max_epoch=3)
    want = check(system, engine="bfs", **limit)
    got = check(system, engine="ray", cluster="local", workers=2, **limit)
    assert (got.verdict, got.stop_reason, got.distinct_states, got.states_generated,
            got.depth, got.bound) == (want.verdict, want.stop_reason, want.distinct_states,
                                      want.states_generated, want.depth, want.bound)
    assert got.coverage == want.coverage


def test_json_output_stays_parseable_and_names_the_workers(capsys):
    code = main(["check", "failover", "--cluster", "local", "--workers", "2",
                 "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["engine"] == "ray" and out["distinct_states"] == 4464
    d = out["distributed"]
    assert d["workers"] == 2 and sum(d["states_per_worker"]) == 4464
    assert d["bytes_exchanged"] > 0 and d["bytes_exchanged_per_state"] > 0
    assert "--cluster local --workers 2" in out["command"]


def test_a_worker_that_dies_ends_the_run_with_exit_3():
    env = dict(os.environ, KAFKACHECK_RAY_DIE_AT_LEVEL="4")
    proc = subprocess.run([sys.executable, "-m", "kafkacheck.checker.cli", "check", "failover",
                           "--cluster", "local", "--workers", "2"], capture_output=True,
                          text=True, env=env, timeout=180)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "a worker (Ray actor) died at level 4" in proc.stdout
    assert "Verdict: incomplete: stopped at a lost worker" in proc.stdout


def test_without_ray_cluster_is_one_line_and_exit_2(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # ``import ray`` raises ImportError
    code = main(["check", "failover", "--cluster", "local"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "pip install 'kafkacheck[ray]'" in err[0]


@pytest.mark.parametrize("argv, says", [
    (["--cluster", "local", "--engine", "bfs"], "not --engine bfs"),
    (["--workers", "2"], "give --cluster local"),
    (["--cluster", "local", "--exact"], "drop --exact"),
    (["--cluster", "nowhere"], "local, auto or ray://"),
])
def test_cluster_options_refused_in_one_line(capsys, argv, says):
    code = main(["check", "failover", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0]


def test_ctrl_c_stops_with_the_statistics_so_far():
    import signal
    import time
    proc = subprocess.Popen([sys.executable, "-m", "kafkacheck.checker.cli", "check", "failover",
                             "-p", "brokers=4", "-p", "partitions=2", "-p",
                             "replication.factor=3", "-p", "max_epoch=3", "--cluster", "local",
                             "--workers", "2", "--progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        seen = ""
        while "distinct" not in seen and time.monotonic() < deadline:  # the search is on
            seen += os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 3, out
    assert "Verdict: incomplete: stopped at an interrupt" in out


def test_joining_a_cluster_that_is_not_there_is_one_line_and_exit_2():
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.run([sys.executable, "-m", "kafkacheck.checker.cli", "check", "failover",
                           "--cluster", "auto", "--workers", "2"], capture_output=True,
                          text=True, timeout=120, env=env)
    if proc.returncode == 0:  # a Ray cluster runs on this machine: the join itself worked
        assert "Engine ray: 4,464 distinct states" in proc.stdout
        return
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert err[0].startswith("error: cannot join the Ray cluster at auto: ")
