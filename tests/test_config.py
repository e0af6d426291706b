"""``--config FILE``: Java properties files as parameters, and hostile ones refused in one line."""

import json
import os

import pytest

from kafkacheck.checker.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def write(tmp_path, text, name="server.properties", mode="w", **kw):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, **kw)
    return str(path)


def params(capsys, *argv):
    """The JSON of a cheap check (depth 0) with these options: params and the config report."""
    code, out, err = run(capsys, "check", *argv, "--max-depth", "0", "--format", "json")
    assert code in (0, 1, 3), err  # depth 0: a sometimes-property may be unreached
    return json.loads(out), err


SERVER = """\
# a KRaft combined node
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka1:9093,2@kafka2:9093,3@kafka3:9093
min.insync.replicas=1
unclean.leader.election.enable=true
log.retention.hours=168
log.dirs=/var/lib/kafka/data
"""


def test_keys_map_to_parameters_and_the_rest_are_listed(capsys, tmp_path):
    d, err = params(capsys, "kafka", "--config", write(tmp_path, SERVER))
    assert d["model"] == "kraft-cluster" and d["target"] == "kraft-cluster"
    assert d["params"]["min.insync.replicas"] == 1
    assert d["params"]["unclean.leader.election.enable"] is True
    assert d["params"]["process.roles"] == "broker,controller"
    assert d["params"]["controller.quorum.voters"] == "1@kafka1:9093,2@kafka2:9093,3@kafka3:9093"
    assert d["config"]["not_modeled"] == ["log.dirs", "log.retention.hours", "node.id"]
    assert d["config"]["mapped"]["min.insync.replicas"]["line"] == 5
    assert "not modeled by kraft-cluster: log.dirs, log.retention.hours, node.id" in err
    # the reproduce line needs no file: the file's values are spelled out
    assert "-p min.insync.replicas=1" in d["command"]
    assert d["command"].startswith("kafkacheck check kraft-cluster ")


def test_process_roles_selects_the_mode(capsys, tmp_path):
    d, err = params(capsys, "kafka", "--config",
                    write(tmp_path, "zookeeper.connect=zk1:2181\nmin.insync.replicas=1\n"))
    assert d["model"] == "zk-cluster" and d["params"]["min.insync.replicas"] == 1
    assert "zookeeper.connect" in d["config"]["not_modeled"]
    assert "kafka is zk-cluster" in err
    # a broker-only KRaft node runs with dedicated controllers
    d, _ = params(capsys, "kafka", "--config", write(tmp_path, "process.roles=broker\n", "b"))
    assert d["model"] == "kraft-cluster" and d["params"]["process.roles"] == "controller"


def test_acks_minus_one_is_all(capsys, tmp_path):
    d, err = params(capsys, "zk-cluster", "--config", write(tmp_path, "acks=-1\n",
                                                            "producer.properties"))
    assert d["params"]["acks"] == "all"
    assert "acks=all (as -1, " in err


def test_p_overrides_the_file_which_is_then_not_parsed(capsys, tmp_path):
    path = write(tmp_path, "min.insync.replicas=banana\nacks=1\n")
    d, err = params(capsys, "zk-cluster", "--config", path, "-p", "min_insync_replicas=3")
    assert d["params"]["min.insync.replicas"] == 3 and d["params"]["acks"] == "1"
    assert "-p overrides the files for min.insync.replicas" in err


@pytest.mark.parametrize("body,says", [
    ("broker.id=1\nmin.insync.replicas=banana\n",
     "server.properties:2: min.insync.replicas=banana: min.insync.replicas takes an integer "
     "from 1 to 6"),
    ("min.insync.replicas=9\n", "server.properties:1: min.insync.replicas=9: "
                                "min.insync.replicas takes an integer from 1 to 6"),
    ("# x\n\nunclean.leader.election.enable=maybe\n",
     "server.properties:3: unclean.leader.election.enable=maybe: "
     "unclean.leader.election.enable takes true or false"),
    ("acks=2\n", "server.properties:1: acks=2: acks takes one of all, 1, 0"),
    ("a=\\\n  b\nreplica.assignment=1:x\n", "server.properties:3: replica.assignment=1:x: "
                                            "bad replica assignment"),
    ("a=1\nb=\\u00zz\n", "server.properties:2: Invalid \\u escape sequence"),
])
def test_a_bad_value_is_one_line_naming_file_line_key_and_rule(capsys, tmp_path, body, says):
    code, out, err = run(capsys, "check", "zk-cluster", "--config", write(tmp_path, body))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert says in err, err


def test_duplicate_keys_the_last_wins_and_a_note_says_so(capsys, tmp_path):
    path = write(tmp_path, "min.insync.replicas=1\nacks=1\nmin.insync.replicas=3\n")
    d, err = params(capsys, "zk-cluster", "--config", path)
    assert d["params"]["min.insync.replicas"] == 3
    assert "server.properties:3: min.insync.replicas=3 replaces 1 from " in err
    assert "(the last value wins, as in Kafka)" in err
    # across files: the later file wins (a topic config over the broker's default)
    topic = write(tmp_path, "min.insync.replicas=2\n", "topic.properties")
    d, err = params(capsys, "zk-cluster", "--config", path, "--config", topic)
    assert d["params"]["min.insync.replicas"] == 2
    assert "topic.properties:1: min.insync.replicas=2 replaces 3" in err


