"""Pictures of a trace: an SVG message-sequence chart, a Mermaid sequence diagram, an HTML page.

One lane per process (a broker, a server, a voter, ``ZooKeeper``, a client), one row per step:
an arrow from the lane that takes the step to each lane it tells, or a mark on its lane when it
tells no one, and beside it the action and the values it changed; the property the trace breaks
(or the example it reaches) closes the chart. Which lane a step belongs to comes from the
system (``TransitionSystem.lanes``, declared by the model with ``@action(lane=, tells=)``); a
system that declares nothing draws every step on one ``system`` lane.

Like the other renderers these return strings and never print, and the same trace gives the
same bytes every time (no clock, no randomness, no hash order).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .render import _KIND_TITLE, changes, show
from .trace import Trace

SYSTEM = "system"
CHECK, CROSS = "\u2713", "\u2717"


@dataclass(frozen=True)
class Lanes:
    """Who takes each action (by label) and whom it tells, and the order of the lanes."""

    by_label: dict      # label -> (lane, tells)
    order: tuple        # every lane, in the order the model declares them

    @classmethod
    def of(cls, system) -> "Lanes":
        lanes = list(getattr(system, "lanes", None) or [])
        labels = list(getattr(system, "actions", []))
        by_label = {label: lanes[i] if i < len(lanes) else (SYSTEM, ())
                    for i, label in enumerate(labels)}
        order = getattr(system, "lane_order", None) or \
            dict.fromkeys(x for lane, tells in by_label.values() for x in (lane, *tells))
        return cls(by_label, tuple(order))

    def step(self, label: str):
        """``(lane, tells)`` for a step's action; no lane for a step the system did not take
        as an action (``stutter``, a label the system does not know)."""
        if label in self.by_label:
            return self.by_label[label]
        return (None, ()) if label == "stutter" or self.by_label else (SYSTEM, ())

    def used(self, trace: Trace) -> list[str]:
        """The lanes a trace touches, in the model's order."""
        seen = []
        for step in trace.steps[1:]:
            lane, tells = self.step(step.action)
            for x in (lane, *tells):
                if x is not None and x not in seen:
                    seen.append(x)
        rank = {x: i for i, x in enumerate(self.order)}
        first = {x: i for i, x in enumerate(seen)}
        return sorted(seen, key=lambda x: (rank.get(x, len(rank)), first[x])) or [SYSTEM]


def title(trace: Trace) -> str:
    """What the trace shows, in one line: ``Invariant one_epoch_leader is violated after 4
    steps.``"""
    head = _KIND_TITLE.get(trace.kind, "{p}").format(p=trace.property)
    n = trace.length
    if trace.is_lasso:
        return (f"{head}: a lasso of {n} steps; after the last step the behaviour returns to "
                f"state {trace.loop} and repeats forever.")
    if trace.kind == "transition":
        return f"{head} by step {n}."
    return f"{head} after {n} step{'s' if n != 1 else ''}."


def _name(label: str) -> str:
    """The action's name without its arguments: ``elect_leader``."""
    return label.split("(", 1)[0]


def _rows(trace: Trace):
    """Per step: (index, label, detail lines); the first is the initial state in full."""
    out = []
    prev = None
    for i, step in enumerate(trace.steps):
        if prev is None:
            lines = [f"{k} = {show(v)}" for k, v in step.state.items()]
        else:
            diff = changes(prev, step.state)
            lines = [f"{k}: {show(a)} \u2192 {show(b)}" for k, (a, b) in diff.items()]
            if not diff:
                lines = ["(no change)"]
            if trace.is_lasso and i == len(trace.steps) - 1:
                lines.append(f"(back to state {trace.loop})")
        out.append((i, step.action, lines))
        prev = step.state
    return out


# -- SVG ------------------------------------------------------------------------------------------

