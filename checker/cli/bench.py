"""``kafkacheck bench``: distinct states per second and bytes per stored state, per engine.

Each measurement runs in a fresh Python process, so its peak memory is its own: the process
reports its resident set size before the search (the model compiled) and at its peak, and
bytes per state is the difference divided by the distinct states. The model is the fixed
benchmark ``failover``, the same state space TLC and Spin explore.
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
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = check(system, engine=engine, properties=["leader_in_isr"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"model": "failover", "size": list(size), "engine": engine,
            "verdict": result.verdict, "distinct_states": result.distinct_states,
            "states_generated": result.states_generated, "seconds": round(result.seconds, 3),
            "states_per_second": round(result.states_per_second),
            "peak_rss_mb": round(peak / 1024, 1),
            "bytes_per_state": round((peak - before) * 1024 / max(1, result.distinct_states)),
            "stored_bytes_per_state": round(result.bytes_per_state, 1)}


@click.command("bench")
@click.option("--size", "sizes", multiple=True, metavar="N,P,RF,E",
              help=f"failover sizes (default: {' '.join(DEFAULT_SIZES)})")
@click.option("--engine", "engines", multiple=True, type=click.Choice(EXPLICIT),
              help=f"engines to measure (default: {', '.join(EXPLICIT)})")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def bench_command(sizes, engines, fmt):
    """Measure the engines on the failover benchmark model, one process per run."""
    rows = []
    for size in (sizes or DEFAULT_SIZES):
        n, p, rf, e = _parse_size(size)
        for engine in (engines or EXPLICIT):
            code = ("import json,sys; from kafkacheck.checker.cli.bench import measure; "
                    f"print(json.dumps(measure(({n},{p},{rf},{e}), {engine!r})))")
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                  text=True, check=False)
            if proc.returncode != 0:
                raise UserError(f"benchmark {size} {engine} failed: "
                                f"{proc.stderr.strip().splitlines()[-1]}")
            rows.append(json.loads(proc.stdout))
            if fmt == "text":
                r = rows[-1]
                click.echo(f"failover {size:<10} {engine:<5} {r['distinct_states']:>12,} states"
                           f" {r['seconds']:>8.2f} s {r['states_per_second']:>10,} states/s"
                           f" {r['bytes_per_state']:>5} B/state (RSS)"
                           f" {r['stored_bytes_per_state']:>5} B/state stored"
                           f"  peak {r['peak_rss_mb']} MB")
    if fmt == "json":
        click.echo(json.dumps({"benchmarks": rows}, indent=2))
