"""Resolving what a user names: a built-in model, a check file, or their own model class.

The CLI is the one place that sees model/, specs/ and checker/ together.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from ..lang import Model, ModelError
from ..specfile import SpecFile, discover, load_spec


MAX_MODEL_FILE_BYTES = 10_000_000


class UserError(Exception):
    """Bad input: the CLI prints the message as one line and exits 2."""


def catalog() -> dict:
    from kafkacheck.specs.catalog import MODELS
    return MODELS


def checks_folder() -> Path:
    import kafkacheck.specs
    return Path(kafkacheck.specs.__file__).parent / "checks"


def builtin_specs() -> list[SpecFile]:
    return discover(checks_folder())


@dataclass
class Target:
    """What to check: a model class, how it was named, and the check file if any."""

    name: str
    model_class: type
    spec: SpecFile | None = None
    user_file: str | None = None

    def build(self, settings: dict[str, str], before=()) -> Model:
        """The model instance, with the check file's parameters under the user's."""
        from . import guard
        guard.phase = "building the model"
        # one name per parameter, so that the user's -p overrides the check file's value
        # whichever of its two names (Kafka key or attribute) each one used
        try:
            params = self.model_class.params()
        except ModelError:
            raise
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt) or self.user_file is None:
                raise
            raise UserError(f"model {self.name} failed while being built"
                            f"{_where(e, self.user_file)}: {_what(e)}") from None
        canon = {p.name: p.key for p in params.values()}
        merged = {canon.get(k, k): v for k, v in
                  (self.spec.settings() if self.spec else {}).items()}
        mine, typed = {}, {}
        for k, v in settings.items():
            c = canon.get(k, k)
            if c in mine:
                raise UserError(f"parameter {c} given twice (as {typed[c]!r} and {k!r}); "
                                "give it once")
            mine[c], typed[c] = v, k
        merged.update(mine)
        fixes = tuple(dict.fromkeys([*(self.spec.before if self.spec else ()), *before]))
        with self._user_code():
            return self.model_class.from_settings(merged, before=fixes)

    def compile(self, model: Model):
        """The model compiled for the engines; a bug in a user's model is one line."""
        from . import guard
        guard.phase = "compiling the model"
        with self._user_code():
            return model.compile()

    def system(self, settings: dict[str, str], before=()):
        """The model built and compiled for the engines, once per run: ``(model, system)``.
        Every command (check, prove, graph) gets its transition system here."""
        model = self.build(settings, tuple(before))
        return model, self.compile(model)

    def inputs(self) -> list[str]:
        """The files this target is read from: a run must never write over them."""
        import inspect
        out = [self.user_file, str(self.spec.path) if self.spec else None]
        try:
            out.append(inspect.getsourcefile(self.model_class))
        except (TypeError, OSError):
            pass
        return [p for p in out if p]

    @contextmanager
    def _user_code(self):
        """Report an exception raised by the user's own model code as bad input, naming the
        line of their file where it happened (built-in models keep their tracebacks)."""
        try:
            yield
        except (ModelError, KeyboardInterrupt):  # KeyboardInterrupt: Ctrl-C or the deadline
            raise
        except BaseException as e:  # SystemExit and friends from a user's file are bad input
            if self.user_file is None:
                raise
            raise UserError(f"model {self.name} failed while being built"
                            f"{_where(e, self.user_file)}: {_what(e)}") from None


def resolve(target: str) -> Target:
    """Find the model or check file that ``target`` names."""
    models = catalog()
    if target.endswith(".toml") or Path(target).suffix == ".toml":
        spec = load_spec(target)
        return spec_target(target, spec)  # reproduce: the path
    if ":" in target and target.split(":", 1)[0].endswith(".py"):
        return Target(target, load_user_model(target), user_file=target.split(":", 1)[0])
    if target in models:
        return Target(target, models[target])
    specs = {s.name: s for s in builtin_specs()}
    if target in specs:
        return Target(target, _model_named(specs[target].model, models), specs[target])
    names = sorted(models) + sorted(specs)
    hint = get_close_matches(target, names, n=1)
    did = f"; did you mean {hint[0]!r}?" if hint else ""
    raise UserError(f"unknown model or check {target!r}{did} (models: "
                    f"{', '.join(sorted(models))}; checks: kafkacheck check --list)")


def spec_target(name: str, spec: SpecFile) -> Target:
    """The target a check file names: a built-in model, or a user's model as
    ``path/to/file.py:Class`` with the path relative to the check file's folder."""
    if ":" in spec.model and spec.model.split(":", 1)[0].endswith(".py"):
        path, _, cls = spec.model.partition(":")
        if not Path(path).is_absolute():
            path = str(Path(spec.path).parent / path)
        return Target(name, load_user_model(f"{path}:{cls}"), spec, user_file=path)
    return Target(name, _model_named(spec.model, catalog()), spec)


def _model_named(name: str, models: dict):
    if name not in models:
        raise UserError(f"unknown model {name!r} (models: {', '.join(sorted(models))})")
    return models[name]


