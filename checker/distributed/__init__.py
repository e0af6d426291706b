"""The distributed engine: breadth-first search hash-partitioned over Ray actors."""

from .engine import DIE_ENV, INSTALL, ClusterUnreachable, RayMissing, distributed, ray_module

__all__ = ["DIE_ENV", "INSTALL", "ClusterUnreachable", "RayMissing", "distributed",
           "ray_module"]
