"""Renderers for traces and results: text (changes only, as TLC's -difftrace), JSON, ITF.

Renderers turn data into strings; they never print. Values are the decoded Python values of
``TransitionSystem.decode``: bool, int, str, None, frozenset (a set), dict (a map), list (a
sequence).
"""

from __future__ import annotations

import json

from .trace import Trace

# -- values -------------------------------------------------------------------------------------


def show(value) -> str:
    """A value as a person reads it: ``{1, 3}`` for a set, ``none`` for no value."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, frozenset):
        return "{" + ", ".join(show(v) for v in _sorted(value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "<<" + ", ".join(show(v) for v in value) + ">>"
    return str(value)


def _sorted(values):
    return sorted(values, key=lambda v: (str(type(v)), v))


def to_json(value):
    """A decoded value as plain JSON: sets become sorted lists, map keys strings."""
    if isinstance(value, frozenset):
        return [to_json(v) for v in _sorted(value)]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def _flatten(name: str, value, out: dict):
    """Maps split into one entry per key, so a diff shows only the keys that changed."""
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{name}[{k}]", v, out)
    else:
        out[name] = value
    return out


def _flat_state(state: dict) -> dict:
    out: dict = {}
    for name, value in state.items():
        _flatten(name, value, out)
    return out


def changes(before: dict, after: dict) -> dict:
    """What a step changed, map entries one key at a time: ``{name: (before, after)}``. The
    one diff every renderer (traces, counterexamples to induction) shows."""
    a, b = _flat_state(before), _flat_state(after)
    return {k: (a.get(k), v) for k, v in b.items() if a.get(k) != v}


def param_text(value) -> str:
    """A parameter's value as a user types it after -p: ``false``, not Python's ``False``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def header(model: str, params: dict, before=()) -> str:
    """The first line of every command's text report: the model and its configuration."""
    text = ", ".join(f"{k}={param_text(v)}" for k, v in params.items())
    fixes = f"; before {', '.join(sorted(before))}" if before else ""
    return f"Model {model} ({text}{fixes})"


# -- text ---------------------------------------------------------------------------------------

_KIND_TITLE = {"always": "Invariant {p} is violated",
               "sometimes": "Example of {p}",
               "transition": "Step property {p} is violated",
               "eventually": "Liveness property {p} (eventually) is violated",
               "leads_to": "Liveness property {p} (leads to) is violated",
               "deadlock": "Deadlock reached",
               "type_ok": "A variable leaves its declared range (type_ok)"}


def trace_text(trace: Trace, *, command: str | None = None) -> str:
    """A trace as numbered steps showing only what changed, then the final state in full."""
    title = _KIND_TITLE.get(trace.kind, "{p}").format(p=trace.property)
    if not trace.steps:
        return f"{title}: {trace.note}\n"
    if trace.is_lasso:
        stem, loop = trace.loop, trace.loop_length
        lines = [f"{title}: a lasso of {trace.length} step{'s' if trace.length != 1 else ''}"
                 f" (stem {stem}, loop {loop}: states {stem}..{trace.length - 1} repeat "
                 "forever)."]
    elif trace.kind == "transition":
        lines = [f"{title} by step {trace.length} (the trace ends at the offending step)."]
    else:
        lines = [f"{title} after {trace.length} step{'s' if trace.length != 1 else ''}."]
    if trace.note:
        lines.append(f"  ({trace.note})")
    prev = None
    last = len(trace.steps) - 1
    for i, step in enumerate(trace.steps):
        if trace.is_lasso and i == last:
            how = "stutter: it stays here forever (no fair action is enabled here)" \
                if step.action == "stutter" else step.action
            lines.append(f"{i:>3}: {how}  -> back to state {trace.loop}")
            if step.action != "stutter":
                changed = changes(prev, step.state)
                lines.extend(f"       {k}: {show(a)} -> {show(b)}"
                             for k, (a, b) in changed.items())
            break
        if trace.is_lasso and i == trace.loop:
            lines.append(f"{i:>3}: {step.action}  (the loop starts here)")
        else:
            lines.append(f"{i:>3}: {step.action}")
        if prev is None:
            lines.extend(f"       {k} = {show(v)}" for k, v in step.state.items())
        else:
            changed = changes(prev, step.state)
            lines.extend(f"       {k}: {show(a)} -> {show(b)}" for k, (a, b) in changed.items())
            if not changed:
                lines.append("       (no change)")
        prev = step.state
    if trace.length > 0:
        lines.append("Final state:")
        lines.extend(f"       {k} = {show(v)}" for k, v in trace.final_state.items())
    if command:
        lines.append(f"Reproduce: {command}")
    if trace.length > 0:
        lines.append("Action path: " + "; ".join(trace.action_path()))
    return "\n".join(lines) + "\n"


# -- JSON -----------------------------------------------------------------------------------------

def trace_json(trace: Trace) -> dict:
    """A trace as JSON; a lasso has ``loop``, the index of the state its last step returns
    to (the last state equals it), and ``step_property`` says a trace ends at the step that
    breaks a step property."""
    out = {"property": trace.property, "kind": trace.kind, "length": trace.length,
           "note": trace.note or None,
           "trace": [{"action": s.action, "state": to_json(s.state)} for s in trace.steps]}
    if trace.kind == "transition":
        out["step_property"] = True
    if trace.is_lasso:
        out["loop"] = trace.loop
        out["lasso"] = {"stem": trace.loop, "loop": trace.loop_length}
    return out


