"""The pytest plugin: ``pytest --kafkacheck DIR`` runs every check file under DIR as a test.

Registered through the ``pytest11`` entry point, so installing kafkacheck is enough. Without
``--kafkacheck`` it does nothing: no option changes what pytest collects.

- ``--kafkacheck DIR`` (repeatable) collects each ``*.toml`` check file under DIR as one
  test item. It passes when the outcome is as the file records (a check that records a
  violation passes when that violation is found, with the recorded trace); it fails showing
  each difference, the record, the outcome and the trace.
- When no test paths are given on the command line, only the DIRs are collected (not the
  project's ``testpaths``); ``pytest --kafkacheck checks tests`` runs both.
- Checks marked ``slow = true`` are skipped unless ``--kafkacheck-slow`` is given, as the
  built-in suite skips them without ``--slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("kafkacheck", "kafkacheck check files as tests")
    group.addoption("--kafkacheck", action="append", default=[], metavar="DIR",
                    help="collect every kafkacheck check file (*.toml) under DIR as a test")
    group.addoption("--kafkacheck-slow", action="store_true", default=False,
                    help="also run the check files marked slow")


def _dirs(config) -> list[Path]:
    return [Path(d).resolve() for d in config.getoption("kafkacheck", default=None) or []]


def pytest_configure(config):
    dirs = _dirs(config)
    if not dirs:
        return
    for d in dirs:
        if not d.is_dir():
            raise pytest.UsageError(f"--kafkacheck {d}: not a directory of check files")
    # test paths named on the command line stay; the ones pytest chose by itself (the
    # project's testpaths, or the current folder) give way to the check folders
    source = getattr(config, "args_source", None)  # pytest >= 7.2
    named = source.name == "ARGS" if source is not None else _named_paths(config)
    given = list(config.args) if named else []
    config.args[:] = given + [str(d) for d in dirs if str(d) not in given]


def _named_paths(config) -> bool:
    """Whether the command line named test paths (for a pytest without ``args_source``)."""
    values = set(config.getoption("kafkacheck"))
    return any(Path(str(a).split("::")[0]).exists() for a in config.invocation_params.args
               if not str(a).startswith("-") and str(a) not in values)


def pytest_collect_file(file_path, parent):
    dirs = _dirs(parent.config)
    if not dirs or file_path.suffix != ".toml":
        return None
    resolved = file_path.resolve()
    if any(resolved.is_relative_to(d) for d in dirs):
        return CheckFile.from_parent(parent, path=file_path)
    return None


class CheckFile(pytest.File):
    """A check file: one item, named by the check's name."""

    def collect(self):
        from kafkacheck.checker.specfile import SpecError, load_spec
        try:
            spec = load_spec(self.path)
        except SpecError as e:
            yield CheckItem.from_parent(self, name=self.path.stem, spec=None, error=str(e))
            return
        yield CheckItem.from_parent(self, name=spec.name, spec=spec, error=None)


class CheckFailed(Exception):
    """The outcome differs from the check file's record."""


class CheckItem(pytest.Item):
    def __init__(self, *, spec, error, **kw):
        super().__init__(**kw)
        self.spec, self.error = spec, error
        if spec is not None and spec.slow:
            self.add_marker(pytest.mark.slow)

    def runtest(self):
        if self.error is not None:
            raise CheckFailed(self.error)
        if self.spec.slow and not self.config.getoption("kafkacheck_slow"):
            pytest.skip("slow check: --kafkacheck-slow runs it")
        from kafkacheck.testing import BadInput, check_file
        try:
            checked = check_file(self.path)
        except BadInput as e:
            raise CheckFailed(str(e)) from None
        if not checked.as_recorded:
            raise CheckFailed(checked.report())
        r = checked.result
        self.user_properties.append(("verdict", r.verdict))
        self.user_properties.append(("distinct_states", r.distinct_states))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"kafkacheck check {self.name}"
