"""``--config FILE``: Java properties files as model parameters.

A file is read with a real Java properties parser (javaproperties: ``#``/``!`` comments,
``=``, ``:`` or blanks between key and value, backslash line continuations, ``\\uXXXX``
escapes), or as ``kafka-configs --describe`` output when it starts with that tool's header.
Every key read is either mapped to a parameter of the model (the parameter that declares that
Kafka key) or listed as not modeled: nothing is silently ignored.

Decisions:

- A key given twice, in one file or in two, takes the last value, as Kafka's own
  ``Properties.load`` does (and a topic config after ``server.properties`` overrides the
  broker default); when the values differ a note names both places.
- ``-p KEY=VALUE`` overrides a file's value; the file's value is then not even parsed.
- Bytes are read as UTF-8, or as ISO-8859-1 (what Java's ``Properties.load`` reads) when they
  are not UTF-8; a NUL byte means the file is not text, and is refused.
- A bad value is one line, ``FILE:LINE: KEY=VALUE: ...`` saying what is allowed (exit 2).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from ..specfile import SpecError, read_bytes
from .targets import UserError

#: a configuration file is small (server.properties is a few kB); the same bound as check files
MAX_BYTES = 1_000_000
_EOL = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Entry:
    """One key read from one file."""

    file: str
    line: int
    key: str
    value: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Config:
    """Every entry read from the ``--config`` files, in order, and the notes about them."""

    files: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __bool__(self):
        return bool(self.files)

    def last(self) -> dict[str, Entry]:
        """The entry that wins for each key: the last one read."""
        out: dict[str, Entry] = {}
        for e in self.entries:
            earlier = out.get(e.key)
            if earlier is not None and earlier.value != e.value:
                self.notes.append(f"{e.where}: {show(e.key)}={show(e.value)} replaces "
                                  f"{show(earlier.value)} from {earlier.where} (the last "
                                  "value wins, as in Kafka)")
            out[e.key] = e
        return out

    def values(self) -> dict[str, str]:
        return {e.key: e.value for e in self.entries}


def show(text: str, limit: int = 80) -> str:
    """A key or value as one printable token (control characters escaped, cut at ``limit``)."""
    out = text if text.isprintable() and text.strip() == text and text else ascii(text)
    return out if len(out) <= limit else out[:limit - 3] + "..."


#: not-modeled keys named on the note line; the rest are counted (JSON lists every one)
MAX_LISTED = 40


def read_configs(paths) -> Config:
    """Read every ``--config`` file in order; SpecError/UserError in one line if one is bad."""
    config = Config()
    for path in paths:
        config.files.append(path)
        config.entries.extend(read_config(path))
    return config


def read_config(path: str) -> list[Entry]:
    """The entries of one properties file (or ``kafka-configs --describe`` output)."""
    import javaproperties
    from kafkacheck.specs.config import describe_entries, is_describe_output
    raw = read_bytes(path, "configuration file", MAX_BYTES)
    if b"\0" in raw:
        raise SpecError(f"{path}: binary data (a NUL byte at byte {raw.index(0)}), not a "
                        "properties file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")  # what java.util.Properties.load(InputStream) reads
    if text.startswith("\ufeff"):
        text = text[1:]
    if is_describe_output(text):
        out = []
        for line, key, value in describe_entries(text):
            if key is None:
                raise SpecError(f"{path}:{line}: not a line of kafka-configs --describe output"
                                f" (key=value sensitive=... synonyms={{...}}): {show(value)[:60]}")
            out.append(Entry(path, line, key, value))
        return out
    out, line = [], 1
    try:
        for element in javaproperties.parse(io.StringIO(text)):
            if isinstance(element, javaproperties.KeyValue):
                out.append(Entry(path, line, element.key, element.value))
            line += len(_EOL.findall(element.source))
    except ValueError as e:  # javaproperties' InvalidUEscapeError
        raise SpecError(f"{path}:{line}: {' '.join(str(e).split())} (write \\uXXXX with four "
                        "hex digits)") from None
    return out


@dataclass
class Applied:
    """How a configuration applies to one model: what it set, what it could not."""

    model: str
    mapped: dict[str, Entry] = field(default_factory=dict)     # parameter key -> entry
    not_modeled: list[str] = field(default_factory=list)       # keys, as read
    reasons: dict[str, str] = field(default_factory=dict)      # why, where a key has one
    overridden: list[str] = field(default_factory=list)        # keys that -p gave as well
    chosen: str | None = None                                  # why this model, for 'kafka'
    values: dict[str, str] = field(default_factory=dict)       # as the model takes them
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The notes a run prints on stderr, one per line."""
        out = list(self.notes)
        if self.chosen:
            out.append(f"config: kafka is {self.model} ({self.chosen})")
        if self.mapped:
            out.append(f"config: {self.model} parameters from the files: " + ", ".join(
                f"{k}={show(self.values.get(k, e.value))}"
                + (f" (as {show(e.value)}, {e.where})" if self.values.get(k, e.value) != e.value
                   else f" ({e.where})") for k, e in self.mapped.items()))
        if self.overridden:
            out.append("config: -p overrides the files for " + ", ".join(self.overridden))
        if self.not_modeled:
            more = len(self.not_modeled) - MAX_LISTED
            named = [show(k) + (f" ({self.reasons[k]})" if k in self.reasons else "")
                     for k in self.not_modeled[:MAX_LISTED]]
            out.append(f"config: not modeled by {self.model}: " + ", ".join(named)
                       + (f" and {more:,} more (--format json lists them)" if more > 0 else ""))
        return out

    def as_dict(self) -> dict:
        return {"model": self.model, "chosen": self.chosen,
                "mapped": {k: {"value": self.values.get(k, e.value), "read": e.value,
                               "file": e.file, "line": e.line}
                           for k, e in self.mapped.items()},
                "overridden": self.overridden, "not_modeled": self.not_modeled,
                "reasons": self.reasons}


