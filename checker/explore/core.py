"""What the explorer shows, as data: no HTTP here.

A state is named by a path from an initial state: ``init`` (the index of the initial state)
and ``path``, the index of each step among the successors of the state before it, in the
order ``TransitionSystem.successors`` gives them. States are expanded on demand, when a path
reaches them, so the explorer works on spaces far too large to enumerate.
"""

from __future__ import annotations

import json
import threading

from ..charts import Lanes
from ..render import show, to_json
from ..system import LIVENESS

#: the longest path a request may name (a deeper state is reached by a saved trace's path)
MAX_PATH = 10_000
#: states whose successors are kept; past this the cache starts over
CACHE_STATES = 200_000


class BadRequest(ValueError):
    """A request the explorer cannot answer: an HTTP 400 with this one-line message."""


def parse_path(text: str | None) -> list[int]:
    """``"3,0,2"`` as ``[3, 0, 2]``; ``""`` or None as ``[]``."""
    if text is None or text.strip() == "":
        return []
    parts = text.split(",")
    if len(parts) > MAX_PATH:
        raise BadRequest(f"path has {len(parts)} steps; at most {MAX_PATH} are accepted")
    out = []
    for i, part in enumerate(parts):
        part = part.strip()
        if not part.isdigit() or len(part) > 9:
            raise BadRequest(f"path: step {i + 1} is {part!r}, not a successor index (the "
                             "path is comma-separated numbers such as 3,0,2)")
        out.append(int(part))
    return out


def parse_index(text: str | None, what: str) -> int:
    if text is None or text == "":
        return 0
    if not text.isdigit() or len(text) > 9:
        raise BadRequest(f"{what} is {text!r}, not a number")
    return int(text)


def _normal(value):
    """A decoded value as the JSON a saved trace holds, for comparing the two."""
    return json.loads(json.dumps(to_json(value)))


def _from_itf(states) -> list:
    """ITF states as the steps of a JSON trace (``{"action", "state"}``)."""
    from ..render import from_itf
    out = []
    for i, st in enumerate(states):
        if not isinstance(st, dict):
            raise BadRequest(f"ITF state {i} is not an object")
        meta = st.get("#meta") if isinstance(st.get("#meta"), dict) else {}
        try:
            state = {k: _normal(from_itf(v)) for k, v in st.items() if k != "#meta"}
        except (ValueError, TypeError) as e:
            raise BadRequest(f"ITF state {i}: {e}") from None
        out.append({"action": meta.get("action", "init" if i == 0 else "?"), "state": state})
    return out


