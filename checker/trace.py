"""Counterexamples and examples as data: a property and the steps that reach its verdict."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    """One step: the action that was taken (``init`` for the first) and the state after it."""

    action: str
    state: dict
    raw: tuple | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Trace:
    """A path from an initial state.

    ``kind`` says what it shows: ``always`` (an invariant broken in the last state),
    ``sometimes`` (an example reaching the property), ``deadlock`` (the last state has no
    successor) or ``type_ok`` (the next action, named in ``note``, leaves a variable's range).
    """

    property: str
    kind: str
    steps: tuple[Step, ...]
    note: str = ""

    @property
    def length(self) -> int:
        """The number of actions taken (the initial state is not a step; 0 for a trace with
        no states, the report that no reachable state satisfies a sometimes-property)."""
        return max(len(self.steps) - 1, 0)

    def action_path(self) -> list[str]:
        return [s.action for s in self.steps[1:]]

    @property
    def final_state(self) -> dict:
        return self.steps[-1].state
