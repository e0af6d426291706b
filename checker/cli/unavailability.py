"""``kafkacheck unavailability``: per-partition downtime after a failure, in steps and ms.

The measurement lives in ``kafkacheck.specs.unavailability``; this is its command-line face.
"""

from __future__ import annotations

import json

import click

from .targets import UserError


@click.command("unavailability")
@click.option("--model", "model", default=None,
              help="the model to measure on: zk-cluster or kraft-cluster (default: as the "
                   "--config files' process.roles says, else zk-cluster)")
@click.option("-k", "--partitions", "k", type=int, default=3, show_default=True,
              help="partitions the failing broker leads")
@click.option("--brokers", type=int, default=3, show_default=True, help="brokers (ids 1..N)")
@click.option("--leader", type=int, default=1, show_default=True,
              help="the broker that fails or shuts down")
@click.option("--retries", type=int, default=2, show_default=True,
              help="a client's retries, one attempt per protocol step")
@click.option("--fault", type=click.Choice(["all", "crash", "controller_crash",
                                            "controlled_shutdown"]),
              default="all", show_default=True)
@click.option("--timing", "timing", multiple=True, metavar="KEY=MS",
              help="a duration in milliseconds, e.g. zookeeper.session.timeout.ms=6000 or "
                   "broker.session.timeout.ms=6000")
@click.option("--max-states", type=int, default=1_000_000, show_default=True,
              help="give up (exit 3) beyond this many states")
@click.option("--config", "configs", multiple=True, metavar="FILE",
              help="Read the durations (zookeeper.session.timeout.ms, "
                   "broker.session.timeout.ms, ...) and process.roles from a Java properties "
                   "file (repeatable, later files win, --timing wins over all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def unavailability_command(ctx, model, k, brokers, leader, retries, fault, timing, max_states,
                           configs, fmt):
    """How long each partition of a failing leader is without a serving leader, in protocol
    steps and in milliseconds, best and worst over every explored run: after a crash, a crash
    of the controller's host, and during a controlled shutdown (claims C12, C14, C15, C18,
    C19)."""
    from kafkacheck.checker.lang import ParameterError
    from kafkacheck.specs.unavailability import FAULTS, STAGINGS, TIMINGS, Cut, measure
    timings = _timings(timing, TIMINGS)
    notes = []
    model, from_files = _configured(configs, model, timings, TIMINGS, notes)
    if model not in STAGINGS:
        raise UserError(f"unavailability is measured on {', '.join(STAGINGS)}; "
                        f"got --model {model!r}")
    timings = {**from_files, **timings}
    faults = FAULTS if fault == "all" else (fault,)
    try:
        results = [measure(f, model=model, k=k, brokers=brokers, leader=leader, retries=retries,
                           timings=timings, max_states=max_states) for f in faults]
    except ParameterError as e:
        raise UserError(str(e)) from None
    except Cut as e:
        _notes(notes)
        click.echo(f"incomplete: {e}", err=True)
        ctx.exit(3)
    _notes(notes)  # after the measurement: bad input stays one line
    if fmt == "json":
        click.echo(json.dumps({"model": model, "k": k, "brokers": brokers, "leader": leader,
                               "retries": retries, "timings": {**TIMINGS, **timings},
                               "results": [r.as_dict() for r in results]}, indent=2))
        return
    for r in results:
        _text(r)


def _notes(notes):
    for line in notes:
        click.echo(line, err=True)


def _configured(configs, model, given, known, notes):
    """The model (``--model``, else as the files' ``process.roles`` says) and the durations
    the ``--config`` files set; every other key they hold is listed as not used."""
    from kafkacheck.specs.config import choose_model

    from .config import read_configs, show
    config = read_configs(configs)
    if not config:
        return model or "zk-cluster", {}
    winners = config.last()
    notes.extend(config.notes)
    if model is None:
        model, why = choose_model(config.values())
        notes.append(f"config: measuring on {model} ({why})")
    out, unused = {}, []
    for key, e in winners.items():
        if key not in known:
            if key != "process.roles":
                unused.append(show(key))
            continue
        if key in given:
            continue
        try:
            out[key] = int(e.value.strip())
        except ValueError:
            out[key] = -1
        if not 0 <= out[key] <= 10 ** 9:
            raise UserError(f"{e.where}: {key}={show(e.value)}: {key} takes a whole number of "
                            "milliseconds, 0..1000000000")
    if out:
        notes.append("config: durations from the files: " + ", ".join(
            f"{k}={v} ({winners[k].where})" for k, v in out.items()))
    if unused:
        notes.append("config: not modeled by the unavailability measurement: "
                     + ", ".join(sorted(unused)))
    return model, out


def _timings(pairs, known) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in known:
            raise UserError(f"--timing {pair!r}: use KEY=MS with KEY one of "
                            f"{', '.join(known)}")
        try:
            out[key] = int(value)
        except ValueError:
            raise UserError(f"--timing {pair!r}: {value!r} is not a whole number of "
                            "milliseconds") from None
        if not 0 <= out[key] <= 10 ** 9:
            raise UserError(f"--timing {pair!r}: use 0..1000000000 ms")
    return out


def _text(r):
    ctrl = "dedicated controller nodes" if r.controller is None else \
        f"controller on broker {r.controller}"
    click.echo(f"{r.fault}: broker {r.leader} leads {r.partitions} partitions, {ctrl} "
               f"({len(r.brokers)} brokers, client retries={r.retries}; "
               f"{r.model}, {r.distinct_states} states searched)")
    click.echo(f"  {'partition':>9}  {'new leader':>10}  {'steps best':>10}  {'worst':>5}  "
               f"{'ms best':>8}  {'worst':>8}  {'write fails':>11}")
    for row in r.rows:
        click.echo(f"  {row.partition:>9}  {_s(row.new_leader):>10}  {_s(row.steps['best']):>10}"
                   f"  {_worst(row.steps['worst']):>5}  {_s(row.ms['best']):>8}  "
                   f"{_worst(row.ms['worst']):>8}  {_s(row.failed_write):>11}")
    if r.stuck_states:
        click.echo(f"  {r.stuck_states} state(s) end a run before the partition is served again")
    click.echo(f"  one shortest run: {' → '.join(r.path)}")
    click.echo("")


def _worst(v):
    return "unbounded" if v is None else str(v)


def _s(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (tuple, list)):
        return " or ".join(map(str, v))
    return str(v)
