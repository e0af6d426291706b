"""``kafkacheck prove``: prove always-properties for every depth with Z3 (induction).

Exit codes: 0 every property proved; 1 a property refuted (a real counterexample is shown);
3 a property not inductive (the counterexample to induction is shown) or unknown (time
limit, Z3 unknown, a false lemma); 2 bad input.
"""

from __future__ import annotations

import json
import shlex
from difflib import get_close_matches

import click

from ..lang import ModelError
from ..render import show, to_json, trace_json, trace_text
from .targets import model_options

EXIT = {"proved": 0, "refuted": 1, "not_inductive": 3, "unknown": 3}


def _bad_input(message: str):
    return click.UsageError(message)


@click.command("prove")
@click.argument("target")
@model_options("Prove")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Prove this always-property (repeatable); default: every one.")
@click.option("--induction", "k", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="K", help="Induction depth: 1 checks an inductive invariant, K > 1 is "
                                "k-induction.")
@click.option("--strengthen", multiple=True, metavar="NAME",
              help="Conjoin this always-property to the invariant as a lemma (repeatable).")
@click.option("--base-depth", type=click.IntRange(min=0), default=0, show_default=True,
              metavar="N", help="Also search N steps from the initial states for a real "
                                "counterexample (refuted rather than not inductive).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Stop after this long in all (outcome unknown).")
@click.option("--query-time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Give up on any one solver query after this long.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def prove_command(ctx, target, params, before, properties, k, strengthen, base_depth,
                  time_limit, query_time_limit, fmt):
    """Prove TARGET's always-properties for every depth: k-induction with Z3.

    \b
    proved         the property holds in every reachable state (exit 0)
    refuted        a real counterexample from an initial state (exit 1)
    not inductive  a step from a state where the invariant holds breaks it: the
                   pair of states is shown; strengthen or raise --induction (exit 3)
    unknown        time limit, Z3 unknown, or a false lemma (exit 3)
    """
    from ..symbolic.induction import prove

    from ..specfile import SpecError
    from .targets import UserError, parse_settings, resolve

    try:
        settings = parse_settings(params)
        resolved = resolve(target)
        model = resolved.build(settings, tuple(before))
        system = resolved.compile(model)
    except (UserError, SpecError, ModelError) as e:
        raise _bad_input(str(e)) from None
    always = [p.name for p in system.properties if p.kind == "always"]
    for name in (*properties, *strengthen):
        if name not in always:
            hint = get_close_matches(name, always, n=1)
            did = f"; did you mean {hint[0]!r}?" if hint else ""
            kinds = {p.name: p.kind for p in system.properties}
            what = (f"{name!r} is a {kinds[name]}-property; only always-properties can be "
                    "proved or used as lemmas") if name in kinds else \
                f"unknown property {name!r} for model {system.name}{did}"
            raise _bad_input(f"{what} (always-properties: {', '.join(always) or 'none'})")
    if not always:
        raise _bad_input(f"model {system.name} has no always-properties to prove")
    results = prove(system, properties=list(properties) or None, k=k,
                    strengthen=list(strengthen), base_depth=base_depth,
                    time_limit=time_limit, query_time_limit=query_time_limit)
    argv = _command(target, settings, before, properties, k, strengthen, base_depth)
    overall = _overall(results)
    if fmt == "json":
        click.echo(json.dumps({
            "target": target, "model": system.name, "params": model.param_values(),
            "before": sorted(model.before), "engine": "prove", "induction": k,
            "strengthen": list(strengthen), "outcome": overall,
            "seconds": round(sum(r.seconds for r in results), 3),
            "results": [_result_json(r) for r in results], "command": argv}, indent=2))
    else:
        click.echo(_text(model, system, results, argv), nl=False)
    ctx.exit(EXIT[overall])


def _overall(results) -> str:
    outcomes = {r.outcome for r in results}
    for o in ("refuted", "unknown", "not_inductive"):
        if o in outcomes:
            return o
    return "proved"


