"""``kafkacheck prove``: prove always-properties for every depth with Z3 (induction).

Exit codes: 0 every property proved; 1 a property refuted (a real counterexample is shown);
3 a property not inductive (the counterexample to induction is shown) or unknown (time
limit, Z3 unknown, a false lemma); 2 bad input.
"""

from __future__ import annotations

import json

import click

from ..lang import ModelError
from ..render import changes, header, show, to_json, trace_json, trace_text
from .config import config_option, echo as echo_config, resolve_configured
from .targets import MAX_DEPTH, model_options, reproduce, seconds_type

EXIT = {"proved": 0, "refuted": 1, "not_inductive": 3, "unknown": 3}


def _bad_input(message: str):
    from .targets import UserError
    return UserError(message)


@click.command("prove")
@click.argument("target")
@model_options("Prove")
@config_option
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Prove this always-property (repeatable); default: every one.")
@click.option("--induction", "k", type=click.IntRange(1, 1000), default=1, show_default=True,
              metavar="K", help="Induction depth: 1 checks an inductive invariant, K > 1 is "
                                "k-induction.")
@click.option("--strengthen", multiple=True, metavar="NAME",
              help="Conjoin this always-property to the invariant as a lemma (repeatable).")
@click.option("--base-depth", type=click.IntRange(0, MAX_DEPTH), default=0, show_default=True,
              metavar="N", help="Also search N steps from the initial states for a real "
                                "counterexample (refuted rather than not inductive).")
@click.option("--time-limit", type=seconds_type(), default=None,
              metavar="SECONDS", help="Stop after this long in all (outcome unknown).")
@click.option("--query-time-limit", type=seconds_type(), default=None,
              metavar="SECONDS", help="Give up on any one solver query after this long.")
@click.option("--memory-limit", type=click.IntRange(64, 2 ** 40), default=None, metavar="MB",
              help="Give up (outcome unknown, exit 3) past this much memory (default: 3/4 of "
                   "the machine's).")
@click.option("--auto", is_flag=True,
              help="Houdini: find the largest set of the model's always-properties that is "
                   "inductive together (no --strengthen needed), report what it dropped and "
                   "why; with --property, exit 0 when those are in the set.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def prove_command(ctx, target, params, configs, before, properties, k, strengthen, base_depth,
                  time_limit, query_time_limit, memory_limit, auto, fmt):
    """Prove TARGET's always-properties for every depth: k-induction with Z3.

    \b
    proved         the property holds in every reachable state (exit 0)
    refuted        a real counterexample from an initial state (exit 1)
    not inductive  a step from a state where the invariant holds breaks it: the
                   pair of states is shown; strengthen or raise --induction (exit 3)
    unknown        time limit, Z3 unknown, or a false lemma (exit 3)
    """
    from ..symbolic.induction import prove

    from .targets import parse_settings

    from . import guard
    settings = parse_settings(params)
    guard.limit_memory(memory_limit or guard.default_memory_mb())
    if auto:
        for flag, given in (("--strengthen", strengthen), ("--induction", k != 1),
                            ("--base-depth", base_depth)):
            if given:
                raise _bad_input(f"--auto chooses the lemmas itself, by 1-induction: drop "
                                 f"{flag}")
        ctx.exit(_auto(target, configs, settings, before, properties, time_limit,
                       query_time_limit, fmt))
    with guard.deadline(time_limit) as clock:
        resolved, settings, applied = resolve_configured(target, configs, settings)
        target = resolved.name
        model, system = resolved.system(settings, before)
        time_left = clock.hand_over()
        always = system.select(kinds=("always", "transition"))
        system.select(list(properties), kinds=("always", "transition"), purpose="proved")
        system.select(list(strengthen), kinds=("always",), purpose="used as lemmas")
        if not always:
            raise _bad_input(f"model {system.name} has no always-properties to prove")
        echo_config(applied)  # once the input is known good: bad input stays one line
        guard.phase = "proving"
        results = prove(system, properties=list(properties) or None, k=k,
                        strengthen=list(strengthen), base_depth=base_depth,
                        time_limit=time_left, query_time_limit=query_time_limit)
    guard.phase = "writing the results"
    argv = _command(target, settings, before, properties, k, strengthen, base_depth)
    overall = _overall(results)
    if fmt == "json":
        click.echo(json.dumps({
            "target": target, "model": system.name, "params": model.param_values(),
            "before": sorted(model.before), "engine": "prove", "induction": k,
            "strengthen": list(strengthen), "outcome": overall,
            "seconds": round(sum(r.seconds for r in results), 3),
            "results": [_result_json(r) for r in results], "command": argv,
            **({"config": applied.as_dict()} if applied is not None else {})}, indent=2))
    else:
        click.echo(_text(model, system, results, argv), nl=False)
    asked = list(properties) or always
    if len(results) < len(asked):
        click.echo(f"Not tried (the run was stopped): {', '.join(asked[len(results):])}")
    ctx.exit(EXIT[overall])


def _overall(results) -> str:
    outcomes = {r.outcome for r in results}
    for o in ("refuted", "unknown", "not_inductive"):
        if o in outcomes:
            return o
    return "proved"


def _command(target, settings, before, properties, k, strengthen, base_depth) -> str:
    return reproduce("prove", target, settings, before,
                     [*(("--property", p) for p in properties),
                      ("--induction", k if k != 1 else None),
                      *(("--strengthen", s) for s in strengthen),
                      ("--base-depth", base_depth or None)])


