"""The batch engine against the reference: every check file's record (made with ``bfs``),
and random models in the modeling language, with bfs run beside it."""

from __future__ import annotations

import pytest

from kafkacheck.checker.cli.checking import Run
from kafkacheck.checker.cli.targets import Target, builtin_specs, resolve
from kafkacheck.checker.specfile import mismatches

FAST = [s for s in builtin_specs() if not s.slow]


def run_batch(spec):
    target = Target(spec.name, resolve(spec.name).model_class, spec)
    return Run(target, {}, (), (), "batch", None, None, None, False, False).execute()


@pytest.mark.parametrize("spec", FAST, ids=lambda s: s.name)
def test_batch_gives_the_records_of_bfs(spec):
    result = run_batch(spec)
    assert result.engine == "batch", result.note
    assert mismatches(spec, result) == []
