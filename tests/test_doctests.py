"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["kafkacheck.checker", "kafkacheck.checker.lang", "kafkacheck.checker.system",
           "kafkacheck.testing", "kafkacheck.specs.config", "kafkacheck.checker.simulate",
           "kafkacheck.checker.symbolic.houdini"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
