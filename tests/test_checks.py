"""Every check file under specs/checks/ against its record: one parametrized test.

Each check runs the way ``kafkacheck check NAME`` (and the suite) runs it, and
``specfile.mismatches`` compares the result with the file's ``[expect]``: verdict, distinct
and generated states, depth, the violated property, and its trace (length and action path).
Slow checks (``slow = true``) are run by ``kafkacheck check --slow``, not here.

Checks up to ``EXACT_LIMIT`` states run with whole states stored (``--exact``), so the same
run also shows that 64-bit fingerprints lose no state: the records were made with
fingerprints, which the suite (CI's main job) uses. The larger ones run with the default
engine, batch (tests/test_batch.py runs batch on the small ones against the same records);
their exact storage was compared once (docs/benchmarks.md). So do the checks reduced by
symmetry.
"""

from __future__ import annotations

import dataclasses

import pytest

from kafkacheck.checker.cli.checking import Run
from kafkacheck.checker.cli.targets import Target, builtin_specs, resolve
from kafkacheck.checker.specfile import mismatches

SPECS = builtin_specs()
FAST = [s for s in SPECS if not s.slow]
EXACT_LIMIT = 200_000


def run_check(spec):
    target = Target(spec.name, resolve(spec.name).model_class, spec)
    # canonical forms under symmetry are slow per state in Python: those run with batch
    # (tests/test_symmetry.py compares bfs and batch under symmetry on a smaller space)
    exact = (spec.expect.distinct_states or 0) <= EXACT_LIMIT and not spec.symmetry
    result = Run(target, {}, (), (), None, None, None, None, exact, False).execute()
    assert result.fingerprints == ("exact" if exact else "64-bit")
    assert result.engine == ("bfs" if exact else "batch")  # test_batch.py runs the small ones
    return result


@pytest.mark.parametrize("spec", FAST, ids=lambda s: s.name)
def test_the_check_file_records_the_outcome(spec):
    assert mismatches(spec, run_check(spec)) == []


@pytest.mark.parametrize("spec", FAST, ids=lambda s: s.name)
def test_the_record_pins_generated_states_and_the_trace(spec):
    e = spec.expect
    assert e.distinct_states is not None and e.depth is not None
    assert e.states_generated is not None
    if e.trace_length is not None:  # an invariant's trace (a sometimes-property has none)
        assert e.trace is not None and len(e.trace) == e.trace_length


def test_mismatches_names_each_difference():
    spec = next(s for s in FAST if s.name == "bootstrap-one")
    result = run_check(spec)
    result.states_generated += 1
    v = result.violation
    result.violation = dataclasses.replace(
        v, steps=(*v.steps[:-1], dataclasses.replace(v.steps[-1], action="nothing()")))
    diff = mismatches(spec, result)
    assert len(diff) == 2
    assert diff[0] == f"{result.states_generated} generated, expected {spec.expect.states_generated}"
    assert diff[1].startswith("trace [") and "'nothing()'" in diff[1]
