"""Bad inputs for the command line, and the contract every run must keep with them.

Shared by the bounded hypothesis suite (tests/test_fuzz.py, in CI) and the long release run
(``python tests/fuzz_release.py --count 2000``, see docs/guide.md). Each input is a list of
arguments plus the files it needs (check files, user model files, special files) made in a
scratch folder. The contract (DESIGN.md, issue #9):

- the exit code is 0, 1, 2 or 3;
- never a Python traceback, never an "internal error";
- exit 2 prints exactly one line on stderr;
- no file in the scratch folder changes unless the run was asked to write it;
- a run given ``--time-limit S`` ends within S plus a few seconds.
"""

from __future__ import annotations

import os
import random
import textwrap
from dataclasses import dataclass, field

# -- the pieces ------------------------------------------------------------------------------

MODELS = ["failover", "zk-cluster", "ensemble", "failover-3-1-2-3", "nope", "", "-", "::",
          "x.toml", "m.py:M", "m.py", "m.py:", "m.py:Nope", "dir.py:M", "fifo.py:M",
          "/dev/zero", "/dev/null:M", "bad.toml", "ok.toml", "loop.py:M"]

NUMBERS = ["0", "-1", "1", "2", "3", "1e20", "inf", "-inf", "nan", "NaN", "", " ", "0.5",
           "99999999999999999999999999", "0x10", "1_000", "٣", "true", "1.5", "1e-9", "abc"]

PARAMS = ["brokers", "partitions", "replication.factor", "replication_factor",
          "min.insync.replicas", "unclean.leader.election.enable", "max_epoch",
          "replica.assignment", "servers", "nope", "", "=", "max_crashes"]

FLAGS = {
    "check": ["--engine", "--max-depth", "--max-states", "--time-limit", "--query-time-limit",
              "--property", "--before", "--format", "--trace-out", "--trace-format", "-p",
              "--exact", "--coverage", "--show-examples", "--slow", "--list", "--force",
              "--no-progress", "--bogus", "--config", "--junit-xml", "--liveness",
              "--fairness", "--seed", "--traces", "--depth"],
    "prove": ["--property", "--induction", "--strengthen", "--base-depth", "--time-limit",
              "--query-time-limit", "--format", "-p", "--before", "--bogus", "--config",
              "--auto"],
    "graph": ["--format", "--max-states", "--out", "-p", "--before", "--force", "--time-limit",
              "--bogus", "--config"],
    "models": ["--format", "--bogus"],
    "quorum": ["table", "check", "reconfig", "--voters", "--ids", "--rule", "--groups",
               "--weight", "--config", "--limit", "--max", "--from", "--to", "--format"],
}
VALUED = {"--engine": ["bfs", "dfs", "bmc", "batch", "simulate", ""],
          "--fairness": ["none", "weak", "strong", "fair", ""],
          "--seed": ["0", "7", "-1", "x"], "--traces": ["1", "3", "0"], "--depth": ["0", "5", "-2"],
          "--format":
          ["text", "json", "dot", "graphml", "xml", ""], "--trace-format":
          ["text", "json", "itf", "svg", "mermaid", "html", "png"],
          "--property": ["leader_in_isr", "nope", "", "type_ok",
                         "controller_elected"],
          "--before": ["KAFKA-6082", "KIP-966", "nope", ""], "--strengthen": ["leader_in_isr",
                                                                               "nope"],
          "--rule": ["majority", "half", "threshold:2", "threshold:-1", "threshold:x", "nope"],
          "--ids": ["1,2,3", "", "a,b", "1,1", "1:2", "99999999999999999999999"],
          "--groups": ["1:2:3", "", "1:1", "x"], "--weight": ["1=2", "1=0", "x=1", "1=-1",
                                                              "1=99999999999999"],
          "--from": ["1,2,3", "", "x"], "--to": ["1,2,3,4", "", "1"],
          "--config": ["ok.toml", "/dev/zero", "dir.py", "nope.cfg", "zoo.cfg",
                       "server.properties", "bad.properties", "fifo.py"]}
