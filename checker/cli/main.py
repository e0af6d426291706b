"""The kafkacheck command line: models, check (one target or the built-in suite), bench.

Exit codes: 0 every checked property holds (within the stated bounds); 1 a property is
violated; 2 bad input (one clear line, no traceback); 3 stopped at a limit before an answer.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version

import click

from . import guard

from ..lang import ModelError
from ..specfile import SpecError
from ..system import PropertyError
from .audit import audit_command
from .bench import bench_command
from .checking import check_command
from .exploring import explore_command
from .graphing import graph_command
from .prove import prove_command
from .quorum import quorum_command
from .unavailability import unavailability_command
from .targets import UserError, catalog


def _version() -> str:
    try:
        return version("kafkacheck")
    except PackageNotFoundError:
        return "unknown"


class _Group(click.Group):
    """The command group; an interrupt inside a command becomes ``guard.Stopped`` here, before
    click can turn it into ``Abort`` (exit 1 and a blank line)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as e:
            raise guard.Stopped(getattr(e, "reason", "interrupted"), guard.phase) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="kafkacheck", message="%(prog)s %(version)s")
def cli():
    """kafkacheck: a model checker for Apache Kafka's control plane.

    \b
    kafkacheck models                     the models, their parameters and properties
    kafkacheck check                      the built-in suite of checks
    kafkacheck check failover -p brokers=4 --format json
    kafkacheck explore ensemble           step through a model in a web browser
    """


@cli.command("models")
@click.argument("model_files", nargs=-1, metavar="[MODEL | FILE.py:Class]...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def models_command(model_files, fmt):
    """List the models with their parameters, properties and known fixes; with MODEL or
    FILE.py:Class, only those (a user's model file included)."""
    if model_files:
        from .targets import resolve
        described = []
        for spec in model_files:
            if spec in catalog():
                described.append(describe_model(spec, catalog()[spec]))
                continue
            if not (":" in spec and spec.split(":", 1)[0].endswith(".py")):
                raise UserError(f"models takes a model's name ({', '.join(sorted(catalog()))})"
                                f" or a user model as path/to/file.py:Class, not {spec!r}")
            target = resolve(spec)
            with target._user_code():
                described.append(describe_model(getattr(target.model_class, "name", None)
                                                or spec, target.model_class))
    else:
        described = [describe_model(name, cls) for name, cls in sorted(catalog().items())]
    if fmt == "json":
        import json
        click.echo(json.dumps({"models": described}, indent=2))
        return
    for m in described:
        click.echo(f"{m['name']}: {m['doc']}")
        click.echo("  parameters:")
        for p in m["params"]:
            click.echo(f"    {p['name']:<34} default {_value(p['default']):<8} "
                       f"{_allowed(p):<14} {p['doc']}")
        click.echo("  properties:")
        for p in m["properties"]:
            click.echo(f"    {p['name']:<34} {p['kind']:<10} {_first_sentence(p['doc'])}")
        if m["fixes"]:
            click.echo("  fixes (--before FIX checks the model as Kafka was before it):")
            for f in m["fixes"]:
                click.echo(f"    {f['id']:<34} {f['doc']}")
        if m["bugs"]:
            click.echo("  bugs (--before BUG checks the model without the fixes that ended it):")
            for b in m["bugs"]:
                click.echo(f"    {b['id']:<34} before {', '.join(b['fixes'])}: {b['doc']}")
        click.echo()


def _value(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _allowed(p: dict) -> str:
    if "choices" in p:
        return "one of " + ", ".join(map(str, p["choices"]))
    if "range" in p:
        lo, hi = p["range"]
        return f">= {lo}" if hi is None else (f"<= {hi}" if lo is None else f"{lo}..{hi}")
    return p["type"]


def _first_sentence(doc: str) -> str:
    text = " ".join(doc.split("\n\n")[0].split())
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def describe_model(name: str, cls) -> dict:
    import inspect
    model = next((k for k in cls.__mro__ if "name" in vars(k)), cls)
    doc = (inspect.getdoc(model) or "").split("\n\n")[0].replace("\n", " ")
    return {
        "name": name,
        "doc": doc,
        "params": [p.describe() for p in cls.params().values()],
        "properties": [{"name": n, "kind": k, "doc": d} for n, k, d in cls.property_names()],
        "fixes": [{"id": k, "doc": v} for k, v in cls.fixes.items()],
        "bugs": [{"id": k, "fixes": list(f), "doc": d} for k, (f, d) in cls.bugs.items()],
    }


cli.add_command(audit_command)
cli.add_command(check_command)
cli.add_command(explore_command)
cli.add_command(graph_command)
cli.add_command(bench_command)
cli.add_command(prove_command)
cli.add_command(quorum_command)
cli.add_command(unavailability_command)


def main(argv=None) -> int:
    """Entry point: run the CLI, turning bad input into one line and exit code 2, and an
    interrupt (Ctrl-C, SIGTERM) or a time limit outside the engines into exit code 3."""
    restore = guard.install()
    guard.phase = "starting"
    try:
        return _main(argv)
    except KeyboardInterrupt as e:  # before or after a command ran
        return _stopped(guard.Stopped(getattr(e, "reason", "interrupted"), guard.phase))
    finally:
        restore()


def _main(argv) -> int:
    try:
        code = cli.main(args=argv, prog_name="kafkacheck", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.UsageError as e:
        click.echo(f"error: {_usage_line(e)}", err=True)
        return 2
    except click.exceptions.Abort:
        return _stopped(guard.Stopped("interrupted", guard.phase))
    except guard.Stopped as e:
        return _stopped(e)
    except (UserError, ModelError, SpecError, PropertyError) as e:
        click.echo(f"error: {_one_line(str(e))}", err=True)
        return 2
    except BrokenPipeError:
        return 0
    except MemoryError:
        click.echo(f"stopped: out of memory while {guard.phase}; no answer "
                   "(try smaller parameters or --max-states)", err=True)
        return 3
    except Exception as e:  # a bug in kafkacheck itself: say so in one line, never "violated"
        if os.environ.get("KAFKACHECK_TRACEBACK"):
            raise
        click.echo(f"internal error while {guard.phase}: {type(e).__name__}: "
                   f"{_one_line(str(e))} (a bug in kafkacheck: please report it with the "
                   "command; KAFKACHECK_TRACEBACK=1 shows where)", err=True)
        return 3


def _stopped(e: "guard.Stopped") -> int:
    why = "stopped at the time limit" if e.reason == "time_limit" else "interrupted"
    click.echo(f"{why} while {e.during}, before any answer", err=True)
    return 3


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _usage_line(e: click.exceptions.UsageError) -> str:
    """A usage error as one line: click's multi-line messages (a missing command, a missing
    option with its choices) are folded, and the whole help text is never printed."""
    ctx = e.ctx
    hint = f" (see: {ctx.command_path} --help)" if ctx else ""
    if type(e).__name__ == "NoArgsIsHelpError" or (ctx and isinstance(ctx.command, click.Group)
                                                   and e.format_message().startswith("Usage")):
        names = ", ".join(ctx.command.list_commands(ctx)) if ctx else ""
        return f"missing command: {ctx.command_path if ctx else 'kafkacheck'} needs one of " \
               f"{names}{hint}"
    return _one_line(e.format_message()) + hint


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