def _command(target, settings, before, properties, k, strengthen, base_depth) -> str:
    args = ["kafkacheck", "prove", target]
    for key, v in settings.items():
        args += ["-p", f"{key}={v}"]
    for fix in before:
        args += ["--before", fix]
    for p in properties:
        args += ["--property", p]
    if k != 1:
        args += ["--induction", str(k)]
    for s in strengthen:
        args += ["--strengthen", s]
    if base_depth:
        args += ["--base-depth", str(base_depth)]
    return shlex.join(args)


def _result_json(r) -> dict:
    cti = None
    if r.cti is not None:
        cti = {"before": to_json(r.cti.before), "action": r.cti.action,
               "after": to_json(r.cti.after), "violated": r.cti.violated,
               "changed": {k: [to_json(a), to_json(b)]
                           for k, (a, b) in _changed(r.cti.before, r.cti.after).items()},
               "path": [{"action": s.action, "state": to_json(s.state)} for s in r.cti.path]}
    return {"property": r.property, "outcome": r.outcome, "method": r.method, "k": r.k,
            "lemmas": r.lemmas, "seconds": round(r.seconds, 3), "reason": r.reason or None,
            "vacuous": r.vacuous,
            "counterexample": trace_json(r.counterexample) if r.counterexample else None,
            "cti": cti}


def _flat(state: dict, prefix: str = "", out: dict | None = None) -> dict:
    """Maps split into one entry per key (``phase[2]``), so a diff shows only what changed."""
    out = {} if out is None else out
    for k, v in state.items():
        name = f"{prefix}[{k}]" if prefix else str(k)
        if isinstance(v, dict):
            _flat(v, name, out)
        else:
            out[name] = v
    return out


def _changed(before: dict, after: dict) -> dict:
    a, b = _flat(before), _flat(after)
    return {k: (a.get(k), v) for k, v in b.items() if a.get(k) != v}


def _text(model, system, results, argv) -> str:
    params = ", ".join(f"{k}={v}" for k, v in model.param_values().items())
    fixes = f"; before {', '.join(sorted(model.before))}" if model.before else ""
    lines = [f"Model {system.name} ({params}{fixes})"]
    for r in results:
        how = f"{r.method} (k={r.k})" + (f" with lemmas {', '.join(r.lemmas)}" if r.lemmas
                                          else "")
        took = f"{r.seconds:.2f} s"
        if r.outcome == "proved" and r.vacuous:
            lines.append(f"  {r.property}: VACUOUS (constant true in this configuration: "
                         f"nothing to prove), {took}")
        elif r.outcome == "proved":
            lemmas = "; the lemmas hold too" if r.lemmas else ""
            lines.append(f"  {r.property}: PROVED for every depth by {how}, {took}{lemmas}")
        elif r.outcome == "refuted":
            lines.append(f"  {r.property}: REFUTED, {took}: a real counterexample "
                         f"from an initial state")
            lines.extend("    " + ln for ln in trace_text(r.counterexample).splitlines())
        elif r.outcome == "not_inductive":
            lines.append(f"  {r.property}: NOT INDUCTIVE by {how}, {took}: a step from a "
                         f"state where the invariant holds breaks {r.cti.violated}")
            lines.append("    before (the invariant holds here; this state may be "
                         "unreachable):")
            lines.extend(f"      {k} = {show(v)}" for k, v in r.cti.before.items())
            lines.append(f"    action: {r.cti.action}")
            lines.append(f"    after ({r.cti.violated} fails), what changed:")
            lines.extend(f"      {k}: {show(a)} -> {show(b)}"
                         for k, (a, b) in _changed(r.cti.before, r.cti.after).items())
            lines.append("    Exclude the before-state with a lemma (--strengthen NAME), raise "
                         "--induction K, or look for a real counterexample with "
                         "--base-depth N or kafkacheck check --engine bmc.")
        else:
            lines.append(f"  {r.property}: UNKNOWN by {how}, {took}: {r.reason}")
            if r.counterexample is not None:
                lines.extend("    " + ln for ln in trace_text(r.counterexample).splitlines())
    lines.append(f"Reproduce: {argv}")
    return "\n".join(lines) + "\n"
