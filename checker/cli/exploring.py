"""``kafkacheck explore``: the web explorer for one target, on 127.0.0.1."""

from __future__ import annotations

import json

import click

from . import guard
from .config import config_option, echo as echo_config, resolve_configured
from .targets import UserError, model_options, parse_settings


@click.command("explore")
@click.argument("target")
@model_options("Explore")
@config_option
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="The port on 127.0.0.1 to serve on (0: a free one).")
@click.option("--trace", "trace_file", default=None, metavar="PATH",
              help="Open at the end of this saved trace (the output of --trace-format json "
                   "or itf).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
@click.pass_context
def explore_command(ctx, target, params, configs, before, port, trace_file, open_browser):
    """Step through TARGET in a web browser: its state, its enabled actions, which properties
    hold, a saved trace. Serves on 127.0.0.1 until Ctrl-C (exit 0)."""
    from ..explore import BadRequest, Explorer, make_server
    from ..explore.server import url_of
    settings = parse_settings(params)
    resolved, settings, applied = resolve_configured(target, configs, settings)
    _, system = resolved.system(settings, before)
    echo_config(applied)
    argv = " ".join(["kafkacheck explore", target, *[f"-p {p}" for p in params],
                     *[f"--before {b}" for b in before]])
    explorer = Explorer(system, command=argv)
    start = {"init": 0, "path": []}
    if trace_file is not None:
        try:
            with open(trace_file, encoding="utf-8") as f:
                doc = json.load(f)
        except OSError as e:
            raise UserError(f"--trace {trace_file}: {e.strerror or e}") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise UserError(f"--trace {trace_file} is not JSON: {e}") from None
        try:
            start = explorer.path_of_trace(doc)
        except BadRequest as e:
            raise UserError(f"--trace {trace_file}: {e}") from None
    try:
        server = make_server(explorer, port)
    except OSError as e:
        raise UserError(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e} (give another "
                        "--port, or --port 0 for a free one)") from None
    url = url_of(server, start["init"], start["path"])
    click.echo(f"kafkacheck explorer for {system.name}: {url}")
    click.echo("Ctrl-C stops it.", err=True)
    if open_browser:
        import webbrowser
        webbrowser.open(url)
    guard.phase = "serving the explorer"
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the explorer's normal end
        click.echo("stopped the explorer", err=True)
    finally:
        server.server_close()
    ctx.exit(0)