def apply(config: Config, model_class, model_name: str, user_settings: dict[str, str],
          extra_keys=()) -> tuple[dict[str, str], Applied]:
    """The settings a run uses: the files' values for the model's parameters under the user's
    ``-p``, each parsed and validated here so that a bad one names its file and line.
    ``extra_keys`` are keys the command consumes itself (none are "not modeled")."""
    from kafkacheck.specs.config import NotModeled, translate

    from ..lang import ParameterError
    params = model_class.params()
    by_key = {p.key: p for p in params.values()}
    canon = {p.name: p.key for p in params.values()} | {p.key: p.key for p in params.values()}
    mine = {canon.get(k, k) for k in user_settings}
    applied = Applied(model_name)
    winners = config.last()
    applied.notes = list(config.notes)
    config.notes.clear()
    settings = {}
    for key, entry in winners.items():
        p = by_key.get(key)
        if p is None:
            if key not in extra_keys:
                applied.not_modeled.append(key)
            continue
        if key in mine:
            applied.overridden.append(key)
            continue
        try:
            value = translate(model_name, key, entry.value)
        except NotModeled as why:
            applied.not_modeled.append(key)
            applied.reasons[key] = str(why)
            continue
        try:
            p.validate(p.parse(value))
        except ParameterError as e:
            raise UserError(f"{entry.where}: {show(key)}={show(entry.value)}: "
                            f"{_rule(p, e)}") from None
        applied.mapped[key] = entry
        applied.values[key] = value
        settings[key] = value
    applied.not_modeled.sort()
    settings.update(user_settings)
    return settings, applied


def _rule(p, e) -> str:
    """What a parameter allows, in words (or the parse function's own message)."""
    if p.choices is not None:
        return f"{p.key} takes one of {', '.join(map(str, p.choices))}"
    if isinstance(p.default, bool):
        return f"{p.key} takes true or false"
    if isinstance(p.default, int) and p._parse is None:
        lo = "" if p.lo is None else p.lo
        if p.hi is None:
            return f"{p.key} takes an integer" + (f" of at least {lo}" if lo != "" else "")
        return f"{p.key} takes an integer from {lo} to {p.hi}"
    text = str(e)
    prefix = f"parameter {p.key}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def config_option(fn):
    """The ``--config FILE`` option (repeatable) of every command that builds a model."""
    import click
    return click.option("--config", "configs", multiple=True, metavar="FILE",
                        help="Read parameters from a Java properties file (server.properties, "
                             "a topic config, a client config; repeatable, later files win, "
                             "-p wins over all); keys the model lacks are listed. TARGET "
                             "kafka is kraft-cluster or zk-cluster as process.roles says.")(fn)


def echo(applied: Applied | None) -> None:
    import click
    if applied is not None:
        for line in applied.lines():
            click.echo(line, err=True)


def resolve_configured(target: str, configs, settings: dict[str, str], extra_keys=()):
    """``(Target, settings, Applied or None)``: the target a command names (``kafka``: the
    model its configuration runs as) with the ``--config`` files' values under ``-p``."""
    from kafkacheck.specs.config import KAFKA, choose_model

    from .targets import Target, catalog, resolve
    config = read_configs(configs)
    chosen = None
    if target == KAFKA:
        name, chosen = choose_model(config.values())
        resolved = Target(name, catalog()[name])
    else:
        resolved = resolve(target)
    if not config and chosen is None:
        return resolved, settings, None
    name = getattr(resolved.model_class, "name", None) or resolved.name
    merged, applied = apply(config, resolved.model_class, name, settings, extra_keys)
    applied.chosen = chosen
    return resolved, merged, applied
