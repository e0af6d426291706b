"""Pictures of a trace: the SVG message-sequence chart, the Mermaid diagram, the HTML page,
and the lanes the modeling language declares for them."""

import re
import xml.etree.ElementTree as ET

import pytest

from kafkacheck.checker.charts import Lanes, trace_mermaid, trace_svg
from kafkacheck.checker.cli import main
from kafkacheck.checker.explicit import check
from kafkacheck.checker.lang import Bool, Domain, Map, Model, ModelError, action, always, require
from kafkacheck.checker.system import ExplicitSystem

SVG = "{http://www.w3.org/2000/svg}"
UNSAFE = ["check", "ensemble", "-p", "servers=4", "-p", "quorum=half"]
PATH = ["elect_leader(candidate=1, voters={1,2})", "elect_leader(candidate=3, voters={3,4})",
        "leader_new_epoch(server=1)", "leader_new_epoch(server=3)"]


class Gossip(Model):
    """Nodes 1..3: a node tells another a secret; the 'ZooKeeper' lane records it."""

    name = "gossip"

    def setup(m):
        m.node = Domain("node", ids=(1, 2, 3))

    def variables(m):
        return {"knows": Map(m.node, Bool), "recorded": Bool}

    def init(m, s):
        s.knows[m.node.of(1)] = True

    @action("node", "node", where=lambda m, a, b: a.value != b.value, lane="src",
            tells=("dst", "ZooKeeper"))
    def tell(m, s, src, dst):
        require(s.knows[src] & ~s.knows[dst])
        s.knows[dst] = True

    @action("node")
    def forget(m, s, node):
        require(s.knows[node])
        s.knows[node] = False

    @action()
    def record(m, s):
        require(~s.recorded)
        s.recorded = True

    @always
    def not_all_know(m, s):
        return ~(s.knows[m.node.of(1)] & s.knows[m.node.of(2)] & s.knows[m.node.of(3)])


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_lanes_come_from_the_declaration_and_default_to_the_first_domain_element():
    system = Gossip().compile()
    lanes = dict(zip(system.actions, system.lanes))
    assert lanes["tell(src=1, dst=2)"] == ("node 1", ("node 2", "ZooKeeper"))
    assert lanes["forget(node=3)"] == ("node 3", ())      # default: its first domain element
    assert lanes["record()"] == ("system", ())            # no binding: the system lane


def test_a_lane_declaration_that_names_two_lanes_or_no_element_is_refused():
    class TwoLanes(Gossip):
        @action("node", "node", lane=("src", "dst"))
        def tell(m, s, src, dst):
            require(s.knows[src])
            s.knows[dst] = True

    with pytest.raises(ModelError, match="a step has one lane"):
        TwoLanes().compile()

    class Bad(Gossip):
        @action("node", "flags", lane="flag")
        def forget(m, s, node, flag):
            require(s.knows[node])

        def setup(m):
            super().setup()
            m.flags = [1, 2]

    with pytest.raises(ModelError, match="not a domain element"):
        Bad().compile()


def _trace(system):
    result = check(system, engine="bfs")
    assert result.verdict == "violated"
    return result.violation


