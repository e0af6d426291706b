"""Check files: a model, its parameters, the properties, and the outcome on record.

A check file is TOML::

    name = "failover-3-1-2-3"          # how users name it: kafkacheck check failover-3-1-2-3
    model = "failover"
    description = "one line"
    properties = ["leader_in_isr"]     # optional: default every property of the model
    before = ["KAFKA-6082"]            # optional: known fixes to remove
    engine = "bfs"                     # optional: bfs (default) or dfs
    max_depth = 12                     # optional bound
    slow = false                       # slow checks run only with --slow
    show_examples = false              # print the sometimes-properties' example traces

    [params]
    brokers = 3

    [expect]
    verdict = "holds"                  # or "violated"
    distinct_states = 4464
    depth = 21
    property = "..."                   # the violated property, when violated
    trace_length = 7                   # its shortest trace, when violated
    examples = { leader_elected = 3 }  # optional: lengths of sometimes-examples

Every key is checked: an unknown one is an error, never silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class SpecError(Exception):
    """A check file is malformed."""


_TOP = {"name": str, "model": str, "description": str, "properties": list, "before": list,
        "engine": str, "max_depth": int, "slow": bool, "show_examples": bool,
        "params": dict, "expect": dict}
_EXPECT = {"verdict": str, "distinct_states": int, "depth": int, "property": str,
           "trace_length": int, "examples": dict}


@dataclass
class Expect:
    verdict: str
    distinct_states: int | None = None
    depth: int | None = None
    property: str | None = None
    trace_length: int | None = None
    examples: dict = field(default_factory=dict)


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
    engine: str = "bfs"
    max_depth: int | None = None
    slow: bool = False
    show_examples: bool = False

    def settings(self) -> dict[str, str]:
        """Parameters as the strings a user would type after -p."""
        return {k: (str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in self.params.items()}


def _check_keys(where: str, table: dict, schema: dict):
    for key, value in table.items():
        if key not in schema:
            raise SpecError(f"{where}: unknown key {key!r} (known: {', '.join(schema)})")
        if not isinstance(value, schema[key]) or (schema[key] is int and isinstance(value, bool)):
            raise SpecError(f"{where}: {key} must be a {schema[key].__name__}, got {value!r}")


def load_spec(path) -> SpecFile:
    """Read and validate one check file; raise SpecError with a one-line reason."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SpecError(f"cannot read check file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: malformed TOML: {e}") from None
    _check_keys(str(path), data, _TOP)
    for key in ("name", "model", "expect"):
        if key not in data:
            raise SpecError(f"{path}: missing required key {key!r}")
    _check_keys(f"{path} [expect]", data["expect"], _EXPECT)
    expect = Expect(**data.pop("expect"))
    if expect.verdict not in ("holds", "violated"):
        raise SpecError(f"{path}: expect.verdict must be 'holds' or 'violated'")
    if expect.verdict == "violated" and not expect.property:
        raise SpecError(f"{path}: an expected violation must name expect.property")
    if data.get("engine", "bfs") not in ("bfs", "dfs"):
        raise SpecError(f"{path}: engine must be bfs or dfs")
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
    for name, length in e.examples.items():
        ex = result.examples.get(name)
        if ex is None or ex.length != length:
            out.append(f"example {name}: {ex.length if ex else 'none'} steps, "
                       f"expected {length}")
    return out


def discover(folder) -> list[SpecFile]:
    """Every check file under a folder, sorted by file name."""
    return [load_spec(p) for p in sorted(Path(folder).glob("**/*.toml"))]
