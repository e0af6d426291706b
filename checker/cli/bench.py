"""``kafkacheck bench``: distinct states per second and bytes per stored state, per engine.

Each measurement runs in a fresh Python process, so its peak memory is its own: the process
reports its resident set size before the search (the model compiled) and at its peak, and
bytes per state is the difference divided by the distinct states. The default model is the
fixed benchmark ``failover``, the same state space TLC and Spin explore; ``--check NAME``
measures a built-in check (the Kafka models' slow checks, say) as it is recorded.
"""

from __future__ import annotations

import json
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


def measure(size, engine: str) -> dict:
    """Run one search in this process and report its numbers."""
    from kafkacheck.checker import check
    from kafkacheck.specs.failover import FailoverSpec
    n, p, rf, e = size
    system = FailoverSpec(brokers=n, partitions=p, replication_factor=rf,
                          max_epoch=e).compile()
    return _measured({"model": "failover", "size": list(size), "engine": engine},
                     lambda: check(system, engine=engine, properties=["leader_in_isr"]))


def measure_check(name: str, engine: str) -> dict:
    """Run one built-in check in this process, as recorded, with ``engine``."""
    from kafkacheck.checker import check
    from .checking import Run
    run = Run(_check_target(name), {}, (), (), engine, None, None, None, False, False)
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
            "stored_bytes_per_state": round(result.bytes_per_state, 1)}


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


def _line(label: str, engine: str, r: dict) -> str:
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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def bench_command(sizes, engines, checks, fmt):
    """Measure the engines on the failover benchmark model (or on built-in checks), one
    process per run."""
    rows = []
    for name in checks:
        _check_target(name)  # an unknown name is one line, before anything runs
    for name in checks:
        for engine in (engines or EXPLICIT):
            code = ("import json,sys; from kafkacheck.checker.cli.bench import measure_check; "
                    f"print(json.dumps(measure_check({name!r}, {engine!r})))")
            rows.append(_run_measure(code, f"{name} {engine}"))
            if fmt == "text":
                click.echo(_line(name, engine, rows[-1]))
    for size in (sizes or (() if checks else DEFAULT_SIZES)):
        n, p, rf, e = _parse_size(size)
        for engine in (engines or EXPLICIT):
            code = ("import json,sys; from kafkacheck.checker.cli.bench import measure; "
                    f"print(json.dumps(measure(({n},{p},{rf},{e}), {engine!r})))")
            rows.append(_run_measure(code, f"{size} {engine}"))
            if fmt == "text":
                click.echo(_line(f"failover {size}", engine, rows[-1]))
    if fmt == "json":
        click.echo(json.dumps({"benchmarks": rows}, indent=2))
