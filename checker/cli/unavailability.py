"""``kafkacheck unavailability``: per-partition downtime after a crash and in a controlled shutdown.

The measurement lives in ``kafkacheck.specs.unavailability``; this is its command-line face.
"""

from __future__ import annotations

import json

import click

from .targets import UserError


@click.command("unavailability")
@click.option("-k", "--partitions", "k", type=int, default=3, show_default=True,
              help="partitions the failing broker leads")
@click.option("--brokers", type=int, default=3, show_default=True, help="brokers (ids 1..N)")
@click.option("--leader", type=int, default=1, show_default=True,
              help="the broker that fails or shuts down")
@click.option("--retries", type=int, default=2, show_default=True,
              help="a client's retries, one attempt per protocol step")
@click.option("--fault", type=click.Choice(["both", "crash", "controlled_shutdown"]),
              default="both", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def unavailability_command(k, brokers, leader, retries, fault, fmt):
    """How many protocol steps each partition of a failing leader is without a serving
    leader, after a crash and during a controlled shutdown (zk-cluster model; claims C15,
    C18, C19)."""
    from kafkacheck.checker.lang import ParameterError
    from kafkacheck.specs.unavailability import FAULTS, measure
    faults = FAULTS if fault == "both" else (fault,)
    try:
        results = [measure(f, k=k, brokers=brokers, leader=leader, retries=retries)
                   for f in faults]
    except ParameterError as e:
        raise UserError(str(e)) from None
    if fmt == "json":
        click.echo(json.dumps({"model": "zk-cluster", "k": k, "brokers": brokers,
                               "leader": leader, "retries": retries,
                               "results": [r.as_dict() for r in results]}, indent=2))
        return
    for r in results:
        click.echo(f"{r.fault}: broker {r.leader} leads {r.partitions} partitions "
                   f"({len(r.brokers)} brokers, client retries={r.retries}; "
                   f"{r.distinct_states} states searched)")
        click.echo(f"  {'partition':>9}  {'new leader':>10}  {'steps down':>10}  "
                   f"{'on one run':>10}  {'write fails':>11}")
        for row in r.rows:
            click.echo(f"  {row.partition:>9}  {_s(row.new_leader):>10}  {_s(row.steps):>10}  "
                       f"{_s(row.on_shortest_path):>10}  {_s(row.failed_write):>11}")
        click.echo(f"  one shortest run: {' → '.join(r.path)}")
        click.echo("")


def _s(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)
