"""The web explorer: its JSON endpoints against a real server on port 0, and the command."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from kafkacheck.checker.cli import main
from kafkacheck.checker.explore import Explorer, make_server
from kafkacheck.checker.render import trace_json
from kafkacheck.specs.catalog import MODELS

PATH = ["elect_leader(candidate=1, voters={1,2})", "elect_leader(candidate=3, voters={3,4})",
        "leader_new_epoch(server=1)", "leader_new_epoch(server=3)"]


def unsafe_ensemble():
    return MODELS["ensemble"].from_settings({"servers": "4", "quorum": "half"}).compile()


@pytest.fixture(scope="module")
def server():
    srv = make_server(Explorer(unsafe_ensemble()), 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = srv.server_address[:2]
    yield f"http://{host}:{port}"
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return r.status, r.headers, r.read()


def get_json(base, path):
    status, _, body = get(base, path)
    assert status == 200
    return json.loads(body)


def error_of(base, path, data=None):
    """The status and the JSON error of a request that must fail."""
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=10)
    body = json.loads(e.value.read())
    assert set(body) == {"error"} and "\n" not in body["error"]
    assert "Traceback" not in body["error"]
    return e.value.code, body["error"]


def walk(base, labels):
    """Take the named actions one after another; the successor indices that did."""
    path = []
    for label in labels:
        view = get_json(base, f"/api/state?path={','.join(map(str, path))}")
        path.append(next(a["index"] for a in view["actions"] if a["action"] == label))
    return path


def test_server_binds_loopback_only(server):
    assert server.startswith("http://127.0.0.1:")


def test_the_page_and_its_assets_are_served_with_no_external_resource(server):
    status, headers, body = get(server, "/")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert '<script src="/static/app.js">' in page and "/static/style.css" in page
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        status, headers, body = get(server, f"/static/{name}")
        assert status == 200 and headers["Content-Type"].startswith(kind) and body
        assert not re.search(rb"https?://", body)       # no CDN, no font, nothing fetched
    assert not re.search(r"https?://", page)


def test_no_file_outside_the_assets_can_be_read(server):
    host, port = server[len("http://"):].split(":")
    for path in ("/static/../core.py", "/static/..%2fcore.py", "/static/", "/etc/passwd",
                 "/static/app.js/../../server.py"):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", path)           # sent as written: http.client does not normalize
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == 404, path
        assert b"import" not in body and "error" in json.loads(body)


def test_model_endpoint_names_the_model_its_lanes_and_properties(server):
    model = get_json(server, "/api/model")
    assert model["name"] == "ensemble" and model["params"]["servers"] == 4
    assert model["lanes"] == ["server 1", "server 2", "server 3", "server 4"]
    assert {"name": "one_epoch_leader", "kind": "always"} in model["properties"]
    assert model["initial_states"] == 1


def test_the_initial_state_grouped_per_server_with_its_enabled_actions(server):
    view = get_json(server, "/api/state")
    assert view["path"] == [] and view["steps"] == [{"action": "init", "index": 0}]
    per_server = view["state"][0]
    assert per_server["title"] == "per server"
    assert per_server["columns"][:4] == ["server", "up", "state", "phase"]
    assert [r["key"] for r in per_server["rows"]] == ["1", "2", "3", "4"]
    assert all(r["cells"][1]["value"] == "LOOKING" for r in per_server["rows"])
    labels = [a["action"] for a in view["actions"]]
    assert PATH[0] in labels and "crash(server=1)" in labels
    assert [a["index"] for a in view["actions"]] == list(range(len(labels)))
    elect = next(a for a in view["actions"] if a["action"] == PATH[0])
    assert elect["lane"] == "server 1" and elect["tells"] == ["server 2"]
    holds = {p["name"]: p["holds"] for p in view["properties"]}
    assert holds["one_epoch_leader"] is True and holds["leader_elected"] is False


def test_stepping_through_the_two_elections_shows_two_leaders(server):
    path = walk(server, PATH)
    view = get_json(server, f"/api/state?path={','.join(map(str, path))}")
    assert [s["action"] for s in view["steps"]] == ["init", *PATH]
    rows = {r["key"]: r["cells"] for r in view["state"][0]["rows"]}
    state_col = view["state"][0]["columns"].index("state") - 1
    assert [rows[k][state_col]["value"] for k in "1234"] == \
        ["LEADING", "FOLLOWING", "LEADING", "FOLLOWING"]
    phase_col = view["state"][0]["columns"].index("phase") - 1
    assert rows["3"][phase_col]["changed"] and not rows["3"][state_col]["changed"]
    holds = {p["name"]: p["holds"] for p in view["properties"]}
    assert holds["one_epoch_leader"] is False and holds["one_leader_per_epoch"] is True
    # back: a prefix of the path is the state before
    before = get_json(server, f"/api/state?path={','.join(map(str, path[:-1]))}")
    assert before["steps"][-1]["action"] == PATH[-2]
    assert {p["name"]: p["holds"] for p in before["properties"]}["one_epoch_leader"] is True


def test_a_saved_trace_gives_the_path_that_replays_it(server):
    system = unsafe_ensemble()
    from kafkacheck.checker.explicit import check
    result = check(system, engine="bfs", properties=["one_epoch_leader"])
    doc = json.dumps(trace_json(result.violation)).encode()
    found = json.loads(urllib.request.urlopen(
        urllib.request.Request(server + "/api/trace", data=doc), timeout=10).read())
    assert found == {"init": 0, "path": walk(server, PATH)}
    # a whole --format json report is accepted too
    report = json.dumps({"verdict": "violated",
                         "violation": trace_json(result.violation)}).encode()
    again = json.loads(urllib.request.urlopen(
        urllib.request.Request(server + "/api/trace", data=report), timeout=10).read())
    assert again == found


def test_bad_requests_get_a_400_with_one_line(server):
    code, msg = error_of(server, "/api/state?path=3,x")
    assert code == 400 and "step 2 is 'x'" in msg
    code, msg = error_of(server, "/api/state?path=0,999")
    assert code == 400 and re.search(r"step 2 takes successor 999, but that state has \d+", msg)
    code, msg = error_of(server, "/api/state?init=3")
    assert code == 400 and "1 initial state" in msg
    code, msg = error_of(server, "/api/state?path=-1")
    assert code == 400
    code, msg = error_of(server, "/api/trace", data=b"{not json")
    assert code == 400 and "not JSON" in msg
    code, msg = error_of(server, "/api/trace", data=b'{"trace": 3}')
    assert code == 400 and "not a kafkacheck trace" in msg
    other = MODELS["ensemble"].from_settings({"servers": "3"}).compile()
    first = {"action": "init", "state": json.loads(json.dumps(
        trace_json_state(other, other.initial_states()[0])))}
    code, msg = error_of(server, "/api/trace", data=json.dumps({"trace": [first]}).encode())
    assert code == 400 and "not an initial state" in msg
    code, msg = error_of(server, "/api/nothing")
    assert code == 404


def trace_json_state(system, state):
    from kafkacheck.checker.render import to_json
    return to_json(system.decode(state))


def test_a_trace_step_that_the_model_cannot_take_is_named(server):
    system = unsafe_ensemble()
    from kafkacheck.checker.explicit import check
    doc = trace_json(check(system, engine="bfs", properties=["one_epoch_leader"]).violation)
    doc["trace"][2]["action"] = "crash(server=4)"
    code, msg = error_of(server, "/api/trace", data=json.dumps(doc).encode())
    assert code == 400 and msg.startswith("step 2 of the trace, crash(server=4), is not a step")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_explore_bad_input_is_one_line_and_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, "explore", "no-such-model")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = run(capsys, "explore", "ensemble", "-p", "serverz=3")
    assert code == 2 and "serverz" in err
    code, _, err = run(capsys, "explore", "ensemble", "--trace", str(tmp_path / "none.json"))
    assert code == 2 and "--trace" in err and err.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"trace": [{"action": "init", "state": {}}]}')
    code, _, err = run(capsys, "explore", "ensemble", "--trace", str(bad))
    assert code == 2 and "not an initial state" in err
    code, _, err = run(capsys, "explore", "ensemble", "--port", "70000")
    assert code == 2


def test_explore_refuses_a_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "explore", "ensemble", "--port", str(port))
    assert code == 2 and f"127.0.0.1:{port}" in err and "--port 0" in err


def test_explore_command_serves_until_ctrl_c_then_exits_0(tmp_path):
    trace = tmp_path / "cex.json"
    assert main(["check", "ensemble", "-p", "servers=4", "-p", "quorum=half",
                 "--trace-out", str(trace)]) == 1
    proc = subprocess.Popen([sys.executable, "-m", "kafkacheck.checker.cli", "explore",
                             "ensemble", "-p", "servers=4", "-p", "quorum=half", "--port", "0",
                             "--trace", str(trace)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/\S*", line).group(0)
        assert url.endswith("?init=0&path=" + ",".join(map(str, _labels_path())))
        base = url.split("/?")[0]
        view = json.loads(urllib.request.urlopen(base + "/api/state" + url[len(base) + 1:],
                                                 timeout=10).read())
        assert [s["action"] for s in view["steps"]][1:] == PATH
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped the explorer" in err and "Traceback" not in err


def _labels_path():
    explorer = Explorer(unsafe_ensemble())
    path = []
    for label in PATH:
        view = explorer.view(0, path)
        path.append(next(a["index"] for a in view["actions"] if a["action"] == label))
    return path


def test_zk_cluster_state_is_grouped_per_broker_and_per_partition():
    system = MODELS["zk-cluster"]().compile()
    view = Explorer(system).view()
    titles = [t["title"] for t in view["state"]]
    assert titles == ["per broker", "per partition", "variables"]
    per_broker = view["state"][0]
    assert per_broker["columns"][:3] == ["broker", "state", "known_ctrl_epoch"]
    assert "controller" not in per_broker["columns"]     # a Maybe(broker), not a map
    others = [r["key"] for r in view["state"][2]["rows"]]
    assert "controller" in others


def test_an_itf_trace_gives_the_same_path(server, capsys, tmp_path):
    itf = tmp_path / "cex.itf.json"
    assert main(["check", "ensemble", "-p", "servers=4", "-p", "quorum=half",
                 "--trace-out", str(itf)]) == 1
    capsys.readouterr()
    found = json.loads(urllib.request.urlopen(
        urllib.request.Request(server + "/api/trace", data=itf.read_bytes()), timeout=10).read())
    assert found == {"init": 0, "path": walk(server, PATH)}


def test_a_check_from_the_page_jumps_to_the_shortest_counterexample_or_example(server):
    found = get_json(server, "/api/check")
    assert found["verdict"] == "violated"
    assert found["property"] == "one_epoch_leader" and found["length"] == 4
    view = get_json(server, f"/api/state?path={','.join(map(str, found['path']))}")
    assert {p["name"]: p["holds"] for p in view["properties"]}["one_epoch_leader"] is False
    example = get_json(server, "/api/check?property=leader_elected")
    assert example["kind"] == "sometimes" and example["length"] == 3
    view = get_json(server, f"/api/state?path={','.join(map(str, example['path']))}")
    assert {p["name"]: p["holds"] for p in view["properties"]}["leader_elected"] is True
    code, msg = error_of(server, "/api/check?property=nope")
    assert code == 400 and "unknown property 'nope'" in msg


def test_a_check_that_holds_gives_no_path_and_an_unreachable_example_says_so():
    system = MODELS["failover"].from_settings({"brokers": "3", "partitions": "1",
                                               "replication.factor": "2",
                                               "max_epoch": "3"}).compile()
    explorer = Explorer(system)
    held = explorer.run_check()
    assert held["verdict"] == "holds" and held["path"] is None and held["complete"]
    assert held["distinct_states"] == 4464
    example = explorer.run_check("leader_failed_over")
    assert example["kind"] == "sometimes" and example["length"] == 4   # as bfs finds it
    steps = explorer.walk(example["init"], example["path"])
    reached = system.first_false(["leader_failed_over"])
    assert reached(steps[-1][1]) < 0 and all(reached(s) >= 0 for _, s in steps[:-1])
    cut = explorer.run_check("leader_failed_over", max_states=1)
    assert cut["path"] is None and cut["verdict"] == "incomplete" and not cut["complete"]


def test_a_lasso_that_stutters_replays_up_to_its_last_state(capsys, tmp_path):
    cex = tmp_path / "lasso.json"
    assert main(["check", "zk-cluster-liveness-unfair", "--trace-out", str(cex)]) == 1
    capsys.readouterr()
    doc = json.loads(cex.read_text())
    assert doc["trace"][-1]["action"] == "stutter"
    system = MODELS["zk-cluster"]().compile()        # the check file sets no parameter
    found = Explorer(system).path_of_trace(doc)
    assert len(found["path"]) == len(doc["trace"]) - 2


@pytest.mark.skipif(__import__("shutil").which("node") is None,
                    reason="node is not installed: the page's script is not syntax-checked")
def test_the_page_script_parses():
    from pathlib import Path
    import kafkacheck.checker.explore as explore
    script = Path(explore.__file__).parent / "static" / "app.js"
    done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
