"""Errors raised while a model is defined, built or compiled.

Each names the thing, states the rule and suggests the fix; the CLI prints the message as one
line (exit 2), so messages never rely on a traceback for context.
"""


class ModelError(Exception):
    """A model is malformed: a bad type, a duplicate name, an action that cannot be traced."""


class TracingError(ModelError):
    """An action body did something the language cannot record (a Python ``if`` on a traced
    value, ``and``/``or`` on traced values, ``in`` on a traced set)."""


class ParameterError(ModelError):
    """A model parameter is unknown, has the wrong type, or is out of range."""