def result_json(result) -> dict:
    """The fields of DESIGN.md's JSON object that come from the engine's result."""
    return {
        "engine": result.engine,
        "verdict": result.verdict,
        "complete": result.complete,
        "bound": result.bound or None,
        "stop_reason": result.stop_reason,
        "properties": result.properties,
        "property_status": result.status(),
        "vacuous": list(result.vacuous),
        "distinct_states": result.distinct_states,
        "states_generated": result.states_generated,
        "depth": result.depth,
        "depth_meaning": result.depth_meaning,
        "seconds": round(result.seconds, 3),
        "states_per_second": round(result.states_per_second),
        "states_per_depth": result.states_per_depth,
        "fingerprints": result.fingerprints,
        "collision_probability": result.collision_probability,
        "violation": trace_json(result.violation) if result.violation else None,
        "examples": {k: trace_json(v) for k, v in result.examples.items()},
        "coverage": [{"action": c.action, "fired": c.fired, "new_states": c.new_states}
                     for c in result.coverage],
        "engine_note": getattr(result, "note", "") or None,
        "liveness": getattr(result, "liveness", None),
        "unchecked": list(getattr(result, "unchecked", []) or []),
        "build_seconds": round(getattr(result, "build_seconds", 0.0), 3),
        "stored_bytes": getattr(result, "stored_bytes", 0),
        "bytes_per_state": round(getattr(result, "bytes_per_state", 0.0), 1),
        "symmetry": getattr(result, "symmetry", "") or None,
        "distributed": getattr(result, "distributed", None),
    }


# -- ITF (the Informal Trace Format of Apalache and Quint) --------------------------------------

def itf_value(value, typ=None):
    """One value in ITF: integers as ``{"#bigint": "n"}``, sets ``{"#set": []}``, maps
    ``{"#map": [[k, v]]}``, optional values as Quint's ``Some``/``None`` variants."""
    from .lang.types import Map, Maybe, Seq
    if isinstance(typ, Maybe):
        if value is None:
            return {"tag": "None", "value": {"#tup": []}}
        return {"tag": "Some", "value": itf_value(value)}
    if value is None:
        return {"tag": "None", "value": {"#tup": []}}
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, frozenset):
        return {"#set": [itf_value(v) for v in _sorted(value)]}
    if isinstance(value, dict):
        sub = typ.value if isinstance(typ, Map) else None
        return {"#map": [[itf_value(k), itf_value(v, sub)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        sub = typ.value if isinstance(typ, Seq) else None
        return [itf_value(v, sub) for v in value]
    raise TypeError(f"no ITF encoding for {value!r}")


def from_itf(value):
    """Decode an ITF value back into the decoded-value form (the inverse of itf_value)."""
    if isinstance(value, list):
        return [from_itf(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "#bigint" in value:
        return int(value["#bigint"])
    if "#set" in value:
        return frozenset(from_itf(v) for v in value["#set"])
    if "#map" in value:
        return {from_itf(k): from_itf(v) for k, v in value["#map"]}
    if value.get("tag") == "None":
        return None
    if value.get("tag") == "Some":
        return from_itf(value["value"])
    raise ValueError(f"unsupported ITF value {value!r}")


def trace_itf(trace: Trace, *, types: dict | None = None, source: str = "") -> dict:
    """A trace as an ITF document; ``types`` maps variable names to language types."""
    types = types or {}
    names = list(trace.steps[0].state) if trace.steps else []
    states = []
    steps = trace.steps
    if trace.is_lasso:  # ITF's loop: the last state's successor is states[loop]
        steps = steps[:-1]
    for i, step in enumerate(steps):
        st = {"#meta": {"index": i, "action": step.action}}
        st.update({k: itf_value(v, types.get(k)) for k, v in step.state.items()})
        states.append(st)
    meta = {"format": "ITF", "format-description":
            "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": source, "description": f"{trace.kind} {trace.property}"}
    if trace.kind == "transition":
        meta["step_property"] = True
        meta["description"] = f"step property {trace.property}: the last step breaks it"
    out = {"#meta": meta, "vars": names, "states": states}
    if trace.is_lasso:
        meta["loop"] = trace.loop
        meta["loop_action"] = trace.steps[-1].action
        meta["description"] = (f"{trace.kind} {trace.property}: a lasso; after the last state "
                               f"the behaviour returns to state {trace.loop} "
                               f"({trace.steps[-1].action})")
        out["loop"] = trace.loop
    return out


#: every trace format, in the order the CLI lists them
TRACE_FORMATS = ("text", "json", "itf", "svg", "mermaid", "html")


def render_trace(trace: Trace, fmt: str, *, command=None, types=None, source="",
                 lanes=None) -> str:
    """``lanes`` (a ``charts.Lanes``) places the steps of the pictures (svg, mermaid,
    html) on their lanes; without it every step is drawn on one ``system`` lane."""
    if fmt in ("svg", "mermaid", "html"):
        from . import charts
        if fmt == "svg":
            return charts.trace_svg(trace, lanes)
        if fmt == "mermaid":
            return charts.trace_mermaid(trace, lanes)
        return charts.trace_html(trace, lanes, command=command)
    if fmt == "text":
        return trace_text(trace, command=command)
    if fmt == "json":
        return json.dumps(trace_json(trace), indent=2) + "\n"
    if fmt == "itf":
        return json.dumps(trace_itf(trace, types=types, source=source), indent=2) + "\n"
    raise ValueError(f"unknown trace format {fmt!r} (known: {', '.join(TRACE_FORMATS)})")