def test_escapes_continuations_and_separators_as_java_reads_them(capsys, tmp_path):
    body = ("min.insync\\u002ereplicas : 1\n"          # an escaped key, ':' as separator
            "unclean.leader.election.enable tr\\\n"      # a blank as separator, continued
            "      ue\n"
            "! a comment\n"
            "caf\\u00e9.key=x\n"
            "acks\t=\t1\r\n")
    d, err = params(capsys, "zk-cluster", "--config", write(tmp_path, body))
    assert d["params"]["min.insync.replicas"] == 1
    assert d["params"]["unclean.leader.election.enable"] is True
    assert d["params"]["acks"] == "1"
    assert d["config"]["mapped"]["acks"]["line"] == 6
    assert d["config"]["not_modeled"] == ["café.key"]


def test_iso_8859_1_is_read_as_java_does(capsys, tmp_path):
    path = write(tmp_path, b"client.id=caf\xe9\nmin.insync.replicas=1\n", mode="wb")
    d, _ = params(capsys, "zk-cluster", "--config", path)
    assert d["params"]["min.insync.replicas"] == 1 and d["config"]["not_modeled"] == ["client.id"]


def test_kafka_configs_describe_output(capsys, tmp_path):
    body = ("Dynamic configs for topic orders are:\n"
            "  min.insync.replicas=1 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
            "min.insync.replicas=1, DEFAULT_CONFIG:min.insync.replicas=1}\n"
            "  retention.ms=604800000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
            "retention.ms=604800000}\n")
    d, _ = params(capsys, "zk-cluster", "--config", write(tmp_path, body, "orders.txt"))
    assert d["params"]["min.insync.replicas"] == 1
    assert d["config"]["not_modeled"] == ["retention.ms"]
    assert d["config"]["mapped"]["min.insync.replicas"]["line"] == 2
    code, _, err = run(capsys, "check", "zk-cluster", "--config",
                       write(tmp_path, body + "garbage here\n", "bad.txt"))
    assert code == 2 and "bad.txt:4: not a line of kafka-configs --describe output" in err


def test_files_that_are_not_properties_files(capsys, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = write(tmp_path, "a=" + "x" * 1_000_001 + "\n", "big.properties")
    nul = write(tmp_path, b"a=1\n\0\0", "nul.properties", mode="wb")
    for path, says in ((str(tmp_path), "is a directory"), (str(fifo), "not a regular file"),
                       (big, "larger than 1,000,000 bytes"), (nul, "binary data"),
                       (str(tmp_path / "none"), "No such file")):
        code, out, err = run(capsys, "check", "zk-cluster", "--config", path)
        assert code == 2 and out == "" and says in err, (path, err)
        assert len(err.strip().splitlines()) == 1


def test_config_needs_a_target_and_works_on_prove_and_graph(capsys, tmp_path):
    path = write(tmp_path, "replication.factor=3\nbroker.id=1\n")
    code, _, err = run(capsys, "check", "--config", path)
    assert code == 2 and "--config needs a TARGET" in err
    code, out, err = run(capsys, "graph", "failover", "--config", path, "-p", "brokers=3",
                         "-p", "max_epoch=1", "--format", "json")
    assert code == 0 and "not modeled by failover: broker.id" in err
    assert json.loads(out)["nodes"]
    code, out, err = run(capsys, "prove", "failover", "--config", path, "-p", "max_epoch=1",
                         "--property", "leader_in_isr", "--format", "json")
    assert json.loads(out)["params"]["replication.factor"] == 3
    assert "not modeled by failover: broker.id" in err


def test_unavailability_reads_durations_and_process_roles(capsys, tmp_path):
    path = write(tmp_path, "zookeeper.connect=zk:2181\nzookeeper.session.timeout.ms=6000\n"
                           "log.dirs=/x\n")
    code, out, err = run(capsys, "unavailability", "--config", path, "--fault", "crash",
                         "-k", "1", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["model"] == "zk-cluster" and d["timings"]["zookeeper.session.timeout.ms"] == 6000
    assert "not modeled by the unavailability measurement: log.dirs, zookeeper.connect" in err
    bad = write(tmp_path, "broker.session.timeout.ms=soon\n", "bad.properties")
    code, _, err = run(capsys, "unavailability", "--config", bad)
    assert code == 2 and "bad.properties:1: broker.session.timeout.ms=soon" in err


@pytest.mark.parametrize("argv", [
    ["check", "zk-cluster", "-p", "nope=1"],
    ["check", "zk-cluster", "--property", "nope"],
    ["prove", "zk-cluster", "--property", "nope"],
    ["graph", "zk-cluster", "-p", "brokers=x", "--format", "json"],
    ["unavailability", "--brokers", "1"],
    ["audit", "-p", "brokers=1"],
])
def test_bad_input_after_reading_a_config_is_still_one_line(capsys, tmp_path, argv):
    path = write(tmp_path, "min.insync.replicas=1\nlog.dirs=/x\nmin.insync.replicas=2\n")
    code, out, err = run(capsys, *argv[:2], "--config", path, *argv[2:]) \
        if argv[0] != "audit" else run(capsys, "audit", path, *argv[1:])
    assert code == 2 and len(err.strip().splitlines()) == 1, err


from hypothesis import given, settings, strategies as st  # noqa: E402

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                max_size=12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["acks", "min.insync.replicas", "a b", "k:x",
                                           "é", "log.dirs", "#x", "!y", "="]), _TEXT,
                          st.integers(0, 2), st.sampled_from(["\n", "\r\n", "\r"]),
                          st.booleans()),
                min_size=1, max_size=8))
