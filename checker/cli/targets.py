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
        merged = dict(self.spec.settings()) if self.spec else {}
        merged.update(settings)
        fixes = tuple(dict.fromkeys([*(self.spec.before if self.spec else ()), *before]))
        with self._user_code():
            return self.model_class.from_settings(merged, before=fixes)

    def compile(self, model: Model):
        """The model compiled for the engines; a bug in a user's model is one line."""
        with self._user_code():
            return model.compile()

    @contextmanager
    def _user_code(self):
        """Report an exception raised by the user's own model code as bad input, naming the
        line of their file where it happened (built-in models keep their tracebacks)."""
        try:
            yield
        except ModelError:
            raise
        except Exception as e:
            if self.user_file is None:
                raise
            frames = [f for f in traceback.extract_tb(e.__traceback__)
                      if Path(f.filename).resolve() == Path(self.user_file).resolve()]
            where = f" at {self.user_file}:{frames[-1].lineno}" if frames else ""
            raise UserError(f"model {self.name} failed while being built{where}: "
                            f"{type(e).__name__}: {e}") from None


def resolve(target: str) -> Target:
    """Find the model or check file that ``target`` names."""
    models = catalog()
    if target.endswith(".toml") or Path(target).suffix == ".toml":
        spec = load_spec(target)
        return Target(spec.name, _model_named(spec.model, models), spec)
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


def _model_named(name: str, models: dict):
    if name not in models:
        raise UserError(f"unknown model {name!r} (models: {', '.join(sorted(models))})")
    return models[name]


def load_user_model(spec: str):
    """Import ``path/to/file.py:ClassName`` and return the Model subclass."""
    path, _, cls_name = spec.partition(":")
    file = Path(path)
    if not file.is_file():
        raise UserError(f"model file {path} does not exist")
    module_name = f"kafkacheck_user_{abs(hash(str(file.resolve())))}"
    loader_spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except ModelError:
        raise
    except Exception as e:  # the user's file failed to import: say where, in one line
        raise UserError(f"cannot import {path}: {type(e).__name__}: {e}") from None
    cls = getattr(module, cls_name, None)
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
