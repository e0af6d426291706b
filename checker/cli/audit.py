"""``kafkacheck audit FILE...``: the guarantees a configuration gives, under fault budgets.

Each cell of the table is one exhaustive search of one guarantee (an always-property) under
one fault budget, with the files' values for every parameter the model has: *holds* with
the explored bounds, *VIOLATED* with the shortest trace's length and a number that points
to its one-line summary and the command that prints it, or *n/a* when the property is
constant true under that budget (it checks nothing there). Exit 1 when any guarantee is
violated, 3 when a search stopped before an answer, else 0.
"""

from __future__ import annotations

import json

import click

from . import guard
from .config import read_configs, apply, echo
from .output import check_output, write_whole
from .targets import Target, UserError, catalog, parse_settings, reproduce


@click.command("audit")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--model", "model_name", type=click.Choice(["zk-cluster", "kraft-cluster"]),
              default=None, help="Audit as this model (default: kraft-cluster when the files "
                                 "set process.roles, else zk-cluster).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Set a model parameter the files do not give (brokers=4); overrides them.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True)
@click.option("--junit-xml", "junit_xml", default=None, metavar="PATH",
              help="Also write a JUnit XML report: one test case per guarantee and budget.")
@click.option("--force", is_flag=True, help="Let --junit-xml replace an existing file.")
@click.pass_context
def audit_command(ctx, files, model_name, params, fmt, junit_xml, force):
    """The guarantees the configuration in FILE... (Java properties: server.properties, topic
    and client configs; later files win) gives under each fault budget."""
    from kafkacheck.specs.audit import plan
    from kafkacheck.specs.config import choose_model
    if force and junit_xml is None:
        raise UserError("--force lets --junit-xml replace a file; give --junit-xml PATH")
    settings = parse_settings(params)
    config = read_configs(files)
    if junit_xml is not None:
        check_output(junit_xml, "--junit-xml", inputs=list(files), force=force)
    chosen = None
    if model_name is None:
        model_name, chosen = choose_model(config.values())
    cls = catalog()[model_name]
    guarantees, budgets = plan(model_name)
    bound_keys = {k for b in budgets for k in b.settings}
    canon = {p.name: p.key for p in cls.params().values()}
    for k in settings:
        if canon.get(k, k) in bound_keys:
            raise UserError(f"-p {k}: the audit's fault budgets set it; check one "
                            "configuration with kafkacheck check instead")
    merged, applied = apply(config, cls, model_name, settings)
    applied.chosen = chosen
    guard.limit_memory(guard.default_memory_mb())
    cells = []
    for budget in budgets:
        run_settings = {**merged, **budget.settings}
        for g in guarantees:
            cells.append(_cell(model_name, cls, run_settings, g, budget))
    violated = [c for c in cells if c["verdict"] == "violated"]
    stopped = [c for c in cells if c["verdict"] == "incomplete"]
    for n, c in enumerate(violated, start=1):
        c["ref"] = n
    report = {"files": list(files), "model": model_name, "chosen": chosen,
              "config": applied.as_dict(), "budgets": [b.name for b in budgets],
              "guarantees": [g.name for g in guarantees], "results": cells,
              "verdict": "violated" if violated else "incomplete" if stopped else "holds"}
    guard.phase = "writing the results"
    if fmt == "text":
        echo(applied)  # after the runs: bad input stays one line
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    elif fmt == "markdown":
        click.echo(_markdown(report, guarantees, budgets), nl=False)
    else:
        click.echo(_text(report, guarantees, budgets), nl=False)
    if junit_xml is not None:
        write_whole(junit_xml, _junit(report))
    ctx.exit(1 if violated else 3 if stopped else 0)


def _cell(model_name, cls, settings, g, budget) -> dict:
    from .checking import Run
    target = Target(model_name, cls)
    run = Run(target, settings, (), (g.property,), None, None, None, None, False, False)
    result = run.execute()
    status = result.status().get(g.property)
    command = reproduce("check", model_name, settings, (), [("--property", g.property)])
    cell = {"guarantee": g.name, "property": g.property, "budget": budget.name,
            "distinct_states": result.distinct_states, "depth": result.depth,
            "command": command}
    if status == "vacuous":
        cell["verdict"] = "n/a"
    elif result.verdict == "violated":
        v = result.violation
        cell.update(verdict="violated", trace_length=v.length,
                    summary=" → ".join(v.action_path()))
    elif result.verdict == "holds" and result.complete:
        cell["verdict"] = "holds"
    else:
        cell.update(verdict="incomplete", stop_reason=result.stop_reason)
    return cell


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _short(c) -> str:
    if c["verdict"] == "holds":
        return f"holds ({c['distinct_states']:,} states, depth {c['depth']})"
    if c["verdict"] == "violated":
        return f"VIOLATED [{c['ref']}] ({_steps(c['trace_length'])})"
    if c["verdict"] == "n/a":
        return "n/a (not exercised)"
    return f"INCOMPLETE ({c.get('stop_reason')})"