class Explorer:
    """Answers for one transition system (a compiled model or any ``TransitionSystem``)."""

    def __init__(self, system, *, title: str = "", command: str = ""):
        self.system = system
        self.title = title or system.name
        self.command = command
        self.lanes = Lanes.of(system)
        self._initial = list(system.initial_states())
        self._succ: dict = {}
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._props = [p for p in system.properties]
        self._groups = self._variable_groups()

    # -- the state at a path ---------------------------------------------------------------
    def successors(self, state) -> list:
        with self._lock:
            hit = self._succ.get(state)
        if hit is None:
            hit = list(self.system.successors(state))
            with self._lock:
                if len(self._succ) >= CACHE_STATES:
                    self._succ.clear()
                self._succ[state] = hit
        return hit

    def walk(self, init: int, path: list[int]) -> list[tuple[str, object]]:
        """The steps along a path: ``(label, state)``, the first labelled ``init``."""
        if not 0 <= init < len(self._initial):
            raise BadRequest(f"init is {init}, but {self.system.name} has "
                             f"{len(self._initial)} initial state(s): 0.."
                             f"{len(self._initial) - 1}")
        state = self._initial[init]
        steps = [("init", state)]
        for i, k in enumerate(path):
            succ = self.successors(state)
            if k >= len(succ):
                raise BadRequest(f"path: step {i + 1} takes successor {k}, but that state has "
                                 f"{len(succ)} successor(s)" + (f": 0..{len(succ) - 1}"
                                                                 if succ else ""))
            action, state = succ[k]
            steps.append((self.system.actions[action], state))
        return steps

    def view(self, init: int = 0, path: list[int] | tuple = ()) -> dict:
        """Everything the page shows at a path."""
        path = list(path)
        steps = self.walk(init, path)
        label, state = steps[-1]
        before = steps[-2][1] if len(steps) > 1 else None
        decoded = self.system.decode(state)
        prev = self.system.decode(before) if before is not None else None
        actions = []
        for k, (a, _) in enumerate(self.successors(state)):
            name = self.system.actions[a]
            lane, tells = self.lanes.step(name)
            actions.append({"index": k, "action": name, "lane": lane, "tells": list(tells)})
        return {"init": init, "path": path,
                "steps": [{"action": a, "index": (path[i - 1] if i else init)}
                          for i, (a, _) in enumerate(steps)],
                "state": self._grouped(decoded, prev),
                "raw": {k: to_json(v) for k, v in decoded.items()},
                "actions": actions,
                "deadlock": not actions,
                "properties": self._properties(before, state)}

    def _properties(self, before, state) -> list[dict]:
        out = []
        for p in self._props:
            if p.kind in LIVENESS:
                holds, note = None, "a liveness property: decided over whole behaviours"
            elif p.kind == "transition":
                if before is None:
                    holds, note = None, "a step property: no step taken yet"
                else:
                    holds = self.system.first_false_step([p.name])(before, state) < 0
                    note = "of the last step"
            else:
                holds, note = self.system.first_false([p.name])(state) < 0, ""
            out.append({"name": p.name, "kind": p.kind, "holds": holds, "note": note,
                        "doc": (p.doc or "").split("\n\n")[0]})
        return out

    # -- grouping: per domain element, the way the model declares its maps -------------------
    def _variable_groups(self):
        """``[(title, [map variable names])]`` for maps keyed by the same domain, or None for a
        system without a typed layout."""
        layout = getattr(self.system, "layout", None)
        if layout is None:
            return None
        from ..lang.types import Map
        groups: dict = {}
        for v in layout.variables:
            if isinstance(v.type, Map):
                groups.setdefault(v.type.domain.name, []).append(v.name)
        return [(name, names) for name, names in groups.items() if len(names) > 1]

    def _grouped(self, decoded: dict, prev: dict | None) -> list[dict]:
        """Tables: one per domain whose maps the model declares (a row per element, a column
        per map), then the other variables one per row."""
        tables, placed = [], set()
        changed = lambda name, key=None: prev is not None and (  # noqa: E731
            (prev.get(name) if key is None else prev.get(name, {}).get(key))
            != (decoded.get(name) if key is None else decoded.get(name, {}).get(key)))
        for title, names in self._groups or []:
            keys = list(decoded[names[0]].keys())
            if not all(isinstance(decoded.get(n), dict) and list(decoded[n]) == keys
                       for n in names):
                continue
            placed.update(names)
            rows = [{"key": show(k), "cells": [{"value": show(decoded[n][k]),
                                                "changed": changed(n, k)} for n in names]}
                    for k in keys]
            tables.append({"title": f"per {title}", "columns": [title, *names], "rows": rows})
        rest = [{"key": n, "cells": [{"value": show(v), "changed": changed(n)}]}
                for n, v in decoded.items() if n not in placed]
        if rest:
            tables.append({"title": "variables", "columns": ["variable", "value"],
                           "rows": rest})
        return tables

    # -- a saved trace -------------------------------------------------------------------------
    def path_of_trace(self, doc) -> dict:
        """The ``init`` and ``path`` that replay a saved trace: the ``--trace-format json``
        or ``itf`` output, or a ``--format json`` report with a violation. Every step must be a
        successor of the one before with the same action and state."""
        if isinstance(doc, dict) and isinstance(doc.get("violation"), dict):
            doc = doc["violation"]
        if isinstance(doc, dict) and isinstance(doc.get("states"), list) and "#meta" in doc:
            doc = {"trace": _from_itf(doc["states"])}
        steps = doc.get("trace") if isinstance(doc, dict) else None
        if not isinstance(steps, list) or not steps or not all(
                isinstance(s, dict) and "action" in s and "state" in s for s in steps):
            raise BadRequest("not a kafkacheck trace: expected the JSON of --trace-format json"
                             ", {\"trace\": [{\"action\", \"state\"}, ...]}")
        if doc.get("loop") is not None and steps[-1].get("action") == "stutter":
            steps = steps[:-1]   # a lasso that stays in its last state: no step to replay
        if len(steps) > MAX_PATH + 1:
            raise BadRequest(f"the trace has {len(steps)} states; at most {MAX_PATH + 1}")
        first = steps[0]["state"]
        init = next((i for i, s in enumerate(self._initial)
                     if _normal(self.system.decode(s)) == first), None)
        if init is None:
            raise BadRequest(f"the trace's first state is not an initial state of "
                             f"{self.system.name} with these parameters (was it saved from "
                             "another model or configuration?)")
        state, path = self._initial[init], []
        for i, step in enumerate(steps[1:], start=1):
            for k, (a, nxt) in enumerate(self.successors(state)):
                if self.system.actions[a] == step["action"] and \
                        _normal(self.system.decode(nxt)) == step["state"]:
                    path.append(k)
                    state = nxt
                    break
            else:
                raise BadRequest(f"step {i} of the trace, {step['action']!s:.80}, is not a "
                                 f"step of {self.system.name} from the state before it")
        return {"init": init, "path": path}

    # -- a check from the page ---------------------------------------------------------------
    def run_check(self, name: str | None = None, *, time_limit: float = 30.0,
                  max_states: int = 2_000_000) -> dict:
        """Breadth-first search from the initial states: for ``name`` None, every safety
        property, and the path of the shortest counterexample; for a sometimes-property, the
        path of its shortest example. One check at a time; bounded by ``time_limit`` and
        ``max_states`` (then ``complete`` is false)."""
        from ..explicit import check
        from ..render import trace_json
        from ..system import PropertyError, SAFETY
        try:
            names = self.system.select(None if name is None else [name], kinds=SAFETY,
                                       purpose="checked from the explorer")
        except PropertyError as e:
            raise BadRequest(str(e)) from None
        kind = self.system.kinds([name]).get(name) if name else None
        if kind == "sometimes":
            return self._find_example(name, time_limit, max_states)
        with self._check_lock:
            result = check(self.system, engine="bfs", properties=names,
                           time_limit=time_limit, max_states=max_states)
        trace = result.examples.get(name) if kind == "sometimes" else result.violation
        out = {"verdict": result.verdict, "complete": result.complete,
               "distinct_states": result.distinct_states, "property": None, "kind": None,
               "init": None, "path": None}
        if trace is not None and trace.steps:
            out.update(self.path_of_trace(trace_json(trace)), property=trace.property,
                       kind=trace.kind, length=trace.length)
        return out

    def _find_example(self, name, time_limit, max_states) -> dict:
        """Breadth-first search that stops at the first state satisfying ``name`` (the
        engines would go on to exhaust the space): the path of its shortest example."""
        import time
        from collections import deque
        holds = self.system.first_false([name])
        started = time.monotonic()
        parent: dict = {}
        queue: deque = deque()
        for i, s in enumerate(self._initial):
            if s not in parent:
                parent[s] = (None, i)
                queue.append(s)
        found, complete = None, True
        while queue:
            state = queue.popleft()
            if holds(state) < 0:
                found = state
                break
            if len(parent) >= max_states or time.monotonic() - started > time_limit:
                complete = False
                break
            for k, (_, nxt) in enumerate(self.system.successors(state)):
                if nxt not in parent:
                    parent[nxt] = (state, k)
                    queue.append(nxt)
        out = {"verdict": "holds" if found is not None else
               ("incomplete" if not complete else "never"), "complete": complete or
               found is not None, "distinct_states": len(parent), "property": None,
               "kind": None, "init": None, "path": None}
        if found is not None:
            path = []
            while parent[found][0] is not None:
                found, k = parent[found]
                path.append(k)
            out.update(init=parent[found][1], path=path[::-1], property=name,
                       kind="sometimes", length=len(path))
        return out

    def describe(self) -> dict:
        return {"title": self.title, "name": self.system.name, "command": self.command,
                "params": {k: to_json(v) for k, v in dict(self.system.params).items()},
                "initial_states": len(self._initial),
                "lanes": list(self.lanes.order),
                "properties": [{"name": p.name, "kind": p.kind} for p in self._props]}