def _where(e: BaseException, user_file: str) -> str:
    """`` at FILE:LINE`` for the innermost frame of the user's file in e's traceback."""
    try:
        mine = Path(user_file).resolve()
        frames = [f for f in traceback.extract_tb(e.__traceback__)
                  if Path(f.filename).resolve() == mine]
    except (OSError, RuntimeError):
        frames = []
    if frames:
        return f" at {user_file}:{frames[-1].lineno}"
    if isinstance(e, SyntaxError) and e.lineno:
        return f" at {user_file}:{e.lineno}"
    return ""


def _what(e: BaseException) -> str:
    if isinstance(e, SystemExit):
        return f"SystemExit({e.code!r}): a model file must not exit"
    if isinstance(e, SyntaxError):
        return f"SyntaxError: {e.msg}"
    text = " ".join(str(e).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def load_user_model(spec: str):
    """Import ``path/to/file.py:ClassName`` and return the Model subclass."""
    import stat as st
    from . import guard
    guard.phase = "loading the model file"
    path, _, cls_name = spec.partition(":")
    file = Path(path)
    if not cls_name.isidentifier():
        raise UserError(f"{spec}: after the colon name the model class (path/to/file.py:Class)")
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        raise UserError(f"model file {path} does not exist") from None
    except OSError as e:
        raise UserError(f"cannot read model file {path}: {e.strerror}") from None
    if st.S_ISDIR(mode):
        raise UserError(f"model file {path} is a directory; name a .py file")
    if not st.S_ISREG(mode):
        raise UserError(f"model file {path} is not a regular file (a FIFO, socket or device); "
                        "name a .py file")
    if mode and file.stat().st_size > MAX_MODEL_FILE_BYTES:
        raise UserError(f"model file {path} is larger than {MAX_MODEL_FILE_BYTES:,} bytes; "
                        "is it the right file?")
    module_name = f"kafkacheck_user_{abs(hash(str(file.resolve())))}"
    loader_spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except (ModelError, KeyboardInterrupt):  # KeyboardInterrupt: Ctrl-C or the deadline
        raise
    except BaseException as e:  # the user's file failed to import: say where, in one line
        raise UserError(f"cannot import {_where(e, path).strip()[3:] or path}: "
                        f"{_what(e)}") from None
    try:
        cls = getattr(module, cls_name, None)
    except BaseException as e:  # a module __getattr__ of the user's
        raise UserError(f"cannot import {_where(e, path).strip()[3:] or path}: "
                        f"{_what(e)}") from None
    if cls is None:
        found = [n for n, v in vars(module).items()
                 if isinstance(v, type) and issubclass(v, Model) and v is not Model]
        raise UserError(f"{path} has no class {cls_name!r} (models there: "
                        f"{', '.join(found) or 'none'})")
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise UserError(f"{path}:{cls_name} is not a subclass of kafkacheck.checker.lang.Model")
    return cls


def model_options(verb: str):
    """The options every command that builds a model takes: -p KEY=VALUE and --before FIX."""
    import click

    def wrap(fn):
        fn = click.option("--before", multiple=True, metavar="FIX",
                          help=f"{verb} the model as Kafka was before a known fix "
                               "(see: kafkacheck models).")(fn)
        return click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
                            help="Set a model parameter, by Kafka's config key where Kafka "
                                 "has one.")(fn)
    return wrap


def parse_settings(pairs) -> dict[str, str]:
    """``-p KEY=VALUE`` options as a dict; a repeated key is an error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"-p expects KEY=VALUE, got {pair!r}")
        key = key.strip()
        if key in out:
            raise UserError(f"parameter {key!r} given twice")
        out[key] = value.strip()
    return out


def seconds_type():
    """A click type for a time limit: a finite number of seconds above 0 (inf and nan refused)."""
    import math

    import click

    class Seconds(click.ParamType):
        name = "seconds"

        def convert(self, value, param, ctx):
            try:
                v = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
            if not math.isfinite(v) or v <= 0 or v > MAX_SECONDS:
                self.fail(f"{value!r} is not a time limit: give seconds above 0 and at most "
                          f"{MAX_SECONDS:,} (a year)", param, ctx)
            return v
    return Seconds()


MAX_SECONDS = 31_536_000
#: bounds on counts a user types: far beyond what any run reaches, small enough for the platform
MAX_DEPTH = 1_000_000
MAX_COUNT = 2 ** 62


def reproduce(verb: str, target: str, settings: dict, before=(), options=()) -> str:
    """The one command line that reproduces a run, for every command's "Reproduce:" line and
    JSON ``command``: ``options`` are ``(flag, value)`` pairs, a value of True a bare flag,
    None or False left out."""
    import shlex
    args = ["kafkacheck", verb, target]
    for k, v in settings.items():
        args += ["-p", f"{k}={v}"]
    for fix in before:
        args += ["--before", fix]
    for flag, value in options:
        if value is True:
            args.append(flag)
        elif value is not None and value is not False:
            args += [flag, str(value)]
    return shlex.join(args)