def _grid(report, guarantees, budgets):
    by = {(c["guarantee"], c["budget"]): c for c in report["results"]}
    return [[g.name] + [_short(by[(g.name, b.name)]) for b in budgets] for g in guarantees]


def _header_lines(report) -> list[str]:
    cfg = report["config"]
    why = f" ({report['chosen']})" if report["chosen"] else ""
    lines = [f"Audit of {', '.join(report['files'])} as {report['model']}{why}"]
    mapped = ", ".join(f"{k}={v['value']}" for k, v in cfg["mapped"].items()) or "none"
    lines.append(f"From the files: {mapped}; every other parameter at the model's default "
                 "(kafkacheck models lists them)")
    lines.append("Bounds: one producer write, the faults each column names; 'holds' means "
                 "in every reachable state within them")
    return lines


def _footer_lines(report) -> list[str]:
    out = []
    for c in report["results"]:
        if c["verdict"] == "violated":
            out.append(f"[{c['ref']}] {c['guarantee']}, {c['budget']}: "
                       f"{_steps(c['trace_length'])}: {c['summary']}")
            out.append(f"    the trace: {c['command']}")
    na = sorted({c["guarantee"] for c in report["results"] if c["verdict"] == "n/a"})
    if na:
        out.append("n/a: the property is constant true under that budget (nothing there can "
                   "break it: e.g. no producer, no operator pacing, no bootstrap.servers)")
    v = [c for c in report["results"] if c["verdict"] == "violated"]
    out.append(f"Verdict: {len(v)} guarantee(s) violated" if v else
               "Verdict: every exercised guarantee holds within the bounds")
    return out


def _text(report, guarantees, budgets) -> str:
    rows = [["guarantee"] + [b.name for b in budgets]] + _grid(report, guarantees, budgets)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = _header_lines(report) + [""]
    for r in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    lines.append("")
    lines += _footer_lines(report)
    return "\n".join(lines) + "\n"


def _markdown(report, guarantees, budgets) -> str:
    def esc(s):
        return s.replace("|", "\\|")
    lines = [f"**{esc(_header_lines(report)[0])}**", ""]
    lines += [esc(ln) for ln in _header_lines(report)[1:]] + [""]
    lines.append("| guarantee | " + " | ".join(esc(b.name) for b in budgets) + " |")
    lines.append("|---" * (len(budgets) + 1) + "|")
    for r in _grid(report, guarantees, budgets):
        lines.append("| " + " | ".join(esc(x) for x in r) + " |")
    lines.append("")
    for ln in _footer_lines(report):
        if ln.startswith("    the trace: "):
            lines.append(f"    `{ln[len('    the trace: '):]}`")
        else:
            lines.append(f"- {esc(ln)}" if ln.startswith("[") else esc(ln))
    return "\n".join(lines) + "\n"


def _junit(report) -> str:
    from .junit import _document
    cases = []
    for c in report["results"]:
        name = f"{c['guarantee']} [{c['budget']}]"
        classname = f"kafkacheck.audit.{report['model']}"
        if c["verdict"] == "violated":
            outcome = ("failure", f"violated in {_steps(c['trace_length'])}",
                       f"{c['summary']}\nThe trace: {c['command']}\n", "violated")
        elif c["verdict"] == "n/a":
            outcome = ("skipped", "not exercised: the property is constant true under this "
                                  "budget", "", None)
        elif c["verdict"] == "incomplete":
            outcome = ("error", f"stopped ({c.get('stop_reason')}) before an answer", "",
                       "incomplete")
        else:
            outcome = None
        cases.append((name, classname, 0.0, outcome))
    return _document(f"kafkacheck audit {' '.join(report['files'])}", cases)
