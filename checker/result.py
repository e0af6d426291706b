"""The typed result of a check, with assertion helpers for tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from .trace import Trace


@dataclass(frozen=True)
class ActionCoverage:
    """How often one action instance fired, and how many new states it found."""

    action: str
    fired: int
    new_states: int


@dataclass
class CheckResult:
    """What a search found.

    ``verdict`` is ``holds`` (every checked property holds in every explored state and the
    search was complete, or cut only at the depth bound the caller gave), ``violated`` (see
    ``violation``) or ``incomplete`` (stopped at a state, time or memory limit, or
    interrupted, before an answer). ``complete`` is true only when the whole reachable space
    was explored; ``bound`` records any depth bound that cut it.

    ``vacuous`` names the checked properties that are constantly true in the checked
    configuration (``PropertyInfo.constant``): they cannot fail, so they are never reported
    as holding; ``status()`` gives each property's own outcome. ``depth`` is, for ``bfs``
    and ``bmc``, the shortest-path depth reached; for ``dfs`` the longest path explored.
    """

    system: str
    engine: str
    verdict: str
    complete: bool
    distinct_states: int
    states_generated: int
    depth: int
    seconds: float
    properties: list[str]
    violation: Trace | None = None
    examples: dict[str, Trace] = field(default_factory=dict)
    coverage: list[ActionCoverage] = field(default_factory=list)
    states_per_depth: list[int] = field(default_factory=list)
    stop_reason: str | None = None
    bound: dict = field(default_factory=dict)
    fingerprints: str = "64-bit"
    collision_probability: float = 0.0
    vacuous: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    #: memory held by the visited set and the parent links at the end (bytes)
    stored_bytes: int = 0
    #: said when the engine asked for could not run and another did (see ``engines``)
    note: str = ""
    symmetry: str = ""          # the permutation classes states were reduced by, if any
    #: seconds spent building the model before the search (set by the command)
    build_seconds: float = 0.0
    #: for a run that checked liveness properties: the graph pass's seconds, its edges, and
    #: the fairness it assumed (``as declared`` or the override)
    liveness: dict | None = None
    #: liveness properties of the system left out (not named, and ``liveness`` not asked)
    unchecked: list[str] = field(default_factory=list)
    #: for the distributed engine: the cluster, the workers, the states each owns, and the
    #: bytes the workers sent each other (``distributed/engine.py``)
    distributed: dict | None = None

    @property
    def bytes_per_state(self) -> float:
        return self.stored_bytes / self.distinct_states if self.distinct_states else 0.0

    def status(self) -> dict[str, str]:
        """Each checked property's outcome, one of: ``holds``, ``vacuous`` (constantly true
        here: it checks nothing), ``violated``, ``not_violated_so_far`` (an always-property
        when the search stopped early or another property failed), ``reached`` (a
        sometimes-property with an example), ``trivially_reached`` (its example is an
        initial state), ``unreachable`` (the complete search found no example),
        ``not_reached_before_stop`` (the search stopped, or was cut at the depth bound,
        first)."""
        v = self.violation
        out = {}
        for name in self.properties:
            kind = self.kinds.get(name, v.kind if v is not None and v.property == name
                                  else ("sometimes" if name in self.examples else "always"))
            if name in self.vacuous:
                out[name] = "vacuous"
            elif v is not None and v.property == name:
                out[name] = "unreachable" if v.kind == "sometimes" else "violated"
            elif kind == "sometimes":
                ex = self.examples.get(name)
                out[name] = "not_reached_before_stop" if ex is None else \
                    "trivially_reached" if ex.length == 0 else "reached"
            elif self.verdict == "holds":
                out[name] = "holds"
            else:
                out[name] = "not_violated_so_far"
        return out

    @property
    def depth_meaning(self) -> str:
        return "longest path explored" if self.engine == "dfs" else "shortest-path depth"

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0

    # -- helpers for tests, in the manner of stateright's assert_properties ---------------
    def assert_holds(self):
        """Fail unless every property holds and the search was complete."""
        if self.verdict != "holds" or not self.complete:
            raise AssertionError(f"expected a complete check that holds; got {self.verdict}"
                                 f" (complete={self.complete}, stop={self.stop_reason},"
                                 f" violation={self.violation and self.violation.property})")

    def assert_violation(self, prop: str, *, length: int | None = None,
                         path: list[str] | None = None):
        """Fail unless ``prop`` is violated, optionally with a given trace length or path."""
        v = self.violation
        if self.verdict != "violated" or v is None or v.property != prop:
            raise AssertionError(f"expected {prop} violated; got {self.verdict} "
                                 f"({v and v.property})")
        if length is not None and v.length != length:
            raise AssertionError(f"expected a trace of {length} steps, got {v.length}: "
                                 f"{v.action_path()}")
        if path is not None and v.action_path() != path:
            raise AssertionError(f"expected path {path}, got {v.action_path()}")

    def assert_example(self, prop: str, *, length: int | None = None,
                       path: list[str] | None = None):
        """Fail unless the sometimes-property ``prop`` was reached (with the given path)."""
        ex = self.examples.get(prop)
        if ex is None:
            raise AssertionError(f"no example of {prop} was found ({self.verdict})")
        if length is not None and ex.length != length:
            raise AssertionError(f"expected an example of {length} steps, got {ex.length}")
        if path is not None and ex.action_path() != path:
            raise AssertionError(f"expected path {path}, got {ex.action_path()}")
