"""``kafkacheck graph``: the reachable state graph of a small configuration."""

from __future__ import annotations

import click

from ..graph import GraphTooLarge, state_graph, to_dot, to_graphml, to_json
from .config import config_option, echo as echo_config, resolve_configured
from .output import check_output, write_whole
from . import guard
from .targets import UserError, model_options, parse_settings, resolve, seconds_type

WRITERS = {"dot": to_dot, "graphml": to_graphml, "json": to_json}


@click.command("graph")
@click.argument("target")
@model_options("Graph")
@config_option
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), required=True)
@click.option("--max-states", type=click.IntRange(1, 10_000_000), default=10_000, show_default=True,
              help="Refuse spaces larger than this (exit 3).")
@click.option("--out", default=None, metavar="PATH",
              help="Write to this file instead of standard output (a new file; --force "
                   "replaces one).")
@click.option("--force", is_flag=True,
              help="Let --out replace an existing file (never an input of the run).")
@click.option("--time-limit", type=seconds_type(), default=None, metavar="SECONDS",
              help="Stop after this long (exit 3), loading and building the model included.")
@click.pass_context
def graph_command(ctx, target, params, configs, before, fmt, max_states, out, force, time_limit):
    """Write TARGET's reachable state graph (every state and labelled transition)."""
    if force and out is None:
        raise UserError("--force lets --out replace a file; give --out PATH")
    settings = parse_settings(params)
    guard.limit_memory(guard.default_memory_mb())
    with guard.deadline(time_limit):
        resolved, settings, applied = resolve_configured(target, configs, settings)
        if out is not None:
            check_output(out, "--out", inputs=[*resolved.inputs(), *configs], force=force)
        _, system = resolved.system(settings, before)
        echo_config(applied)  # once the model is built: bad input stays one line
        guard.phase = "exploring the state graph"
        try:
            graph = state_graph(system, max_states=max_states)
        except GraphTooLarge as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(3)
    guard.phase = "writing the graph"
    text = WRITERS[fmt](graph)
    if out is not None:
        write_whole(out, text)
        click.echo(f"{graph.number_of_nodes():,} states, {graph.number_of_edges():,} "
                   f"transitions written to {out}", err=True)
    else:
        click.echo(text, nl=False)
