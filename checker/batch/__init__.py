"""The NumPy batch engine: breadth-first search a frontier at a time (see ``engine.py``)."""

from .engine import BatchUnsupported, applies, batch

__all__ = ["BatchUnsupported", "applies", "batch"]
