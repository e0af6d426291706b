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
    ``sometimes`` (an example reaching the property), ``transition`` (a step property
    broken by the last step), ``deadlock`` (the last state has no successor), ``type_ok``
    (the next action, named in ``note``, leaves a variable's range), or a liveness kind,
    ``eventually`` or ``leads_to``: then the trace is a *lasso*, and ``loop`` is the index
    of the state that the last step returns to (the last state equals it; its action is
    ``stutter`` when the behaviour stays there forever without a step).
    """

    property: str
    kind: str
    steps: tuple[Step, ...]
    note: str = ""
    loop: int | None = None

    @property
    def is_lasso(self) -> bool:
        return self.loop is not None

    @property
    def loop_length(self) -> int:
        """The steps of the loop (0 for a trace that is not a lasso)."""
        return self.length - self.loop if self.loop is not None else 0

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