def test_entries_and_their_lines_as_java_reads_them(tmp_path_factory, lines):
    """Random entries, escaped as Java writes them, some split over continuation lines and
    some behind comments and blank lines: each comes back with its key, value and line."""
    import javaproperties
    from kafkacheck.checker.cli.config import read_config
    text, expected, line = "", [], 1
    for key, value, splits, eol, comment in lines:
        if comment:
            text += "# a comment" + eol + eol
            line += 2
        k = javaproperties.escape(key)
        v = javaproperties.escape(value)
        entry = f"{k}={v}"
        # split the value over two lines where Java would join it back unchanged: not after
        # a backslash, not before a blank (a continuation line's leading blanks are dropped)
        cuts = [c for c in range(len(k) + 2, len(entry))
                if entry[c - 1] != "\\" and not entry[c].isspace()]
        ends = 0
        if splits and cuts:
            cut = cuts[len(cuts) // 2]
            entry = entry[:cut] + "\\" + eol + "    " + entry[cut:]
            ends = 1
        text += entry + eol
        expected.append((line, key, value))
        line += 1 + ends
    path = tmp_path_factory.mktemp("p") / "x.properties"
    path.write_bytes(text.encode("utf-8"))
    got = [(e.line, e.key, e.value) for e in read_config(str(path))]
    assert got == expected


def test_precedence_check_file_then_files_then_p(capsys, tmp_path):
    check = str(__import__("kafkacheck.checker.cli.targets", fromlist=["x"]).checks_folder()
                / "failover-3-1-2-3.toml")
    path = write(tmp_path, "replication.factor=3\n")
    d, _ = params(capsys, check, "--config", path)
    assert d["params"]["replication.factor"] == 3 and d["params"]["max_epoch"] == 3
    d, _ = params(capsys, check, "--config", path, "-p", "replication_factor=1")
    assert d["params"]["replication.factor"] == 1


def test_a_user_model_takes_the_keys_it_declares(capsys, tmp_path):
    (tmp_path / "m.py").write_text(
        "from kafkacheck.checker.lang import Model, Int, Param, action, always, require\n"
        "class M(Model):\n"
        "    '''A counter bounded by a Kafka key.'''\n"
        "    name = 'm'\n"
        "    isr = Param(2, key='min.insync.replicas', lo=1, hi=3)\n"
        "    def variables(m):\n"
        "        return {'x': Int(0, 3)}\n"
        "    @action()\n"
        "    def up(m, s):\n"
        "        '''Count.'''\n"
        "        require(s.x < m.isr)\n"
        "        s.x = s.x + 1\n"
        "    @always\n"
        "    def small(m, s):\n"
        "        '''Within the bound.'''\n"
        "        return s.x <= m.isr\n")
    path = write(tmp_path, "min.insync.replicas=3\nacks=all\n")
    code, out, err = run(capsys, "check", f"{tmp_path}/m.py:M", "--config", path,
                         "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["params"] == {"min.insync.replicas": 3} and d["distinct_states"] == 4
    assert "not modeled by m: acks" in err
    path = write(tmp_path, "min.insync.replicas=4\n", "bad.properties")
    code, _, err = run(capsys, "check", f"{tmp_path}/m.py:M", "--config", path)
    assert code == 2 and "bad.properties:1: min.insync.replicas=4: min.insync.replicas takes " \
                         "an integer from 1 to 3" in err


def test_many_unknown_keys_are_counted_and_listed_in_json(capsys, tmp_path):
    body = "".join(f"custom.key.{i:03}=x\n" for i in range(100)) + "k" * 500 + "=1\n"
    path = write(tmp_path, body)
    d, err = params(capsys, "zk-cluster", "--config", path)
    assert len(d["config"]["not_modeled"]) == 101
    line = next(ln for ln in err.splitlines() if "not modeled" in ln)
    assert "custom.key.039" in line and "custom.key.040" not in line
    assert line.endswith(" and 61 more (--format json lists them)")
    code, _, err = run(capsys, "check", "zk-cluster", "--config",
                       write(tmp_path, "acks=" + "x" * 5000 + "\n", "long.properties"))
    assert code == 2 and len(err) < 300 and "acks=xxx" in err
