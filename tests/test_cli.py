"""The command line: the contract of DESIGN.md (shapes, exit codes) and its error messages."""

import json
import textwrap

import pytest

from kafkacheck.checker.cli import main
from kafkacheck.checker.render import from_itf

SMALL = ["-p", "brokers=3", "-p", "partitions=1", "-p", "replication.factor=2",
         "-p", "max_epoch=3"]

TOY = textwrap.dedent('''
    from kafkacheck.checker.lang import Model, Domain, Map, Bool, Int, Set, Maybe
    from kafkacheck.checker.lang import action, always, sometimes, require

    class TwoLeaders(Model):
        """Two nodes that may both claim leadership: a deliberately broken toy."""
        name = "toy"
        def setup(m):
            m.node = Domain("node", ids=("a", "b"))
        def variables(m):
            return {"leader": Map(m.node, Bool), "term": Int(0, 2),
                    "voters": Set(m.node), "last": Maybe(m.node)}
        def init(m, s):
            for n in m.node:
                s.leader[n] = False
            s.term = 0
            s.voters = set()
            s.last = None
        @action("node")
        def claim(m, s, node):
            """A node claims leadership without asking anyone."""
            require(~s.leader[node] & (s.term < 2))
            s.leader[node] = True
            s.term = s.term + 1
            s.voters = s.voters | node
            s.last = node
        @always
        def one_leader(m, s):
            return ~(s.leader[m.node.of("a")] & s.leader[m.node.of("b")])
        @sometimes
        def someone_leads(m, s):
            return s.leader[m.node.of("a")] | s.leader[m.node.of("b")]
''')


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("kafkacheck ")


def test_models_json_lists_parameters_and_properties(capsys):
    code, out, _ = run(capsys, "models", "--format", "json")
    assert code == 0
    models = {m["name"]: m for m in json.loads(out)["models"]}
    failover = models["failover"]
    assert [p["name"] for p in failover["params"]] == \
        ["brokers", "partitions", "replication.factor", "max_epoch"]
    assert failover["params"][0]["default"] == 3 and failover["params"][0]["range"] == [1, 9]
    assert {"name": "leader_in_isr", "kind": "always"}.items() <= \
        failover["properties"][0].items()


def test_check_failover_json_reference_count(capsys):
    code, out, _ = run(capsys, "check", "failover", *SMALL, "--format", "json")
    d = json.loads(out)
    assert code == 0
    assert d["verdict"] == "holds" and d["distinct_states"] == 4464 and d["violation"] is None
    for key in ("target", "model", "params", "engine", "properties", "states_generated",
                "depth", "seconds", "examples"):
        assert key in d
    assert d["params"]["replication.factor"] == 2
    assert d["examples"]["controller_elected"]["length"] == 1
    assert sum(c["new_states"] for c in d["coverage"]) == 4464 - 1


def test_violation_text_trace_and_exit_1(capsys, tmp_path):
    model = tmp_path / "toy.py"
    model.write_text(TOY)
    code, out, _ = run(capsys, "check", f"{model}:TwoLeaders")
    assert code == 1
    assert "Invariant one_leader is violated after 2 steps." in out
    assert "leader[a]: FALSE -> TRUE" in out
    assert "Action path: claim(node=a); claim(node=b)" in out
    assert f"Reproduce: kafkacheck check {model}:TwoLeaders" in out


def test_itf_trace_round_trips(capsys, tmp_path):
    model = tmp_path / "toy.py"
    model.write_text(TOY)
    out_file = tmp_path / "cex.itf.json"
    code, out, _ = run(capsys, "check", f"{model}:TwoLeaders", "--format", "json",
                       "--trace-out", str(out_file))
    assert code == 1
    itf = json.loads(out_file.read_text())
    assert itf["vars"] == ["leader", "term", "voters", "last"]
    assert itf["states"][1]["term"] == {"#bigint": "1"}
    assert itf["states"][1]["last"] == {"tag": "Some", "value": "a"}
    assert itf["states"][0]["last"] == {"tag": "None", "value": {"#tup": []}}
    decoded = [{k: from_itf(v) for k, v in st.items() if k != "#meta"} for st in itf["states"]]
    trace = json.loads(out)["violation"]["trace"]
    assert [set(d["voters"]) for d in decoded] == [set(s["state"]["voters"]) for s in trace]
    assert [d["term"] for d in decoded] == [s["state"]["term"] for s in trace]
    assert [s["#meta"]["action"] for s in itf["states"]] == [s["action"] for s in trace]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_trace_out_formats(capsys, tmp_path, fmt):
    model = tmp_path / "toy.py"
    model.write_text(TOY)
    out_file = tmp_path / f"cex.{fmt}"
    code, _, _ = run(capsys, "check", f"{model}:TwoLeaders", "--trace-out", str(out_file),
                     "--trace-format", fmt)
    assert code == 1
    text = out_file.read_text()
    if fmt == "json":
        assert json.loads(text)["length"] == 2
    else:
        assert "claim(node=b)" in text


