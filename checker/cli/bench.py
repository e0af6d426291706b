"""``kafkacheck bench``: distinct states per second and bytes per stored state, per engine.

Each measurement runs in a fresh Python process, so its peak memory is its own: the process
reports its resident set size before the search (the model compiled) and at its peak, and
bytes per state is the difference divided by the distinct states. The default model is the
fixed benchmark ``failover``, the same state space TLC and Spin explore; ``--check NAME``
measures a built-in check (the Kafka models' slow checks, say) as it is recorded.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import click

from ..engines import EXPLICIT
from .targets import UserError

DEFAULT_SIZES = ("3,1,2,3", "3,2,3,3", "4,2,3,3")


def _parse_size(text: str) -> tuple[int, int, int, int]:
    try:
        n, p, rf, e = (int(x) for x in text.split(","))
    except ValueError:
        raise UserError(f"--size takes N,P,RF,E (four integers), not {text!r}") from None
    return n, p, rf, e


def measure(size, engine: str, cluster: str | None = None, workers: int | None = None) -> dict:
    """Run one search in this process and report its numbers (``cluster`` and ``workers``
    for the distributed engine)."""
    from kafkacheck.checker import check
    from kafkacheck.specs.failover import FailoverSpec
    n, p, rf, e = size
    system = FailoverSpec(brokers=n, partitions=p, replication_factor=rf,
                          max_epoch=e).compile()
    where = {"cluster": cluster, "workers": workers} if cluster else {}
    return _measured({"model": "failover", "size": list(size), "engine": engine},
                     lambda: check(system, engine=engine, properties=["leader_in_isr"],
                                   **where))


def measure_check(name: str, engine: str, cluster: str | None = None,
                  workers: int | None = None) -> dict:
    """Run one built-in check in this process, as recorded, with ``engine``."""
    from kafkacheck.checker import check
    from .checking import Run
    run = Run(_check_target(name), {}, (), (), engine, None, None, None, False, False,
              cluster=cluster, workers=workers)
    options = {k: v for k, v in run.options.items() if k != "progress"}
    return _measured({"model": run.target.spec.model, "check": name, "engine": engine},
                     lambda: check(run.system, engine=engine, **options))


def _measured(row: dict, search) -> dict:
    """``row`` with the numbers of ``search()``: its result, and the growth of the peak RSS
    during it per distinct state."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = search()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {**row, "engine": result.engine,
            "verdict": result.verdict, "distinct_states": result.distinct_states,
            "states_generated": result.states_generated, "seconds": round(result.seconds, 3),
            "states_per_second": round(result.states_per_second),
            "peak_rss_mb": round(peak / 1024, 1),
            "bytes_per_state": round((peak - before) * 1024 / max(1, result.distinct_states)),
            "stored_bytes_per_state": round(result.bytes_per_state, 1),
            **_distributed(result)}


def _distributed(result) -> dict:
    """The distributed engine's figures: workers, start-up and search time, exchange."""
    d = result.distributed
    if not d:
        return {}
    search = max(d["search_seconds"], 1e-9)
    return {"workers": d["workers"], "cluster": d["cluster"],
            "startup_seconds": d["startup_seconds"], "search_seconds": round(search, 3),
            "search_states_per_second": round(result.distinct_states / search),
            "states_per_worker": d["states_per_worker"],
            "bytes_exchanged": d["bytes_exchanged"],
            "bytes_exchanged_per_state": d["bytes_exchanged_per_state"],
            "driver_bytes_per_state": round(d["driver_bytes"] / max(1, result.distinct_states),
                                            1)}


def _check_target(name: str):
    from .targets import Target, builtin_specs, resolve
    specs = {s.name: s for s in builtin_specs()}
    if name not in specs:
        raise UserError(f"--check takes a built-in check (kafkacheck check --list), not "
                        f"{name!r}")
    spec = specs[name]
    return Target(spec.name, resolve(spec.model).model_class, spec)