LANE_W = 132          # distance between lifelines
HEAD_W = 116          # a lane's header box
NUM_W = 34            # the column of step numbers
MARGIN = 16
TOP = 56              # the lifelines start below the header boxes
LINE_H = 15           # a detail line (12 px monospace)
MONO_W = 7.3          # the advance of one 12 px monospace character
SANS_W = 6.4          # the average advance of one 11 px sans-serif character
MAX_CHARS = 88        # detail lines longer than this are cut with an ellipsis

_STYLE = """
text { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 12px; fill: #1b1f24; }
.mono { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; }
.head rect { fill: #eef2f7; stroke: #5b6b7f; }
.head text { font-weight: bold; text-anchor: middle; }
.life { stroke: #9aa7b4; stroke-dasharray: 4 4; }
.band { fill: #f6f8fa; }
.num { fill: #6a737d; text-anchor: end; }
.act { font-size: 11px; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; }
.msg { stroke: #2f6fb0; stroke-width: 1.6; }
.mark { fill: #2f6fb0; }
.label { font-weight: bold; }
.detail { fill: #3d4650; }
.verdict rect { fill: #fdecea; stroke: #c62828; }
.verdict.example rect { fill: #e8f5e9; stroke: #2e7d32; }
.verdict text { font-weight: bold; }
""".strip()


def _cut(text: str, n: int = MAX_CHARS) -> str:
    return text if len(text) <= n else text[:n - 1] + "\u2026"


def _head(text: str) -> str:
    return _cut(text, 17)