def _result_json(r) -> dict:
    cti = None
    if r.cti is not None:
        cti = {"before": to_json(r.cti.before), "action": r.cti.action,
               "after": to_json(r.cti.after), "violated": r.cti.violated,
               "changed": {k: [to_json(a), to_json(b)]
                           for k, (a, b) in changes(r.cti.before, r.cti.after).items()},
               "path": [{"action": s.action, "state": to_json(s.state)} for s in r.cti.path]}
    return {"property": r.property, "outcome": r.outcome, "method": r.method, "k": r.k,
            "lemmas": r.lemmas, "seconds": round(r.seconds, 3), "reason": r.reason or None,
            "vacuous": r.vacuous,
            "counterexample": trace_json(r.counterexample) if r.counterexample else None,
            "cti": cti}


def _text(model, system, results, argv) -> str:
    lines = [header(system.name, model.param_values(), model.before_names())]
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
                         for k, (a, b) in changes(r.cti.before, r.cti.after).items())
            lines.append("    Exclude the before-state with a lemma (--strengthen NAME), raise "
                         "--induction K, or look for a real counterexample with "
                         "--base-depth N or kafkacheck check --engine bmc.")
        else:
            lines.append(f"  {r.property}: UNKNOWN by {how}, {took}: {r.reason}")
            if r.counterexample is not None:
                lines.extend("    " + ln for ln in trace_text(r.counterexample).splitlines())
    lines.append(f"Reproduce: {argv}")
    return "\n".join(lines) + "\n"


# -- --auto: Houdini ---------------------------------------------------------------------------

def _auto(target, configs, settings, before, properties, time_limit, query_time_limit,
          fmt) -> int:
    from ..symbolic.houdini import houdini
    from . import guard
    with guard.deadline(time_limit) as clock:
        resolved, settings, applied = resolve_configured(target, configs, settings)
        target = resolved.name
        model, system = resolved.system(settings, before)
        time_left = clock.hand_over()
        candidates = system.select(kinds=("always", "transition"))
        if not candidates:
            raise _bad_input(f"model {system.name} has no always- or step properties for "
                             "--auto to try")
        goals = system.select(list(properties), kinds=("always", "transition"),
                              purpose="proved") if properties else list(candidates)
        echo_config(applied)  # once the input is known good: bad input stays one line
        guard.phase = "proving (Houdini)"
        r = houdini(system, candidates=candidates, time_limit=time_left,
                    query_time_limit=query_time_limit)
    guard.phase = "writing the results"
    argv = reproduce("prove", target, settings, before,
                     [*(("--property", p) for p in properties), ("--auto", True)])
    missing = [g for g in goals if g not in r.proved]
    false_at_start = [d.property for d in r.dropped if d.cti is None and d.property in goals]
    outcome = "unknown" if r.outcome == "unknown" else "refuted" if false_at_start else \
        "not_inductive" if missing else "proved"
    if fmt == "json":
        click.echo(json.dumps({
            "target": target, "model": system.name, "params": model.param_values(),
            "before": sorted(model.before), "engine": "houdini", "outcome": outcome,
            "goals": goals, "candidates": r.candidates, "proved": r.proved,
            "vacuous": r.vacuous, "rounds": r.rounds, "seconds": round(r.seconds, 3),
            "reason": r.reason or None,
            "dropped": [{"property": d.property, "round": d.round, "reason": d.reason,
                         "state": to_json(d.state),
                         "cti": None if d.cti is None else {
                             "before": to_json(d.cti.before), "action": d.cti.action,
                             "after": to_json(d.cti.after),
                             "changed": {k: [to_json(a), to_json(b)] for k, (a, b) in
                                         changes(d.cti.before, d.cti.after).items()}}}
                        for d in r.dropped],
            "command": argv}, indent=2))
    else:
        lines = [header(system.name, model.param_values(), model.before_names())]
        lines.append(f"Houdini over {len(r.candidates)} candidates (every always- and step "
                     f"property): {r.rounds} round(s) of 1-induction, {r.seconds:.2f} s")
        if r.outcome == "unknown":
            lines.append(f"  UNKNOWN: {r.reason}; nothing is proved")
        else:
            vac = [n for n in r.proved if n in r.vacuous]
            real = [n for n in r.proved if n not in r.vacuous]
            lines.append(f"  PROVED for every depth, inductive together ({len(real)}): "
                         f"{', '.join(real) or 'none'}")
            if vac:
                lines.append(f"  vacuous (constant true in this configuration): {', '.join(vac)}")
            if r.dropped:
                lines.append(f"  dropped ({len(r.dropped)}; not proved, which is not refuted: "
                             "each may still hold with a lemma outside the candidates):")
            for d in r.dropped:
                lines.append(f"    {d.property}: {d.reason}")
                if d.cti is None:
                    lines.extend(f"      {k} = {show(v)}" for k, v in d.state.items())
                else:
                    lines.extend(f"      {k}: {show(a)} -> {show(b)}" for k, (a, b) in
                                 changes(d.cti.before, d.cti.after).items())
        if properties:
            lines.append(f"Goals: {', '.join(goals)}: " + (
                "every one proved" if outcome == "proved" else
                f"not proved: {', '.join(missing)}"))
        lines.append(f"Reproduce: {argv}")
        click.echo("\n".join(lines))
    return EXIT[outcome]
