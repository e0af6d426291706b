"""Checks as tests: a small Python API, and the pytest plugin (``pytest --kafkacheck DIR``).

Write a test by hand::

    from kafkacheck.testing import check

    def test_min_isr_1_loses_an_acknowledged_write():
        result = check("zk-cluster", min_insync_replicas=1, max_writes=1,
                       properties=["acked_write_not_lost"])
        result.assert_violation("acked_write_not_lost")

    def test_the_default_cluster_is_safe():
        check("zk-cluster").assert_holds()

``check`` returns the engines' typed result (``kafkacheck.checker.result.CheckResult``:
``verdict``, ``violation`` with its steps, ``distinct_states``, ``depth``, ``status()``, and
the helpers ``assert_holds``, ``assert_violation``, ``assert_example``); ``symmetry=True``
stores one state per permutation class, as ``--symmetry`` does. Parameters are
keyword arguments by the model's attribute names (``min_insync_replicas=1``), or a dict by
Kafka key (``params={"min.insync.replicas": 1}``); ``config=["server.properties"]`` reads
Java properties files as ``--config`` does. Bad input (an unknown model, parameter or
property, a malformed file) raises ``BadInput`` with the one-line message the command line
prints.

Run a check file and compare its outcome with its record: ``check_file(path)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["BadInput", "Checked", "check", "check_file"]


class BadInput(ValueError):
    """An unknown model, parameter or property, or a malformed file (one-line message)."""


def _bad_input():
    from kafkacheck.checker.cli.targets import UserError
    from kafkacheck.checker.lang import ModelError
    from kafkacheck.checker.specfile import SpecError
    from kafkacheck.checker.system import PropertyError
    return (UserError, ModelError, SpecError, PropertyError)


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def check(target: str, *, properties=None, engine: str | None = None,
          max_depth: int | None = None, max_states: int | None = None,
          time_limit: float | None = None, before=(), config=(), params=None,
          symmetry: bool = False, **kwargs):
    """Check ``target`` (a model name, a built-in check's name, a ``.toml`` check file or
    ``path/to/file.py:Class``) and return its ``CheckResult``.

    Keyword arguments beyond the options are the model's parameters: ``check("failover",
    brokers=3, max_epoch=2)``; ``params`` gives them by Kafka key. The check file's own
    parameters, properties, engine and depth bound apply unless given here, as with
    ``kafkacheck check``.

    >>> r = check("failover", brokers=3, partitions=1, replication_factor=2, max_epoch=1)
    >>> r.verdict, r.distinct_states > 0
    ('holds', True)
    """
    result, _ = _run(target, properties=properties, engine=engine, max_depth=max_depth,
                     max_states=max_states, time_limit=time_limit, before=before,
                     config=config, params=params, symmetry=symmetry, kwargs=kwargs)
    return result


def _run(target, *, properties=None, engine=None, max_depth=None, max_states=None,
         time_limit=None, before=(), config=(), params=None, symmetry=False, kwargs=None,
         spec=None):
    from kafkacheck.checker.cli.checking import Run
    from kafkacheck.checker.cli.config import resolve_configured
    from kafkacheck.checker.cli.targets import spec_target
    settings = {k: _text(v) for k, v in (params or {}).items()}
    for k, v in (kwargs or {}).items():
        if k in settings:
            raise BadInput(f"parameter {k} given twice")
        settings[k] = _text(v)
    try:
        if spec is not None:
            resolved = spec_target(str(spec.path), spec)
            applied = None
        else:
            resolved, settings, applied = resolve_configured(
                str(target), [str(c) for c in ([config] if isinstance(config, (str, Path))
                                               else config)], settings)
        run = Run(resolved, settings, tuple(before), tuple(properties or ()), engine,
                  max_depth, max_states, time_limit, False, False, symmetry=symmetry)
        run.config = applied
        return run.execute(time_limit), run
    except _bad_input() as e:
        raise BadInput(" ".join(str(e).split())) from None


@dataclass
class Checked:
    """A check file's run: the file, its result, and how the result differs from the
    record (empty when it is as recorded)."""

    spec: object
    result: object
    mismatches: list
    command: str

    @property
    def as_recorded(self) -> bool:
        return not self.mismatches

    def report(self) -> str:
        """The outcome against the record, then the trace (when there is one)."""
        from kafkacheck.checker.render import trace_text
        e, r = self.spec.expect, self.result
        lines = [f"{self.spec.name} ({self.spec.path}): "
                 + ("as recorded" if self.as_recorded else "DIFFERS from the record")]
        for m in self.mismatches:
            lines.append(f"  - {m}")
        record = {k: v for k, v in vars(e).items() if v not in (None, {})}
        lines.append(f"  record:  {record}")
        got = {"verdict": r.verdict, "distinct_states": r.distinct_states, "depth": r.depth}
        if r.violation is not None:
            got.update(property=r.violation.property, trace_length=r.violation.length)
        if r.stop_reason:
            got["stop_reason"] = r.stop_reason
        lines.append(f"  outcome: {got}")
        if r.violation is not None and r.violation.steps:
            lines.append("")
            lines.append(trace_text(r.violation, command=self.command).rstrip("\n"))
        else:
            lines.append(f"Reproduce: {self.command}")
        return "\n".join(lines)


def check_file(path, *, time_limit: float | None = None) -> Checked:
    """Run one check file as recorded and compare the outcome with its ``[expect]``."""
    from kafkacheck.checker.specfile import SpecError, load_spec, mismatches
    try:
        spec = load_spec(path)
    except SpecError as e:
        raise BadInput(str(e)) from None
    result, run = _run(None, time_limit=time_limit, spec=spec)
    return Checked(spec, result, mismatches(spec, result), run.argv)
