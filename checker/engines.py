"""The engine registry: every engine's name, what it supports, and how to run it.

``check``, check files, ``bench`` and the suite ask this module, never spell engine names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    name: str
    help: str
    shortest_traces: bool   # counterexamples and examples are shortest
    max_depth: bool         # honours --max-depth
    max_states: bool        # honours --max-states
    exact: bool             # can store whole states (--exact)
    explicit: bool          # an explicit-state search (counts states), not a solver
    symmetry: bool = False  # honours --symmetry (one state per permutation class)
    liveness: bool = False  # decides eventually / leads_to properties under fairness
    steps: bool = True      # checks transition (step) properties
    distributed: bool = False  # runs on a Ray cluster (--cluster); never a check file's


ENGINES: dict[str, Engine] = {e.name: e for e in (
    Engine("bfs", "breadth-first, per state: shortest traces (the reference); liveness "
           "over the whole graph", True, True, True, True, True, symmetry=True, liveness=True),
    Engine("dfs", "depth-first: memory grows with depth; traces not shortest; liveness as "
           "bfs", False, True, True, True, True, symmetry=True, liveness=True),
    Engine("batch", "breadth-first with NumPy, a frontier at a time: bfs's results, faster; "
           "liveness over the whole graph, recorded as it goes",
           True, True, True, False, True, symmetry=True, liveness=True),
    Engine("ray", "breadth-first over Ray actors (--cluster, --workers): batch's results, on "
           "several cores or machines", True, True, True, False, True, distributed=True),
    Engine("bmc", "bounded model checking with Z3", True, True, False, False, False),
    Engine("simulate", "seeded random walks (--seed, --traces, --depth): for spaces too "
           "large to exhaust; finds violations, proves nothing", False, False, False, False,
           False),
)}

#: the engines that explore states one by one (check files and bench may name them)
EXPLICIT = tuple(n for n, e in ENGINES.items() if e.explicit and not e.distributed)


def names() -> tuple[str, ...]:
    return tuple(ENGINES)


def get(name: str) -> Engine:
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
    return ENGINES[name]


def run_explicit(system, engine: str, **options):
    """Run an explicit engine. ``batch`` on a system it cannot vectorize (or with
    ``exact``) runs ``bfs`` instead, and the result's ``note`` says why."""
    get(engine)
    cluster = {k: options.pop(k) for k in ("cluster", "workers") if k in options}
    if cluster and not get(engine).distributed:
        raise ValueError(f"engine {engine!r} does not run on a cluster (cluster, workers)")
    if engine == "ray":
        from .batch import BatchUnsupported
        from .distributed import distributed
        live = wants_liveness(system, options)
        try:
            if live:
                raise BatchUnsupported(f"liveness property {live[0]} needs the whole "
                                       "reachable graph in one process")
            return distributed(system, **cluster, **options)
        except BatchUnsupported as why:
            result = run_explicit(system, "batch", **options)
            ran = "batch" if result.engine == "batch" else "bfs"
            result.note = f"the distributed engine does not apply ({why}); {ran} ran instead"
            return result
    if engine == "batch":
        from .batch import BatchUnsupported, batch
        try:
            return batch(system, **options)
        except BatchUnsupported as why:
            from .explicit import bfs
            result = bfs(system, **options)
            result.note = f"the batch engine does not apply ({why}); bfs ran instead"
            return result
    from .explicit import bfs, dfs
    if engine == "bfs":
        return bfs(system, **options)
    if engine == "dfs":
        return dfs(system, **options)
    raise ValueError(f"engine {engine!r} is not an explicit-state engine")


def wants_liveness(system, options) -> list[str]:
    """The liveness properties a run with these options checks."""
    from .system import LIVENESS
    kinds = {p.name: p.kind for p in system.properties}
    names = options.get("properties")
    if names is None:
        return [n for n, k in kinds.items() if k in LIVENESS] if options.get("liveness") \
            else []
    return [n for n in names if kinds.get(n) in LIVENESS]


def supporting(feature: str) -> list[str]:
    """The engines that support ``feature`` (a field of ``Engine``: ``liveness``, ...)."""
    return [e.name for e in ENGINES.values() if getattr(e, feature)]


def default_for(system, *, exact: bool = False) -> str:
    """The engine a check runs when none is named: ``batch`` wherever it applies (it gives
    bfs's results, tested on every check file), else ``bfs``."""
    if exact:
        return "bfs"
    from .batch import applies
    return "bfs" if applies(system) else "batch"
