"""``--junit-xml``: one test case per check (the suite) or per property (a target)."""

import shutil
import xml.etree.ElementTree as ET

import junitparser
import pytest

from kafkacheck.checker.cli import checking, main, targets
from kafkacheck.checker.specfile import load_spec

CHECKS = targets.checks_folder()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def cases(path):
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    return {c.name: c for c in suites[0]}, suites[0]


def _schema_shape(path):
    """What the common JUnit schema requires: testsuites > testsuite > testcase, each case
    with name and classname, at most one of failure / error / skipped, counts that add up."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    for suite in root:
        assert suite.tag == "testsuite"
        tally = {"failure": 0, "error": 0, "skipped": 0}
        for case in suite:
            assert case.tag == "testcase" and case.get("name") and case.get("classname")
            float(case.get("time"))
            results = [c for c in case if c.tag in tally]
            assert len(results) <= 1
            for r in results:
                tally[r.tag] += 1
                assert r.get("message") is not None
        assert int(suite.get("tests")) == len(suite)
        assert int(suite.get("failures")) == tally["failure"]
        assert int(suite.get("errors")) == tally["error"]
        assert int(suite.get("skipped")) == tally["skipped"]


@pytest.fixture
def small_suite(tmp_path, monkeypatch):
    """The suite cut to three cheap checks, one of them with a record that is now wrong."""
    folder = tmp_path / "checks"
    folder.mkdir()
    for name in ("failover-3-1-2-3", "ensemble-4-half"):
        shutil.copy(CHECKS / f"{name}.toml", folder)
    wrong = (CHECKS / "failover-3-1-2-3.toml").read_text()
    wrong = wrong.replace('name = "failover-3-1-2-3"', 'name = "failover-wrong"')
    wrong = wrong.replace("distinct_states = 4464", "distinct_states = 4465")
    (folder / "failover-wrong.toml").write_text(wrong)
    specs = [load_spec(p) for p in sorted(folder.glob("*.toml"))]
    monkeypatch.setattr(checking, "builtin_specs", lambda: specs)
    monkeypatch.setattr(targets, "builtin_specs", lambda: specs)
    return specs


def test_the_suite_has_one_case_per_check(capsys, tmp_path, small_suite):
    out = tmp_path / "report.xml"
    code, text, _ = run(capsys, "check", "--junit-xml", str(out))
    assert code == 1 and "DIFFERS failover-wrong" in text
    _schema_shape(out)
    found, suite = cases(out)
    assert sorted(found) == ["ensemble-4-half", "failover-3-1-2-3", "failover-wrong"]
    assert suite.tests == 3 and suite.failures == 1
    assert found["failover-3-1-2-3"].is_passed
    assert found["ensemble-4-half"].is_passed  # the recorded violation was found: as recorded
    assert "one_leader_per_epoch violated in 6 steps" in found["ensemble-4-half"].system_out
    failure = found["failover-wrong"].result[0]
    assert isinstance(failure, junitparser.Failure)
    assert failure.message == "differs from the record: 4464 states, expected 4465"
    assert found["failover-wrong"].classname == "kafkacheck.failover"


def test_a_target_has_one_case_per_property_with_the_trace(capsys, tmp_path):
    out = tmp_path / "r.xml"
    code, _, _ = run(capsys, "check", "ensemble", "-p", "servers=4", "-p", "quorum=half",
                     "--junit-xml", str(out))
    assert code == 1
    _schema_shape(out)
    found, suite = cases(out)
    failed = [n for n, c in found.items() if any(isinstance(r, junitparser.Failure)
                                                 for r in c.result)]
    assert failed == ["one_epoch_leader"]
    failure = found["one_epoch_leader"].result[0]
    assert failure.message.startswith("violated: shortest trace ")
    assert "elect_leader(candidate=" in failure.text
    assert "Reproduce: kafkacheck check ensemble -p servers=4 -p quorum=half" in failure.text
    # the others were not decided: the search stopped at the violation
    others = [c for n, c in found.items() if n != "one_epoch_leader"
              and any(isinstance(r, junitparser.Skipped) for r in c.result)]
    assert others and all("not decided" in c.result[0].message for c in others)


def test_a_target_that_holds_passes_every_case(capsys, tmp_path):
    out = tmp_path / "r.xml"
    code, _, _ = run(capsys, "check", "failover-3-1-2-3", "--junit-xml", str(out))
    assert code == 0
    found, suite = cases(out)
    assert list(found) == ["leader_in_isr"] and found["leader_in_isr"].is_passed
    assert suite.failures == 0 and suite.errors == 0


def test_the_report_file_is_checked_before_the_run(capsys, tmp_path):
    out = tmp_path / "r.xml"
    out.write_text("keep me")
    code, _, err = run(capsys, "check", "failover-3-1-2-3", "--junit-xml", str(out))
    assert code == 2 and "already exists; add --force" in err and out.read_text() == "keep me"
    code, _, _ = run(capsys, "check", "failover-3-1-2-3", "--junit-xml", str(out), "--force")
    assert code == 0 and out.read_text().startswith("<?xml")
    code, _, err = run(capsys, "check", "failover-3-1-2-3", "--junit-xml",
                       str(tmp_path / "no" / "r.xml"))
    assert code == 2 and "does not exist" in err
    check = CHECKS / "failover-3-1-2-3.toml"
    code, _, err = run(capsys, "check", str(check), "--junit-xml", str(check), "--force")
    assert code == 2 and "is an input of this run" in err
    code, _, err = run(capsys, "check", "--junit-xml", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_stopped_and_not_run_checks_are_errors_and_slow_ones_skipped(tmp_path):
    """The report of a suite cut short (built from results, not by racing a time limit)."""
    from types import SimpleNamespace as NS

    from kafkacheck.checker.cli.junit import suite_report
    specs = [load_spec(CHECKS / f"{n}.toml") for n in
             ("failover-3-1-2-3", "ensemble-4-half", "ensemble-3", "failover-4-2-3-3")]
    stopped = NS(verdict="incomplete", stop_reason="time_limit", distinct_states=10, depth=2,
                 violation=None, seconds=1.0, build_seconds=0.5)
    run = NS(argv="kafkacheck check failover-3-1-2-3")
    path = tmp_path / "r.xml"
    path.write_text(suite_report([(specs[0], run, stopped, [])], [specs[3]], [specs[1], specs[2]]))
    _schema_shape(path)
    found, suite = cases(path)
    assert suite.errors == 3 and suite.skipped == 1 and suite.failures == 0
    assert found["failover-3-1-2-3"].result[0].message == "stopped at time_limit before an outcome"
    assert found["ensemble-3"].result[0].message == "not run: the suite stopped before it"
    assert found["failover-4-2-3-3"].result[0].message == "slow: kafkacheck check --slow runs it"
