"""The command line against hostile input (issue #9): exit code 0-3, exit 2 is one line on
stderr, never a traceback, no file changed that was not asked for, time limits honoured.

A bounded run for CI; the long one for releases is ``python tests/fuzz_release.py --count
2000`` (each input in its own process). The inputs come from tests/fuzzing.py.
"""

import contextlib
import io
import os
import sys
import time

from hypothesis import HealthCheck, given, settings, strategies as st

from kafkacheck.checker.cli import main

sys.path.insert(0, os.path.dirname(__file__))
import fuzzing  # noqa: E402

FUZZ = settings(max_examples=int(os.environ.get("KAFKACHECK_FUZZ_EXAMPLES", "200")),
                deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def run_in(folder, argv):
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue(), time.monotonic() - start


@FUZZ
@given(st.randoms(use_true_random=False))
def test_hostile_inputs_keep_the_contract(tmp_path_factory, rng):
    inp = fuzzing.make_input(rng, time_limit=0.5, in_process=True)
    folder = tmp_path_factory.mktemp("fuzz")
    fuzzing.materialize(inp, str(folder))
    before = fuzzing.snapshot(str(folder))
    code, out, err, seconds = run_in(folder, inp.argv)
    after = fuzzing.snapshot(str(folder))
    problems = fuzzing.violations(inp, code, out, err, before, after, seconds)
    assert not problems, (inp.argv, problems, err[-2000:])


@FUZZ
@given(st.lists(st.sampled_from(sorted({*fuzzing.MODELS, *fuzzing.NUMBERS, *fuzzing.OUTPUTS,
                                        *(f for fl in fuzzing.FLAGS.values() for f in fl),
                                        "check", "prove", "graph", "quorum", "models"})),
                max_size=6))
def test_any_argument_list_keeps_the_contract(tmp_path_factory, argv):
    inp = fuzzing.Input([*argv, "--time-limit", "0.5"] if argv[:1] == ["check"]
                        else argv, time_limit=0.5 if argv[:1] == ["check"] else None)
    inp.files = fuzzing.make_input(__import__("random").Random(0), in_process=True).files
    folder = tmp_path_factory.mktemp("fuzz")
    fuzzing.materialize(inp, str(folder))
    before = fuzzing.snapshot(str(folder))
    code, out, err, seconds = run_in(folder, inp.argv)
    after = fuzzing.snapshot(str(folder))
    asked = {a for i, a in enumerate(inp.argv[1:]) if inp.argv[i] in ("--trace-out", "--out")}
    inp.writes = asked
    problems = fuzzing.violations(inp, code, out, err, before, after, seconds)
    assert not problems, (inp.argv, problems, err[-2000:])