OUTPUTS = ["out.txt", "out.json", "", "m.py", "ok.toml", "dir.py", "/nonexistent/x.txt",
           "fresh.itf.json", "existing.txt"]


# -- user model files ------------------------------------------------------------------------

MODEL = textwrap.dedent('''
    from kafkacheck.checker.lang import Model, Int, Bool, action, always, sometimes, require
    {top}
    class M(Model):
        name = "fuzz"
        {params}
        def setup(m):
            {setup}
        def variables(m):
            {variables}
        def init(m, s):
            {init}
        @action()
        def inc(m, s):
            {action}
        @always
        def ok(m, s):
            {invariant}
        @sometimes
        def far(m, s):
            return s.x == 2
''')

SLOTS = {
    "top": ["", "import sys; sys.exit(0)", "import sys; sys.exit(1)", "raise SystemExit(2)",
            "raise KeyboardInterrupt", "class B(BaseException): pass\nraise B()",
            "raise GeneratorExit", "1/0", "import nonexistent_module_xyz", "def (:",
            "import os; os.environ['X'] = '1'", "__import__('sys').setrecursionlimit(50)"],
    "params": ["pass", "from kafkacheck.checker.lang import Param\n    n = Param(9, lo=0, hi=3)",
               "from kafkacheck.checker.lang import Param\n    n = Param(0.5)",
               "from kafkacheck.checker.lang import Param\n    n = Param(1, key='x')\n"
               "    k = Param(1, key='x')"],
    "setup": ["pass", "raise ValueError('no')", "import sys; sys.exit(0)", "setup_x = 1/0",
              "raise SystemExit", "m.setup()", "while True: pass"],
    "variables": ['return {"x": Int(0, 3)}', "return {}", "return None", "return 5",
                  'return {"x": Int(3, 0)}', 'return {"x": 7}', "raise SystemExit(0)",
                  'return {"x": Int(0, 10**30)}'],
    "init": ["s.x = 0", "pass", "s.x = 9", "s.y = 0", "raise RuntimeError('bad init')",
             "while True: pass", "import sys; sys.exit(0)", "s.x = 'a'", "m.init(s)"],
    "action": ["require(s.x < 3)\n        s.x = s.x + 1", "s.x = s.x + 1",
               "if s.x < 3: s.x = s.x + 1", "while True: pass", "raise SystemExit(0)",
               "require(5)\n        s.x = 1", "s.x = s.x / 0", "return 1", "s.nope = 1"],
    "invariant": ["return s.x < 3", "return s.x < 2", "return 1", "return None",
                  "while True: pass", "raise SystemExit(3)", "return s.x < 2 and s.x > 0",
                  "return s.nope", "import sys; sys.exit(0)"],
}


#: faults that change the interpreter the run shares with its caller: for separate processes only
HOST_FAULTS = {"import os; os.environ['X'] = '1'", "__import__('sys').setrecursionlimit(50)"}


def model_file(rng: random.Random, in_process: bool = False) -> str:
    """A small user model with a few of its slots replaced by a fault."""
    pick = {k: v[0] for k, v in SLOTS.items()}
    for k in rng.sample(sorted(SLOTS), rng.randint(0, 2)):
        choices = [c for c in SLOTS[k] if not (in_process and c in HOST_FAULTS)]
        pick[k] = rng.choice(choices)
    return MODEL.format(**pick)


# -- check files -----------------------------------------------------------------------------

GOOD_CHECK = {"name": '"fuzz-check"', "model": '"failover"', "description": '"x"',
              "properties": '["leader_in_isr"]', "max_depth": "6"}
CHECK_VALUES = ['""', "1", "-1", "[]", "[[\"a\"]]", "[1, 2]", "true", "1e400", "nan",
                "{ a = 1 }", '"nope"', "99999999999999999999", '"bfs"', '"dfs"', '"bmc"',
                '["leader_in_isr", "leader_in_isr"]', "1979-05-27"]
CHECK_KEYS = ["name", "model", "description", "properties", "before", "engine", "max_depth",
              "slow", "show_examples", "bogus", "params"]