def test_svg_of_a_declared_model_has_its_lanes_and_one_group_per_step():
    system = Gossip().compile()
    trace = _trace(system)
    root = ET.fromstring(trace_svg(trace, Lanes.of(system)).split("\n", 1)[1])
    lanes = [g.get("data-lane") for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert lanes == ["node 1", "node 2", "node 3", "ZooKeeper"]
    steps = [g for g in root.iter(f"{SVG}g") if g.get("class") == "step"]
    assert [g.get("data-action") for g in steps] == ["init", *trace.action_path()]
    tell = steps[1]
    assert tell.get("data-lane") == "node 1" and tell.get("data-tells") == "node 2, ZooKeeper"
    assert len([x for x in tell.iter(f"{SVG}line") if x.get("class") == "msg"]) == 2
    assert any("knows[2]: FALSE \u2192 TRUE" == t.text for t in tell.iter(f"{SVG}text"))


def test_a_system_that_declares_no_lanes_draws_one_system_lane():
    system = ExplicitSystem("count", init=[0], next=lambda n: [("inc", n + 1)] if n < 3 else [],
                            always={"small": lambda n: n < 2})
    trace = _trace(system)
    root = ET.fromstring(trace_svg(trace, Lanes.of(system)).split("\n", 1)[1])
    lanes = [g.get("data-lane") for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert lanes == ["system"]
    assert [g.get("data-lane") for g in root.iter(f"{SVG}g")
            if g.get("class") == "step"] == ["", "system", "system"]


def test_svg_of_the_unsafe_ensemble_shows_the_two_elections(capsys, tmp_path):
    out = tmp_path / "cex.svg"
    code, _, _ = run(capsys, *UNSAFE, "--trace-out", str(out))   # the format from the suffix
    assert code == 1
    text = out.read_bytes()
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    lanes = [g.get("data-lane") for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert lanes == ["server 1", "server 2", "server 3", "server 4"]
    steps = [g for g in root.iter(f"{SVG}g") if g.get("class") == "step"]
    assert [g.get("data-action") for g in steps] == ["init", *PATH]
    assert [(g.get("data-lane"), g.get("data-tells")) for g in steps[1:]] == [
        ("server 1", "server 2"), ("server 3", "server 4"), ("server 1", ""), ("server 3", "")]
    verdict = next(g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("verdict"))
    assert verdict.get("data-property") == "one_epoch_leader"
    assert "one_epoch_leader is violated after 4 steps" in "".join(verdict.itertext())
    # every lane's header and every step's mark lie inside the picture
    width, height = float(root.get("width")), float(root.get("height"))
    for el in root.iter():
        for a, limit in (("x", width), ("x1", width), ("x2", width), ("cx", width),
                         ("y", height), ("y2", height)):
            if el.get(a) is not None:
                assert 0 <= float(el.get(a)) <= limit
    # deterministic: the same command writes the same bytes
    again = tmp_path / "again.svg"
    run(capsys, *UNSAFE, "--trace-out", str(again), "--trace-format", "svg")
    assert again.read_bytes() == text


def test_mermaid_of_the_unsafe_ensemble(capsys):
    code, out, err = run(capsys, *UNSAFE, "--trace-format", "mermaid")
    assert code == 1 and "Verdict: violated" in err
    lines = out.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert lines[1:5] == [f"    participant L{i} as server {i + 1}" for i in range(4)]
    assert "    L0->>L1: 1. elect_leader(candidate=1, voters={1,2})" in lines
    assert "    L2->>L3: 2. elect_leader(candidate=3, voters={3,4})" in lines
    assert any(x.startswith("    Note over L0: 3. leader_new_epoch(server=1)") for x in lines)
    assert lines[-1] == "    Note over L0,L3: \u2717 Invariant one_epoch_leader is violated " \
                        "after 4 steps."
    assert not any(";" in x.replace("#59;", "").replace("#60;", "").replace("#62;", "")
                   .replace("#35;", "") for x in lines)   # ';' would end a Mermaid statement


def test_mermaid_escapes_what_mermaid_would_read_as_syntax():
    system = Gossip().compile()
    text = trace_mermaid(_trace(system), Lanes.of(system))
    assert "participant L3 as ZooKeeper" in text and "L0->>L3: tell" in text


def test_html_is_a_self_contained_page_with_the_chart_and_the_step_tables(capsys, tmp_path):
    out = tmp_path / "cex.html"
    code, _, _ = run(capsys, *UNSAFE, "--trace-out", str(out))
    assert code == 1
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1 and 'data-lane="server 4"' in page
    assert not re.search(r"https?:|<script|<link|<img|@import|url\((?!#)", page)
    assert page.count("<table>") == 1 + 4 + 1          # the initial state, 4 steps, the final
    assert "<td>state[1]</td><td>LOOKING</td><td>LEADING</td>" in page
    assert "Reproduce: <code>kafkacheck check ensemble -p servers=4 -p quorum=half</code>" in page


def test_a_lasso_says_where_it_loops_back_and_every_format_renders_it():
    from kafkacheck.checker.render import render_trace
    from kafkacheck.checker.trace import Step, Trace
    steps = (Step("init", {"x": 0, "note": "a<b&c"}), Step("tick", {"x": 1, "note": "a<b&c"}),
             Step("stutter", {"x": 1, "note": "a<b&c"}))
    trace = Trace("x_returns", "eventually", steps, loop=1)
    root = ET.fromstring(render_trace(trace, "svg").split("\n", 1)[1])
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "(back to state 1)" in texts and "note = a<b&c" in texts
    assert any("returns to state 1 and repeats forever" in t for t in texts)
    steps_g = [g for g in root.iter(f"{SVG}g") if g.get("class") == "step"]
    assert [g.get("data-lane") for g in steps_g] == ["", "system", ""]   # a stutter: no mark
    assert "#60;" in render_trace(trace, "mermaid")
    assert "a&lt;b&amp;c" in render_trace(trace, "html")


@pytest.mark.parametrize("name, args", [
    ("ensemble-half.svg", UNSAFE),
    ("ensemble-half.mmd", UNSAFE),
    ("zk-cluster-before-kafka-6082.svg", ["check", "zk-cluster-before-kafka-6082"]),
    ("peter-test02.svg", ["check", "peter-test02", "--trace-of", "failover_completes"])])
def test_checked_in_pictures_are_what_their_documented_command_writes(capsys, tmp_path, name,
                                                                      args):
    from pathlib import Path
    docs = Path(__file__).resolve().parent.parent / "docs"
    out = tmp_path / name
    assert run(capsys, *args, "--trace-out", str(out))[0] == (0 if "--trace-of" in args else 1)
    assert out.read_bytes() == (docs / "pictures" / name).read_bytes(), \
        f"docs/pictures/{name} is stale: rerun the command in docs/explorer.md"
    command = " ".join(["kafkacheck", *args, "--trace-out", f"docs/pictures/{name}"])
    assert command in (docs / "explorer.md").read_text()


def test_trace_of_writes_a_sometimes_example_and_refuses_other_names(capsys, tmp_path):
    out = tmp_path / "example.svg"
    code, _, _ = run(capsys, "check", "peter-test02", "--trace-of", "failover_completes",
                     "--trace-out", str(out))
    assert code == 0
    root = ET.fromstring(out.read_bytes())
    steps = [g.get("data-action") for g in root.iter(f"{SVG}g") if g.get("class") == "step"]
    assert steps == ["init", "broker_crash(broker=1)", "broker_session_expire(broker=1)",
                     "controller_process_broker_change(broker=2)",
                     "broker_receive_leader_and_isr(broker=2)",
                     "broker_receive_leader_and_isr(broker=3)"]
    verdict = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "verdict example")
    assert verdict.get("data-kind") == "sometimes"
    for bad, words in ((["--trace-of", "leader_in_isr", "--trace-out", str(tmp_path / "a")],
                        "of kind always"),
                       (["--trace-of", "nope", "--trace-out", str(tmp_path / "b")],
                        "not a property"),
                       (["--trace-of", "failover_completes"], "give --trace-out"),
                       (["--trace-of", "write_acknowledged", "--property", "leader_in_isr",
                         "--trace-out", str(tmp_path / "c")], "--property write_acknowledged")):
        code, _, err = run(capsys, "check", "peter-test02", *bad)
        assert code == 2 and words in err and err.count("\n") == 1, err