def _run_measure(code: str, what: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["no output"]
        raise UserError(f"benchmark {what} failed: {lines[-1]}")
    return json.loads(proc.stdout)


def _line(label: str, engine: str, r: dict, rows=()) -> str:
    if "workers" in r:
        one = next((x for x in rows if x.get("workers") == 1 and x.get("size") == r.get("size")
                    and x.get("check") == r.get("check")), r)
        speedup = r["search_states_per_second"] / max(1, one["search_states_per_second"])
        return (f"{label:<30} {engine:<5} {r['distinct_states']:>12,} states"
                f"  {r['workers']:>3} worker(s) {r['search_seconds']:>8.2f} s search"
                f" (+{r['startup_seconds']:.1f} s start) {r['search_states_per_second']:>10,}"
                f" states/s  x{speedup:.2f} of 1 worker"
                f"  {r['bytes_exchanged_per_state']:>5} B/state exchanged"
                f"  {r['driver_bytes_per_state']:>5} B/state with the driver")
    return (f"{label:<30} {engine:<5} {r['distinct_states']:>12,} states"
            f" {r['seconds']:>8.2f} s {r['states_per_second']:>10,} states/s"
            f" {r['bytes_per_state']:>5} B/state (RSS)"
            f" {r['stored_bytes_per_state']:>5} B/state stored  peak {r['peak_rss_mb']} MB")


@click.command("bench")
@click.option("--size", "sizes", multiple=True, metavar="N,P,RF,E",
              help=f"failover sizes (default: {' '.join(DEFAULT_SIZES)})")
@click.option("--engine", "engines", multiple=True, type=click.Choice(EXPLICIT),
              help=f"engines to measure (default: {', '.join(EXPLICIT)})")
@click.option("--check", "checks", multiple=True, metavar="NAME",
              help="a built-in check to measure as recorded (repeatable; with no --size, "
                   "only the checks are measured)")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Also measure the distributed engine on this Ray cluster (local, auto, "
                   "ray://HOST:PORT) with 1, 2, ... --workers workers: the scaling.")
@click.option("--workers", type=click.IntRange(1, 4096), default=None,
              help="With --cluster: the most workers measured (default: the cores).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def bench_command(sizes, engines, checks, cluster, workers, fmt):
    """Measure the engines on the failover benchmark model (or on built-in checks), one
    process per run. With --cluster, the distributed engine from 1 to N workers (and only
    the engines named with --engine beside it)."""
    rows = []
    for name in checks:
        _check_target(name)  # an unknown name is one line, before anything runs
    runs = [(engine, None, None) for engine in (engines or (() if cluster else EXPLICIT))]
    if workers is not None and cluster is None:
        raise UserError("--workers applies with --cluster (local, auto or ray://HOST:PORT)")
    if cluster is not None:
        from .checking import cluster_engine
        engine, cluster = cluster_engine(None, cluster, workers, False)
        most = workers or os.cpu_count() or 1
        runs += [(engine, cluster, w) for w in range(1, most + 1)]
    for name in checks:
        for engine, where, w in runs:
            code = ("import json,sys; from kafkacheck.checker.cli.bench import measure_check; "
                    f"print(json.dumps(measure_check({name!r}, {engine!r}, {where!r}, {w!r})))")
            rows.append(_run_measure(code, f"{name} {engine}"))
            if fmt == "text":
                click.echo(_line(name, engine, rows[-1], rows))
    for size in (sizes or (() if checks else DEFAULT_SIZES)):
        n, p, rf, e = _parse_size(size)
        for engine, where, w in runs:
            code = ("import json,sys; from kafkacheck.checker.cli.bench import measure; "
                    f"print(json.dumps(measure(({n},{p},{rf},{e}), {engine!r}, {where!r}, "
                    f"{w!r})))")
            rows.append(_run_measure(code, f"{size} {engine}"))
            if fmt == "text":
                click.echo(_line(f"failover {size}", engine, rows[-1], rows))
    if fmt == "json":
        click.echo(json.dumps({"benchmarks": rows}, indent=2))
