"""The kafkacheck command line (the one layer that sees model/, specs/ and checker/)."""

from .main import cli, main

__all__ = ["cli", "main"]