def test_no_counterexample_means_no_trace_file(capsys, tmp_path):
    out_file = tmp_path / "none.json"
    code, _, err = run(capsys, "check", "failover", "--trace-out", str(out_file))
    assert code == 0 and not out_file.exists() and "not written" in err


@pytest.mark.parametrize("argv, message", [
    (["check", "no-such-model"], "unknown model or check 'no-such-model'"),
    (["check", "failover", "-p", "brokers=banana"], "brokers is an integer"),
    (["check", "failover", "-p", "broker=3"], "did you mean 'brokers'?"),
    (["check", "failover", "-p", "brokers=40"], "out of range"),
    (["check", "failover", "-p", "brokers"], "-p expects KEY=VALUE"),
    (["check", "failover", "--property", "nope"], "unknown property 'nope'"),
    (["check", "failover", "--before", "KAFKA-1"], "unknown fix 'KAFKA-1'"),
    (["check", "failover", "--engine", "warp"], "Invalid value for '--engine'"),
    (["check", "-p", "brokers=3"], "needs a TARGET"),
    (["check", "missing.py:Model"], "does not exist"),
    (["nonsense"], "No such command"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "Traceback" not in out + err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_check_file(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nmodel = "failover"\nunknown_key = 1\n[expect]\nverdict="holds"\n')
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and "unknown key 'unknown_key'" in err
    bad.write_text("name = \n")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and "malformed TOML" in err


def test_check_file_target_uses_its_parameters(capsys, tmp_path):
    spec = tmp_path / "small.toml"
    spec.write_text(textwrap.dedent('''
        name = "small"
        model = "failover"
        properties = ["leader_in_isr"]
        [params]
        brokers = 2
        "replication.factor" = 2
        max_epoch = 1
        [expect]
        verdict = "holds"
    '''))
    code, out, _ = run(capsys, "check", str(spec), "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["params"]["brokers"] == 2 and d["properties"] == ["leader_in_isr"]


def test_limits_give_exit_3_and_depth_bound_exit_0(capsys):
    code, out, _ = run(capsys, "check", "failover", "--max-states", "100", "--format", "json")
    assert code == 3 and json.loads(out)["stop_reason"] == "max_states"
    code, out, _ = run(capsys, "check", "failover", "--property", "leader_in_isr",
                       "--max-depth", "4", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "holds" and d["complete"] is False
    assert d["bound"] == {"max_depth": 4} and d["depth"] == 4


def test_dfs_engine_same_count(capsys):
    code, out, _ = run(capsys, "check", "failover", "--engine", "dfs", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["distinct_states"] == 4464
    assert d["depth_meaning"] == "longest path explored"


def test_dfs_depth_is_labelled_the_longest_path_explored(capsys):
    code, out, _ = run(capsys, "check", "failover", "--engine", "dfs")
    assert code == 0 and ", longest path explored " in out and ", depth " not in out
    code, out, _ = run(capsys, "check", "failover")
    assert code == 0 and ", depth 21," in out and "longest path" not in out
    d = json.loads(run(capsys, "check", "failover", "--format", "json")[1])
    assert d["depth_meaning"] == "shortest-path depth"


def test_suite_json_and_text_report_each_check(capsys, monkeypatch):
    # every check file itself is run once, by tests/test_checks.py; here the suite's own
    # reporting, over two cheap checks and one whose record is made wrong
    import dataclasses
    from kafkacheck.checker.cli import checking
    specs = {s.name: s for s in checking.builtin_specs()}
    wrong = dataclasses.replace(specs["rolling-restart-3"], expect=dataclasses.replace(
        specs["rolling-restart-3"].expect, distinct_states=1))
    monkeypatch.setattr(checking, "builtin_specs",
                        lambda: [specs["bootstrap-one"], wrong, specs["failover-4-2-3-3"]])
    code, out, _ = run(capsys, "check", "--format", "json")
    d = json.loads(out)
    assert code == 1 and (d["passed"], d["failed"]) == (1, 1)
    assert d["skipped_slow"] == ["failover-4-2-3-3"]
    assert [r["matches"] for r in d["results"]] == [True, False]
    assert d["results"][1]["mismatches"] == ["319 states, expected 1"]
    code, out, _ = run(capsys, "check")
    lines = out.splitlines()
    assert code == 1 and lines[0].split()[:3] == ["check", "model", "verdict"]
    assert lines[-2] == ("2 checks: 1 as recorded, 1 differ (1 slow check(s) skipped: "
                         "--slow runs them)")
    assert lines[-1] == "DIFFERS rolling-restart-3 (rolling-restart-3.toml): 319 states, expected 1"


def test_query_time_limit_is_for_bmc_and_prove(capsys):
    code, _, err = run(capsys, "check", "failover", "--query-time-limit", "1")
    assert code == 2 and "--engine bmc only" in err
    code, out, _ = run(capsys, "check", "failover", "--engine", "bmc", "--max-depth", "3",
                       "--property", "leader_in_isr", "--query-time-limit", "30",
                       "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["engine"] == "bmc" and d["bound"] == {"max_depth": 3}


def test_prove_and_quorum_commands_are_wired(capsys):
    code, out, _ = run(capsys, "prove", "failover", "--property", "leader_in_isr")
    assert code == 0 and "PROVED" in out
    code, out, _ = run(capsys, "quorum", "check", "--voters", "4", "--rule", "half")
    assert code == 1 and "{1,2} and {3,4} are disjoint quorums" in out


def test_graph_command_writes_the_reachable_graph(capsys, tmp_path):
    import networkx as nx
    code, out, _ = run(capsys, "graph", "failover", "--format", "json")
    data = json.loads(out)
    graph = nx.node_link_graph(data, edges="edges")
    assert code == 0 and graph.number_of_nodes() == 4464
    initial = [n for n, a in graph.nodes(data=True) if a["initial"]]
    assert initial == [0] and len(nx.descendants(graph, 0)) == 4463
    assert max(a["depth"] for _, a in graph.nodes(data=True)) == 21
    dot = tmp_path / "g.dot"
    code, _, err = run(capsys, "graph", "failover", "--format", "dot", "--out", str(dot))
    assert code == 0 and dot.read_text().startswith('digraph "failover"')
    assert "4,464 states" in err
    code, _, err = run(capsys, "graph", "failover", "--format", "dot", "--max-states", "100")
    assert code == 3 and "more than 100 reachable states" in err


def test_a_bug_in_a_users_model_is_one_line_naming_the_file_and_line(capsys, tmp_path):
    model = tmp_path / "buggy.py"
    model.write_text(textwrap.dedent('''
        from kafkacheck.checker.lang import Model, Int, action
        class Buggy(Model):
            name = "buggy"
            def variables(m):
                return {"n": Int(0, 3)}
            def init(m, s):
                s.n = 0
            @action()
            def inc(m, s):
                s.n = s.n + undefined_name
    '''))
    for command in ("check", "prove"):
        code, out, err = run(capsys, command, f"{model}:Buggy")
        assert code == 2 and "Traceback" not in out + err
        assert f"at {model}:11: NameError: name 'undefined_name' is not defined" in err


def test_a_constant_property_is_reported_vacuous_in_text_and_json(capsys):
    args = ("check", "zk-cluster", "-p", "max_writes=0", "-p", "max_crashes=0",
            "-p", "max_shutdowns=0", "--property", "acked_write_not_lost",
            "--property", "leader_in_isr")
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "acked_write_not_lost                     vacuous" in out
    assert "leader_in_isr                            holds" in out
    assert "1 vacuous" in out.splitlines()[-1] and "every checked" not in out
    code, out, _ = run(capsys, *args, "--format", "json")
    doc = json.loads(out)
    assert doc["vacuous"] == ["acked_write_not_lost"]
    assert doc["property_status"] == {"acked_write_not_lost": "vacuous",
                                      "leader_in_isr": "holds"}
    code, out, _ = run(capsys, *args[:-2])
    assert code == 0 and out.splitlines()[-1].startswith(
        "Verdict: holds vacuously: no checked invariant can fail")
    code, out, _ = run(capsys, "check", "zk-cluster", "-p", "max_writes=1", "-p",
                       "max_crashes=0", "-p", "max_shutdowns=0", "--property",
                       "acked_write_not_lost", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["vacuous"] == [] and \
        doc["property_status"] == {"acked_write_not_lost": "holds"}


@pytest.mark.parametrize("fmt", ["json", "itf"])
def test_trace_format_without_trace_out_prints_that_format(capsys, tmp_path, fmt):
    model = tmp_path / "toy.py"
    model.write_text(TOY)
    code, out, err = run(capsys, "check", f"{model}:TwoLeaders", "--trace-format", fmt)
    assert code == 1
    doc = json.loads(out)
    assert (len(doc["states"]) if fmt == "itf" else doc["length"]) == (3 if fmt == "itf" else 2)
    assert "Verdict: violated" in err
    code, out, err = run(capsys, "check", f"{model}:TwoLeaders", "--trace-format", fmt,
                         "--format", "json")
    assert code == 2 and out == "" and "--trace-out" in err


def test_suite_table_has_a_header_row_aligned_with_its_rows():
    from types import SimpleNamespace
    from kafkacheck.checker.cli.checking import _suite_header, _suite_row
    result = SimpleNamespace(violation=None, verdict="holds", distinct_states=94539, depth=27,
                             seconds=1.5)
    row = _suite_row(SimpleNamespace(name="default", model="zk-cluster"), result, [])
    head = _suite_header()
    assert head.split()[:7] == ["check", "model", "verdict", "states", "depth", "time",
                                "outcome"]
    for word, value in (("model", "zk-cluster"), ("verdict", "holds"), ("outcome", "as")):
        assert head.index(word) == row.index(value)
    assert head.index("states") + len("states") == row.index("94,539") + len("94,539")


def test_a_stopped_run_says_a_sometimes_property_was_not_reached_before_the_stop(capsys):
    code, out, _ = run(capsys, "check", "zk-cluster", "--max-states", "100")
    assert code == 3
    assert "failover_completes                       not reached before the stop" in out
    assert "no example so far" not in out


def test_unavailability_command_json_steps_and_ms(capsys):
    assert main(["unavailability", "--fault", "crash", "-k", "1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    row = out["results"][0]["rows"][0]
    assert out["model"] == "zk-cluster" and out["timings"]["zookeeper.session.timeout.ms"] == 18000
    assert row["steps"]["best"] == 3 and row["ms"]["best"] == 12010
    assert main(["unavailability", "--model", "kraft-cluster", "--fault", "crash", "-k", "1",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    row = out["results"][0]["rows"][0]
    assert out["model"] == "kraft-cluster" and out["timings"]["broker.session.timeout.ms"] == 9000
    assert row["steps"] == {"best": 2, "worst": 7} and row["ms"]["best"] == 7040


@pytest.mark.parametrize("argv, code", [
    (["unavailability", "--model", "nope"], 2),
    (["unavailability", "--timing", "zookeeper.session.timeout.ms=soon"], 2),
    (["unavailability", "--max-states", "10", "--fault", "crash"], 3)])
def test_unavailability_command_bad_input_and_limits(capsys, argv, code):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


COUNTER = '''
from kafkacheck.checker.lang import *
class C(Model):
    name = "c"
    def variables(m):
        return {"n": Int(0, 5)}  # wider than reachable: n < 4 is not true by its type
    @action()
    def inc(m, s):
        require(s.n < 3)
        s.n = s.n + 1
'''


def test_a_model_without_properties_gives_a_state_count(capsys, tmp_path):
    model = tmp_path / "counter.py"
    model.write_text(COUNTER)
    code, out, _ = run(capsys, "check", f"{model}:C")
    assert code == 0 and out.splitlines()[-1] == \
        "Verdict: no properties to check; 4 reachable states."


@pytest.mark.parametrize("limit, verdict", [(3, "violated"), (4, "holds")])
def test_bmc_says_when_its_unrolling_is_complete(capsys, tmp_path, limit, verdict):
    model = tmp_path / "counter.py"
    model.write_text(COUNTER + f'''
    @always
    def below(m, s):
        return s.n < {limit}
''')
    code, out, _ = run(capsys, "check", f"{model}:C", "--engine", "bmc")
    last = out.splitlines()[-1]
    if verdict == "holds":
        assert code == 0 and last == ("Verdict: holds: no path is longer than 3 steps, so the "
                                      "unrolling is complete and every checked property holds "
                                      "in every reachable state.")
    else:
        assert code == 1 and last == "Verdict: violated: below, shortest trace 3 steps"
    assert "0 reachable states" not in out


def test_bmc_default_bound_is_in_the_help(capsys):
    code, out, _ = run(capsys, "check", "--help")
    assert code == 0 and "10 for bmc" in " ".join(out.split())


@pytest.mark.parametrize("engine, words", [("batch", "shortest trace 3 steps"),
                                           ("bfs", "shortest trace 3 steps"),
                                           ("dfs", "(not necessarily shortest)")])
def test_verdict_says_shortest_only_for_engines_with_shortest_traces(capsys, tmp_path, engine,
                                                                     words):
    model = tmp_path / "counter.py"
    model.write_text(COUNTER + '''
    @always
    def below(m, s):
        return s.n < 3
''')
    code, out, _ = run(capsys, "check", f"{model}:C", "--engine", engine)
    assert code == 1 and out.splitlines()[-1].endswith(words)


def test_bench_measures_a_built_in_check_as_recorded(capsys):
    code, out, _ = run(capsys, "bench", "--check", "kraft-cluster-before-kafka-15489",
                       "--engine", "batch", "--engine", "bfs", "--format", "json")
    rows = json.loads(out)["benchmarks"]
    assert code == 0 and [r["engine"] for r in rows] == ["batch", "bfs"]
    assert all(r["verdict"] == "violated" and r["distinct_states"] == 51 for r in rows)
    code, _, err = run(capsys, "bench", "--check", "kraft-cluster-nope")
    assert code == 2 and "--check takes a built-in check" in err
