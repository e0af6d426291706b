"""Check files: a model, its parameters, the properties, and the outcome on record.

A check file is TOML::

    name = "failover-3-1-2-3"          # how users name it: kafkacheck check failover-3-1-2-3
    model = "failover"
    description = "one line"
    properties = ["leader_in_isr"]     # optional: default every property of the model
    before = ["KAFKA-6082"]            # optional: known fixes to remove
    engine = "bfs"                     # optional: bfs, dfs or batch (default: batch where
                                       # it applies, else bfs)
    max_depth = 12                     # optional bound
    fairness = "weak"                  # optional: liveness under this fairness for every
                                       # action (default: as the model declares)
    slow = false                       # slow checks run only with --slow
    show_examples = false              # print the sometimes-properties' example traces
    symmetry = false                   # one state per permutation of symmetric ids

    [params]
    brokers = 3

    [expect]
    verdict = "holds"                  # or "violated"
    distinct_states = 4464
    depth = 21
    property = "..."                   # the violated property, when violated
    trace_length = 7                   # its shortest trace, when violated
    states_generated = 9012            # optional: successors generated (TLC's "generated")
    trace = ["elect(b=1)", "..."]      # optional: the trace's actions, in order, when violated
    examples = { leader_elected = 3 }  # optional: lengths of sometimes-examples
    loop = 5                           # optional: a lasso's loop start (liveness)

Every key is checked: an unknown one is an error, never silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class SpecError(Exception):
    """A check file is malformed (the message is one line naming the file and each problem)."""


#: a check file is small; anything bigger is not one (and a device such as /dev/zero never ends)
MAX_BYTES = 1_000_000
_BIG = 2 ** 62  # integers a check file may hold: far beyond any bound, within the platform's


def _text(v) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _str(v):
    return None if isinstance(v, str) and v.strip() else "a non-empty string"


def _any_str(v):
    return None if isinstance(v, str) else "a string"


def _bool(v):
    return None if isinstance(v, bool) else "true or false"


def _count(v):
    ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _BIG
    return None if ok else f"an integer from 0 to {_BIG}"


def _names(v):
    if not isinstance(v, list) or not v:
        return "a non-empty list of property names (omit the key to check every property)"
    if not all(isinstance(x, str) and x.strip() for x in v):
        return "a list of property names (strings)"
    if len(set(v)) != len(v):
        return "a list of distinct property names"
    return None


def _fixes(v):
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        return "a list of fix ids (strings such as \"KAFKA-6082\")"
    return None


def _engine(v):
    from .engines import EXPLICIT
    return None if v in EXPLICIT else " or ".join(f'"{n}"' for n in EXPLICIT)


def _fairness(v):
    return None if v in ("none", "weak", "strong") else '"none", "weak" or "strong"'


def _verdict(v):
    return None if v in ("holds", "violated") else '"holds" or "violated"'


def _params(v):
    if not isinstance(v, dict):
        return "a table of parameter = value"
    for k, x in v.items():
        if isinstance(x, bool) or isinstance(x, str):
            continue
        if isinstance(x, int) and -_BIG <= x <= _BIG:
            continue
        if isinstance(x, float) and x == x and abs(x) != float("inf"):
            continue
        return f"a table of parameter = value (a string, number or boolean; {k!r} is " \
               f"{_text(x)})"
    return None


def _actions(v):
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        return "a list of action labels (strings such as \"crash(b=1)\")"
    return None


def _examples(v):
    if not isinstance(v, dict) or any(_count(x) for x in v.values()):
        return "a table of property = number of steps"
    return None


_TOP = {"name": _str, "model": _str, "description": _any_str, "properties": _names,
        "before": _fixes, "engine": _engine, "max_depth": _count, "slow": _bool,
        "show_examples": _bool, "symmetry": _bool, "params": _params, "fairness": _fairness,
        "expect": None}
_EXPECT = {"verdict": _verdict, "distinct_states": _count, "depth": _count, "property": _str,
           "trace_length": _count, "examples": _examples, "states_generated": _count,
           "trace": _actions, "loop": _count}
_REQUIRED = ("name", "model", "expect")


@dataclass
class Expect:
    verdict: str
    distinct_states: int | None = None
    depth: int | None = None
    property: str | None = None
    trace_length: int | None = None
    examples: dict = field(default_factory=dict)
    states_generated: int | None = None
    trace: list | None = None
    loop: int | None = None


@dataclass
class SpecFile:
    path: Path
    name: str
    model: str
    expect: Expect
    description: str = ""
    params: dict = field(default_factory=dict)
    properties: list | None = None
    before: list = field(default_factory=list)
    engine: str | None = None
    max_depth: int | None = None
    slow: bool = False
    show_examples: bool = False
    symmetry: bool = False
    fairness: str | None = None

    def settings(self) -> dict[str, str]:
        """Parameters as the strings a user would type after -p."""
        return {k: (str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in self.params.items()}


def problems(data: dict) -> list[str]:
    """Every way a parsed check file breaks the schema, one phrase each naming the key and
    what is allowed (empty when it is valid)."""
    out = []
    for key, value in data.items():
        if key not in _TOP:
            out.append(f"unknown key {key!r} (known: {', '.join(_TOP)})")
        elif _TOP[key] is not None and (want := _TOP[key](value)):
            out.append(f"{key} must be {want}, not {_text(value)}")
    for key in _REQUIRED:
        if key not in data:
            out.append(f"missing required key {key!r}")
    expect = data.get("expect")
    if "expect" in data and not isinstance(expect, dict):
        out.append(f"expect must be a table ([expect] with verdict = ...), not {_text(expect)}")
    elif isinstance(expect, dict):
        for key, value in expect.items():
            if key not in _EXPECT:
                out.append(f"[expect] unknown key {key!r} (known: {', '.join(_EXPECT)})")
            elif want := _EXPECT[key](value):
                out.append(f"[expect] {key} must be {want}, not {_text(value)}")
        if "verdict" not in expect:
            out.append('[expect] missing required key \'verdict\' ("holds" or "violated")')
        elif expect["verdict"] == "violated" and "property" not in expect:
            out.append("[expect] an expected violation must name the violated property")
    return out


def read_text(path, what: str = "check file", max_bytes: int = MAX_BYTES) -> str:
    """A small UTF-8 text file a user named, or SpecError in one line: a directory, a FIFO or
    device (which could block or never end), a huge file or bytes that are not UTF-8 are
    each refused before anything is read from them."""
    raw = read_bytes(path, what, max_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"{path}: not UTF-8 text (byte {e.start}); save the {what} as "
                        "UTF-8") from None


def read_bytes(path, what: str = "check file", max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a small regular file a user named, or SpecError in one line (a directory,
    a FIFO or device, a file over ``max_bytes``), refused before anything is read."""
    import stat
    path = Path(path)
    try:
        st = path.stat()
    except OSError as e:
        raise SpecError(f"cannot read {what} {path}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise SpecError(f"{what} {path} is a directory; name a file")
    if not stat.S_ISREG(st.st_mode):
        raise SpecError(f"{what} {path} is not a regular file (a FIFO, socket or device)")
    if st.st_size > max_bytes:
        raise SpecError(f"{what} {path} is larger than {max_bytes:,} bytes; is it the right "
                        "file?")
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        raise SpecError(f"cannot read {what} {path}: {e.strerror}") from None
    if len(raw) > max_bytes:
        raise SpecError(f"{what} {path} is larger than {max_bytes:,} bytes")
    return raw


def load_spec(path) -> SpecFile:
    """Read and validate one check file; raise SpecError with a one-line reason."""
    path = Path(path)
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: malformed TOML: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise SpecError(f"{path}: nested too deeply to be a check file") from None
    found = problems(data)
    if found:
        raise SpecError(f"{path}: " + f"; ".join(found))
    expect = Expect(**data.pop("expect"))
    return SpecFile(path=path, expect=expect, **data)


def mismatches(spec: SpecFile, result) -> list[str]:
    """How a result differs from the outcome on record (empty when it matches)."""
    e, out = spec.expect, []
    if result.verdict != e.verdict:
        out.append(f"verdict {result.verdict}, expected {e.verdict}")
    if e.distinct_states is not None and result.distinct_states != e.distinct_states:
        out.append(f"{result.distinct_states} states, expected {e.distinct_states}")
    if e.depth is not None and result.depth != e.depth:
        out.append(f"depth {result.depth}, expected {e.depth}")
    v = result.violation
    if e.property is not None and (v is None or v.property != e.property):
        out.append(f"violated {v.property if v else 'nothing'}, expected {e.property}")
    if e.trace_length is not None and (v is None or v.length != e.trace_length):
        out.append(f"trace of {v.length if v else '-'} steps, expected {e.trace_length}")
    if e.states_generated is not None and result.states_generated != e.states_generated:
        out.append(f"{result.states_generated} generated, expected {e.states_generated}")
    if e.trace is not None:
        got = v.action_path() if v is not None else None
        if got != list(e.trace):
            out.append(f"trace {got}, expected {list(e.trace)}")
    if e.loop is not None and (v is None or v.loop != e.loop):
        out.append(f"loop back to state {v.loop if v else '-'}, expected {e.loop}")
    for name, length in e.examples.items():
        ex = result.examples.get(name)
        if ex is None or ex.length != length:
            out.append(f"example {name}: {ex.length if ex else 'none'} steps, "
                       f"expected {length}")
    return out


def discover(folder) -> list[SpecFile]:
    """Every check file under a folder, sorted by file name."""
    return [load_spec(p) for p in sorted(Path(folder).glob("**/*.toml"))]
