"""How a run is stopped from outside the engines' own loops: Ctrl-C, SIGTERM, a deadline.

The engines already treat ``KeyboardInterrupt`` as "stop here and return the statistics so far"
(stop reason ``interrupted``). A ``Deadline`` is a ``KeyboardInterrupt`` that says the time limit
ran out (stop reason ``time_limit``): the command line raises one from a timer signal so that
code the engines do not control (a user's model while it is imported, built or compiled) cannot
run past ``--time-limit``.
"""

from __future__ import annotations


class Deadline(KeyboardInterrupt):
    """The run's time limit is past; raised asynchronously by a timer."""

    reason = "time_limit"


def stop_reason(interrupt: BaseException) -> str:
    """``time_limit`` for a ``Deadline``, ``interrupted`` for any other interrupt."""
    return getattr(interrupt, "reason", "interrupted")