def _n(x: float) -> str:
    """Coordinates with at most one decimal, written the same way every time."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def trace_svg(trace: Trace, lanes: Lanes | None = None, *, standalone: bool = True) -> str:
    """The trace as an SVG message-sequence chart (see the module docstring).

    Every step is one ``<g class="step">`` with ``data-step``, ``data-action`` and
    ``data-lane``; every lane one ``<g class="lane">`` with ``data-lane``.
    """
    lanes = lanes or Lanes({}, ())
    used = lanes.used(trace)
    x_of = {lane: MARGIN + NUM_W + LANE_W / 2 + i * LANE_W for i, lane in enumerate(used)}
    detail_x = MARGIN + NUM_W + len(used) * LANE_W + 8
    rows = _rows(trace)
    for _, label, _ in rows[1:]:   # a mark's label, right of its lane, ends before the details
        lane, tells = lanes.step(label)
        if lane in x_of and not any(t in x_of for t in tells):
            detail_x = max(detail_x, x_of[lane] + 10 + len(_name(label)) * SANS_W + 12)
    shown = [(i, label, [_cut(x) for x in lines]) for i, label, lines in rows]
    widest = max([len(_cut(f"{i}. {label}")) for i, label, _ in shown] +
                 [len(x) + 2 for _, _, lines in shown for x in lines] + [20])
    verdict = title(trace)
    width = max(detail_x + widest * MONO_W + MARGIN,
                MARGIN * 2 + len(verdict) * 7.0 + 24)
    body = []
    bands = []      # drawn first, under the lifelines
    y = TOP + 8
    for i, label, lines in shown:
        height = max(44, 24 + LINE_H * len(lines) + 8)
        lane, tells = (None, ()) if i == 0 else lanes.step(label)
        lane = lane if lane in x_of else None
        attrs = (f'class="step" data-step="{i}" data-action={quoteattr(label)}'
                 f' data-lane={quoteattr(lane or "")}'
                 f' data-tells={quoteattr(", ".join(tells))}')
        g = [f"<g {attrs}>", f"<title>{escape(label)}</title>"]
        if i % 2 == 0:
            bands.append(f'<rect class="band" x="{MARGIN}" y="{_n(y)}" width="{_n(width - 2 * MARGIN)}"'
                     f' height="{_n(height)}"/>')
        mid = y + 22
        g.append(f'<text class="num" x="{MARGIN + NUM_W - 8}" y="{_n(mid + 4)}">{i}</text>')
        if lane is not None:
            x0 = x_of[lane]
            targets = [x_of[t] for t in tells if t in x_of]
            if targets:
                for xt in targets:
                    g.append(f'<line class="msg" x1="{_n(x0)}" y1="{_n(mid)}" x2="{_n(xt)}"'
                             f' y2="{_n(mid)}" marker-end="url(#arrow)"/>')
                g.append(f'<circle class="mark" cx="{_n(x0)}" cy="{_n(mid)}" r="3.5"/>')
                lo, hi = min([x0, *targets]), max([x0, *targets])
                name = _name(label)
                # centred over the arrows, kept inside the lanes area
                cx = min(max((lo + hi) / 2, MARGIN + NUM_W + len(name) * SANS_W / 2),
                         detail_x - 8 - len(name) * SANS_W / 2)
                g.append(f'<text class="act" x="{_n(cx)}" y="{_n(mid - 6)}"'
                         f' text-anchor="middle">{escape(name)}</text>')
            else:
                g.append(f'<circle class="mark" cx="{_n(x0)}" cy="{_n(mid)}" r="5.5"/>')
                name = _name(label)
                if x0 + 10 + len(name) * SANS_W <= detail_x - 8:    # right of the mark
                    g.append(f'<text class="act" x="{_n(x0 + 10)}" y="{_n(mid + 4)}">'
                             f'{escape(name)}</text>')
                else:   # it would run into the details: left of the mark
                    g.append(f'<text class="act" x="{_n(x0 - 10)}" y="{_n(mid + 4)}"'
                             f' text-anchor="end">{escape(name)}</text>')
        g.append(f'<text class="mono label" x="{_n(detail_x)}" y="{_n(y + 18)}">'
                 f'{escape(_cut(label))}</text>')
        for k, line in enumerate(lines):
            g.append(f'<text class="mono detail" x="{_n(detail_x + 2 * MONO_W)}"'
                     f' y="{_n(y + 18 + LINE_H * (k + 1))}">{escape(line)}</text>')
        g.append("</g>")
        body.append("\n".join(g))
        y += height
    example = trace.kind == "sometimes"
    box_y = y + 10
    body.append(f'<g class="verdict{" example" if example else ""}"'
                f' data-property={quoteattr(trace.property)} data-kind={quoteattr(trace.kind)}>'
                f'<rect x="{MARGIN}" y="{_n(box_y)}" width="{_n(width - 2 * MARGIN)}"'
                f' height="30" rx="4"/>'
                f'<text x="{MARGIN + 12}" y="{_n(box_y + 20)}">'
                f'{CHECK if example else CROSS} {escape(verdict)}</text></g>')
    height = box_y + 30 + MARGIN
    heads = []
    for lane, x in x_of.items():
        heads.append(f'<g class="lane" data-lane={quoteattr(lane)}>'
                     f'<line class="life" x1="{_n(x)}" y1="{TOP}" x2="{_n(x)}" y2="{_n(y)}"/>'
                     f'<g class="head"><rect x="{_n(x - HEAD_W / 2)}" y="{MARGIN}"'
                     f' width="{HEAD_W}" height="28" rx="4"/>'
                     f'<text x="{_n(x)}" y="{MARGIN + 19}">{escape(_head(lane))}</text>'
                     f'<title>{escape(lane)}</title></g></g>')
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    w, h = _n(width), _n(height)
    out = [f'<svg{ns} width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"'
           f' aria-label={quoteattr(verdict)}>',
           f"<title>{escape(verdict)}</title>",
           "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\""
           " markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">"
           "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#2f6fb0\"/></marker>"
           f"<style>{_STYLE}</style></defs>",
           f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
           *bands, *heads, *body, "</svg>"]
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    return head + "\n".join(out) + "\n"


# -- Mermaid --------------------------------------------------------------------------------------

def _mermaid_text(text: str) -> str:
    """Text Mermaid shows as written: ``#`` ``;`` ``<`` ``>`` as its entity codes."""
    out = text.replace("#", "#35;")
    for ch, code in ((";", "#59;"), ("<", "#60;"), (">", "#62;")):
        out = out.replace(ch, code)
    return out