def check_file(rng: random.Random) -> bytes:
    """A check file with a few keys broken, dropped or added."""
    top = dict(GOOD_CHECK)
    expect = {"verdict": '"holds"'}
    params = {"brokers": "3"}
    for _ in range(rng.randint(1, 3)):
        what = rng.randrange(6)
        if what == 0:
            top[rng.choice(CHECK_KEYS)] = rng.choice(CHECK_VALUES)
        elif what == 1 and top:
            top.pop(rng.choice(sorted(top)))
        elif what == 2:
            expect[rng.choice(["verdict", "distinct_states", "depth", "property",
                               "trace_length", "examples", "bogus"])] = rng.choice(
                CHECK_VALUES + ['"violated"', '"holds"', "{ x = 1 }"])
        elif what == 3:
            expect.pop("verdict", None)
        elif what == 4:
            params[rng.choice(PARAMS[:9]) if rng.random() < 0.9 else "nope"] = \
                rng.choice(CHECK_VALUES + ['"1:3"', '"1:2,1:2,1:2,1:2,1:2,1:2,1:2"'])
        else:
            params["replication_factor"] = "2"
            params['"replication.factor"'] = "3"
    lines = [f"{k} = {v}" for k, v in top.items() if k != "params"]
    lines.append("[params]")
    lines += [f"{k if k.startswith(chr(34)) or '.' not in k else chr(34) + k + chr(34)} = {v}"
              for k, v in params.items()]
    lines.append("[expect]")
    lines += [f"{k} = {v}" for k, v in expect.items()]
    text = "\n".join(lines) + "\n"
    r = rng.random()
    if r < 0.04:
        return b"\xff\xfe" + text.encode()
    if r < 0.08:
        return ("a = " + "[" * 3000 + "]" * 3000 + "\n").encode()
    if r < 0.10:
        return b"name = \"x\"\n" + b"#" * 1_200_000 + b"\n"
    if r < 0.14:
        cut = rng.randrange(len(text))
        return text[:cut].encode()
    return text.encode()


# -- whole inputs ----------------------------------------------------------------------------

@dataclass
class Input:
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    writes: set[str] = field(default_factory=set)  # outputs the run was asked to write
    time_limit: float | None = None


def _value(rng, flag):
    if flag in VALUED:
        return rng.choice(VALUED[flag])
    if flag in ("--trace-out", "--out", "--junit-xml"):
        return rng.choice(OUTPUTS)
    if flag == "-p":
        v = rng.choice(NUMBERS + ["1:3", "1:2,1:2,1:2,1:2,1:2,1:2,1:2", "true"])
        return f"{rng.choice(PARAMS)}={v}" if rng.random() < 0.9 else rng.choice(PARAMS)
    return rng.choice(NUMBERS)


