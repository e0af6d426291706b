"""``kafkacheck audit``: the guarantees a configuration gives, on the shipped examples."""

import json
from pathlib import Path

import junitparser

from kafkacheck.checker.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SAFE, UNSAFE = str(EXAMPLES / "safe.properties"), str(EXAMPLES / "unsafe.properties")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_the_unsafe_example_loses_an_acknowledged_write(capsys, tmp_path):
    junit = tmp_path / "audit.xml"
    code, out, err = run(capsys, "audit", UNSAFE, "--format", "json", "--junit-xml", str(junit))
    assert code == 1
    d = json.loads(out)
    assert d["model"] == "zk-cluster" and d["verdict"] == "violated"
    assert d["config"]["mapped"]["min.insync.replicas"]["value"] == "1"
    assert "log.dirs" in d["config"]["not_modeled"]
    cells = {(c["guarantee"], c["budget"]): c for c in d["results"]}
    lost = cells[("no acknowledged write lost", "one power loss")]
    assert lost["verdict"] == "violated" and lost["trace_length"] == 8
    assert lost["summary"].startswith("broker_session_expire(broker=1) → "
                                      "client_fetch_metadata(broker=1) → producer_append(")
    assert lost["command"].endswith("--property acked_write_not_lost")
    assert "-p min.insync.replicas=1" in lost["command"]
    assert cells[("leaders elected from the ISR only", "one crash (process kill)")][
        "verdict"] == "violated"
    assert cells[("a single controller per epoch", "one power loss")]["verdict"] == "holds"
    assert cells[("no acknowledged write lost", "rolling restart (waits for the ISR)")][
        "verdict"] == "n/a"
    # the command it names prints that trace
    argv = lost["command"].split()[1:]
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "Invariant acked_write_not_lost is violated after 8 steps." in out
    xml = junitparser.JUnitXml.fromfile(str(junit))
    suite = next(iter(xml))
    assert suite.tests == len(d["results"]) and suite.failures == 10
    # one bootstrap address: a crash of that broker leaves the clients without the cluster
    cut_off = cells[("clients reach the cluster", "one crash (process kill)")]
    assert cut_off["trace_length"] == 1 and cut_off["summary"] == "broker_crash(broker=1)"
    assert d["config"]["mapped"]["bootstrap.servers"] == {
        "value": "1", "read": "kafka1:9092", "file": UNSAFE, "line": 14}
    names = [c.name for c in suite]
    assert "no acknowledged write lost [one power loss]" in names


def test_the_table_names_the_lost_write_trace(capsys):
    code, out, _ = run(capsys, "audit", UNSAFE)
    assert code == 1
    assert "no acknowledged write lost" in out and "VIOLATED [4] (8 steps)" in out
    assert "[4] no acknowledged write lost, one power loss: 8 steps: " in out
    assert "[3] clients reach the cluster, one crash (process kill): 1 step: " in out
    assert "    the trace: kafkacheck check zk-cluster " in out
    assert out.rstrip().endswith("Verdict: 10 guarantee(s) violated")


def test_the_safe_example_holds(capsys):
    code, out, _ = run(capsys, "audit", SAFE, "--format", "markdown")
    assert code == 0
    assert "| guarantee | one crash (process kill) | one power loss |" in out
    assert "| no acknowledged write lost | holds (15,815 states, depth 18) |" in out
    assert "| clients reach the cluster | holds (15,815 states, depth 18) |" in out
    assert "VIOLATED" not in out
    assert "Verdict: every exercised guarantee holds within the bounds" in out


def test_bad_input(capsys, tmp_path):
    bad = tmp_path / "bad.properties"
    bad.write_text("min.insync.replicas=two\n")
    code, out, err = run(capsys, "audit", str(bad))
    assert code == 2 and "bad.properties:1: min.insync.replicas=two" in err and out == ""
    code, _, err = run(capsys, "audit", SAFE, "-p", "max_crashes=2")
    assert code == 2 and "fault budgets set it" in err
    code, _, err = run(capsys, "audit")
    assert code == 2 and "FILE" in err