def trace_mermaid(trace: Trace, lanes: Lanes | None = None) -> str:
    """The trace as a Mermaid sequence diagram (it renders where Markdown renders Mermaid)."""
    lanes = lanes or Lanes({}, ())
    used = lanes.used(trace)
    ids = {lane: f"L{i}" for i, lane in enumerate(used)}
    lines = ["sequenceDiagram"]
    lines += [f"    participant {ids[lane]} as {_mermaid_text(lane)}" for lane in used]
    everyone = f"{ids[used[0]]},{ids[used[-1]]}" if len(used) > 1 else ids[used[0]]
    for i, label, details in _rows(trace):
        text = _mermaid_text(f"{i}. {label}")
        notes = "<br/>".join(_mermaid_text(_cut(d)) for d in details)
        if i == 0:
            lines.append(f"    Note over {everyone}: {text}<br/>{notes}")
            continue
        lane, tells = lanes.step(label)
        if lane not in ids:
            lines.append(f"    Note over {everyone}: {text}<br/>{notes}")
            continue
        targets = [t for t in tells if t in ids]
        for k, t in enumerate(targets):
            lines.append(f"    {ids[lane]}->>{ids[t]}: {text if k == 0 else _name(label)}")
        if targets:
            lines.append(f"    Note over {ids[lane]}: {notes}")
        else:
            lines.append(f"    Note over {ids[lane]}: {text}<br/>{notes}")
    mark = "\u2713" if trace.kind == "sometimes" else "\u2717"
    lines.append(f"    Note over {everyone}: {mark} {_mermaid_text(title(trace))}")
    return "\n".join(lines) + "\n"


# -- HTML -----------------------------------------------------------------------------------------

_PAGE_STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 24px; color: #1b1f24; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.chart { overflow-x: auto; border: 1px solid #d0d7de; padding: 8px; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
td, th { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code, td { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; }
.verdict { font-weight: bold; color: #c62828; } .verdict.example { color: #2e7d32; }
""".strip()


def _table(head, rows) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def trace_html(trace: Trace, lanes: Lanes | None = None, *, command: str | None = None) -> str:
    """A self-contained page: the chart inline, then one table per step and the final state.
    It loads nothing: no script, no font, no image from anywhere."""
    verdict = title(trace)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{escape(verdict)}</title>", f"<style>{_PAGE_STYLE}</style></head><body>",
             f"<h1>{escape(verdict)}</h1>"]
    if command:
        parts.append(f"<p>Reproduce: <code>{escape(command)}</code></p>")
    parts.append(f'<div class="chart">{trace_svg(trace, lanes, standalone=False)}</div>')
    prev = None
    for i, step in enumerate(trace.steps):
        parts.append(f'<h2 id="step-{i}">{i}. {escape(step.action)}</h2>')
        if prev is None:
            parts.append(_table(("variable", "value"),
                                [(k, show(v)) for k, v in step.state.items()]))
        else:
            diff = changes(prev, step.state)
            parts.append(_table(("variable", "before", "after"),
                                [(k, show(a), show(b)) for k, (a, b) in diff.items()])
                         if diff else "<p>(no change)</p>")
        prev = step.state
    if trace.steps:
        parts.append("<h2>Final state</h2>")
        parts.append(_table(("variable", "value"),
                            [(k, show(v)) for k, v in trace.final_state.items()]))
    cls = "verdict example" if trace.kind == "sometimes" else "verdict"
    parts.append(f'<p class="{cls}">{escape(verdict)}</p>')
    if trace.steps:
        parts.append("<p>Action path: <code>" + escape("; ".join(trace.action_path()))
                     + "</code></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