def make_input(rng: random.Random, *, time_limit: float = 3.0, in_process: bool = False) -> Input:
    """One hostile command line and the files it refers to; check and prove runs get
    ``--time-limit`` (``time_limit`` seconds) unless the input names its own."""
    files = {"m.py": model_file(rng, in_process).encode(), "bad.toml": check_file(rng),
             "ok.toml": b'name = "ok"\nmodel = "failover"\n[expect]\nverdict = "holds"\n',
             "existing.txt": b"keep me\n",
             "server.properties": b"process.roles=broker,controller\nmin.insync.replicas=1\n"
                                  b"log.dirs=/x\nacks=-1\n",
             "bad.properties": rng.choice([b"min.insync.replicas=\\u00zz\n",
                                           b"min.insync.replicas=banana\n",
                                           b"a=1\\\n\0\xff\xfe", b"acks=7\nacks=all\n",
                                           b"\xe9=\xe9\nreplication.factor=99\n"]),
             "zoo.cfg": b"server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:2\nweight.1=0\n"
                        b"weight.2=0\n",
             "loop.py": MODEL.format(**{**{k: v[0] for k, v in SLOTS.items()},
                                        "init": "while True: pass"}).encode()}
    focused = rng.random() < 0.6  # a hostile file behind an otherwise ordinary command
    if focused:
        cmd = rng.choice(["check", "check", "check", "check", "prove", "graph", "quorum"])
    else:
        cmd = rng.choice(["check", "check", "check", "prove", "graph", "models", "quorum",
                          "quorum", "", "bogus", "--version", "--help"])
    argv = [cmd] if cmd else []
    if focused and cmd == "quorum":
        argv += ["check", "--config", rng.choice(["zoo.cfg", "bad.toml", "zero.toml",
                                                  "fifo.py", "dir.py", "m.py", "nope"])]
    elif focused:
        argv.append(rng.choice(["m.py:M", "m.py:M", "bad.toml", "zero.toml"]))
        if cmd == "graph":
            argv += ["--format", rng.choice(["dot", "json", "graphml"])]
    elif cmd in ("check", "prove", "graph"):
        if rng.random() < 0.9:
            argv.append(rng.choice(MODELS))
    if cmd == "quorum":
        argv.append(rng.choice(["table", "check", "reconfig", "bogus"]) if rng.random() < 0.9
                    else "--help")
    flags = [f for f in FLAGS.get(cmd, []) if f != "--bogus" or rng.random() < 0.2]
    for _ in range(rng.randint(0, 2) if focused else rng.randint(0, 4)):
        if not flags:
            break
        flag = rng.choice(flags)
        if flag in ("table", "check", "reconfig"):
            continue
        argv.append(flag)
        if flag not in ("--exact", "--coverage", "--show-examples", "--slow", "--list",
                        "--force", "--no-progress", "--bogus") and rng.random() < 0.95:
            argv.append(_value(rng, flag))
    writes = set()
    for i, a in enumerate(argv[:-1]):
        if a in ("--trace-out", "--out", "--junit-xml") and "--force" in argv:
            writes.add(argv[i + 1])
        elif a in ("--trace-out", "--out", "--junit-xml"):
            writes.add(argv[i + 1]) if argv[i + 1] not in files else None
    limit = None
    if cmd in ("check", "prove", "graph") and "--time-limit" not in argv:
        limit = time_limit
        argv += ["--time-limit", str(time_limit)]
    elif "--time-limit" in argv:
        try:
            v = float(argv[argv.index("--time-limit") + 1])
            limit = v if v == v and 0 < v < 60 else None
        except (ValueError, IndexError):
            limit = None
    if cmd == "check" and ("--engine" not in argv):
        argv += ["--max-states", "20000"]
    return Input(argv, files, writes, limit)


def snapshot(folder: str) -> dict[str, bytes | None]:
    """Every regular file's bytes under a folder (special files by name only)."""
    out = {}
    for name in sorted(os.listdir(folder)):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                out[name] = f.read()
        else:
            out[name] = None
    return out


def materialize(inp: Input, folder: str) -> None:
    for name, data in inp.files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(folder, "dir.py"), exist_ok=True)
    if not os.path.exists(os.path.join(folder, "fifo.py")):
        os.mkfifo(os.path.join(folder, "fifo.py"))
    if not os.path.lexists(os.path.join(folder, "zero.toml")):
        os.symlink("/dev/zero", os.path.join(folder, "zero.toml"))


def violations(inp: Input, code: int, out: str, err: str, before: dict, after: dict,
               seconds: float) -> list[str]:
    """How a run broke the contract (empty when it kept it)."""
    found = []
    if code not in (0, 1, 2, 3):
        found.append(f"exit code {code}")
    if "Traceback (most recent call last)" in err or "Traceback (most recent call last)" in out:
        found.append("traceback")
    if "internal error" in err:
        found.append("internal error")
    if code == 2 and len(err.strip().splitlines()) != 1:
        found.append(f"exit 2 with {len(err.strip().splitlines())} lines on stderr")
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name) and name not in inp.writes:
            found.append(f"file {name} changed")
    if any(n.startswith(".kafkacheck-") for n in after):
        found.append("temporary file left behind")
    if inp.time_limit is not None and seconds > inp.time_limit + 5:
        found.append(f"ran {seconds:.1f} s past --time-limit {inp.time_limit}")
    return found
