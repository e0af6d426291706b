"""The distributed engine: the batch engine's breadth-first search, hash-partitioned over Ray
actors.

Each worker (``worker.Worker``, one Ray actor) owns the states whose fingerprints fall in its
partition: their fingerprints, their parent links and, a level at a time, their packed
words. The driver (this module) synchronizes the levels. In a level every worker expands its
part of the frontier with the batch engine's kernels and sends each successor batch to its
owner (NumPy arrays through Ray's object store, never through the driver); every owner keeps
the new ones. The driver then merges the owners' keys, so that each new state gets its rank
in the order the reference ``bfs`` meets it. That order makes the run give ``bfs``'s results
exactly: the same counts (also when a violation or the state limit stops it in the middle of
a level), the same first violation, and the same shortest trace. A trace is rebuilt by
walking the parent links across their owners and replaying the steps through the reference
code (``explicit._Search.trace``), so it prints as any other engine's.

What the driver holds is small: the initial states, a level's keys while it ranks them, and
the statistics. A worker that dies ends the run cleanly (stop reason ``worker_lost``, the
statistics of the levels completed); so does Ctrl-C, and Ray is shut down in either case.
"""

from __future__ import annotations

import os
import time
import warnings
from array import array

import numpy as np

from ..explicit import _Found, _options, _PROGRESS_SECONDS, _Search
from ..fingerprint import collision_bound
from ..result import CheckResult
from ..stop import stop_reason
from .worker import ID_SHIFT, NONE, Worker, owner_of

#: the test hook: ``KAFKACHECK_RAY_DIE_AT_LEVEL=k`` makes worker 1 (or 0 alone) exit at level k
DIE_ENV = "KAFKACHECK_RAY_DIE_AT_LEVEL"
INSTALL = "pip install 'kafkacheck[ray]'"
#: how long the workers may take to start before the run gives up (a cluster without room)
START_SECONDS = 120.0


class _WorkersLost(Exception):
    """Workers that never started: the run ends as when one dies."""


class RayMissing(Exception):
    """Ray is not installed; the message says how to install it."""


class ClusterUnreachable(Exception):
    """The Ray cluster named by ``--cluster`` cannot be joined; the message says why."""


def ray_module():
    """The ``ray`` module, or ``RayMissing`` with the line that says how to install it."""
    try:
        import ray
    except ImportError:
        raise RayMissing("--cluster needs Ray, which is not installed; install it with: "
                         f"{INSTALL}") from None
    return ray


def distributed(system, *, cluster: str = "local", workers: int | None = None,
                **options) -> CheckResult:
    """Breadth-first search over ``workers`` Ray actors; same options and results as
    ``explicit.bfs`` (no ``exact``, ``symmetry`` or liveness: the caller falls back, see
    ``engines.run_explicit``).

    ``cluster`` is ``local`` (start a Ray on this machine with ``workers`` CPUs, default its
    cores), ``auto`` or ``ray://host:port`` (join a running cluster; ``workers`` defaults to
    its CPUs). A process that has already called ``ray.init`` keeps its Ray.
    """
    from ..batch import BatchUnsupported, applies
    why = applies(system)
    if why:
        raise BatchUnsupported(why)
    opts = _options(options)
    if opts["exact"]:
        raise BatchUnsupported("--exact stores whole states, which the distributed engine "
                               "does not")
    if opts["symmetry"] is not None:
        raise BatchUnsupported("the distributed engine does not reduce by symmetry")
    ray = ray_module()
    search = _Search(system, "ray", **opts)
    run = _Driver(ray, search, cluster, workers)
    try:
        run.loop()
    except _Found:
        pass
    except (ray.exceptions.RayActorError, _WorkersLost) as err:
        search.stop_reason = "worker_lost"
        run.lost = _first_line(err)
    except KeyboardInterrupt as e:
        search.stop_reason = stop_reason(e)
    except MemoryError:
        search.stop_reason = "memory_limit"
    except ray.exceptions.RayError as err:  # a worker out of memory: the run stops there
        oom = getattr(ray.exceptions, "OutOfMemoryError", ())
        if not (isinstance(err, oom) or isinstance(getattr(err, "cause", None), MemoryError)):
            raise
        search.stop_reason = "memory_limit"
    finally:
        run.ended = time.perf_counter()  # Ray's shutdown is not the search's time
        run.close()
    return run.result()


def _slim(built):
    """What a worker needs of a built model: the expression trees of the guards, updates and
    properties, and the layout; not the action labels and parameters (a model's own types,
    which need not pickle)."""
    from types import SimpleNamespace as NS
    return NS(name=built.name, layout=built.layout, check_deadlock=built.check_deadlock,
              actions=[NS(guard=a.guard, updates=a.updates) for a in built.actions],
              properties=[NS(name=p.name, kind=p.kind, expr=p.expr) for p in built.properties])


def _first_line(err) -> str:
    """The line of a Ray error that says what happened: the exception a worker raised while
    starting, or else the error's first line."""
    import re
    text = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    raised = [line for line in text if re.match(r"^[\w.]*(Error|Exception|Exit)\b:?", line)]
    line = raised[-1] if raised else (text[0] if text else type(err).__name__)
    return re.sub(r"\x1b\[[0-9;]*m", "", line)[:300]


class _Driver:
    def __init__(self, ray, search: _Search, cluster: str, workers: int | None):
        self.ray, self.search = ray, search
        self.cluster, self.nworkers = cluster, workers
        self.actors = []
        self.started = False
        self.lost = ""
        self.level = 0
        self.n = 0                       # states stored by the completed levels
        self.worker_states = []
        self.worker_bytes = {}           # per worker: sent, received, stored
        self.driver_bytes = 0            # keys in, ranks out
        self.stored = 0
        self.seconds_start = 0.0
        self.queue = 0                   # the states of the level being expanded

    # -- Ray ----------------------------------------------------------------------------------
    def connect(self):
        ray = self.ray
        if not ray.is_initialized():
            kwargs = dict(include_dashboard=False, log_to_driver=False,
                          logging_level="ERROR", configure_logging=True)
            if self.cluster == "local":
                cpus = self.nworkers or os.cpu_count() or 1
                kwargs["num_cpus"] = max(cpus, self.nworkers or 1)
                address = "local"  # a Ray of its own, never one already running here
            else:
                address = self.cluster
            self.started = True  # an interrupt during the start still shuts it down
            with _unlimited_address_space():  # Ray's processes reserve large mappings
                try:
                    with warnings.catch_warnings():  # Ray warns before it raises: one line
                        warnings.simplefilter("ignore")
                        ray.init(address=address, **kwargs)
                except (ConnectionError, ValueError, RuntimeError) as err:
                    if address == "local":
                        raise
                    self.started = False
                    why = " ".join(str(err).split()) or type(err).__name__
                    raise ClusterUnreachable(f"cannot join the Ray cluster at {address}: "
                                             f"{why}") from None
        if self.nworkers is None:
            self.nworkers = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def close(self):
        ray = self.ray
        for a in self.actors:
            try:
                ray.kill(a)
            except Exception:  # noqa: BLE001 - a dead actor cannot be killed twice
                pass
        self.actors = []
        if self.started:
            self.started = False
            ray.shutdown()

    def _wait(self, refs, timeout=None):
        """Wait for ``refs`` while enforcing the time limit and reporting progress."""
        pending = list(refs)
        since = time.perf_counter()
        while pending:
            _, pending = self.ray.wait(pending, num_returns=len(pending), timeout=0.25)
            self._tick()
            if pending and timeout is not None and time.perf_counter() - since > timeout:
                raise _WorkersLost(
                    f"WorkerStartTimeout: {len(pending)} of {len(refs)} workers did not "
                    f"start within {timeout:.0f} s (does the cluster have the CPUs, and "
                    "kafkacheck installed on every node?)")
        return self.ray.get(list(refs))

    def _tick(self):
        s = self.search
        now = time.perf_counter()
        if s.time_limit is not None and now - s.start >= s.time_limit:
            s.stop_reason = "time_limit"
            raise _Found
        if s.progress is not None and now - s.last_report >= _PROGRESS_SECONDS:
            s.last_report = now
            elapsed = now - s.start
            s.progress({"distinct": self.n, "queue": self.queue, "depth": s.depth,
                        "seconds": elapsed, "states_per_second": self.n / elapsed,
                        "workers": list(self.worker_states),
                        "exchanged": sum(b.get("sent", 0) for b in self.worker_bytes.values())})

    # -- the search -----------------------------------------------------------------------------
    def loop(self):
        s = self.search
        ray = self.ray
        try:
            inits = s.visit_initial()
        finally:
            self.n = len(s.parent)
        self.inits_order = list(s.which)
        self.connect()
        nw = self.nworkers
        built = s.system.built
        cpus = float(ray.cluster_resources().get("CPU", nw))
        # more workers than CPUs share them (a worker needs at most one)
        remote = ray.remote(num_cpus=min(1.0, cpus / nw), max_restarts=0,
                            max_task_retries=0)(Worker)
        die = os.environ.get(DIE_ENV)
        victim = 1 if nw > 1 else 0
        blob = ray.put(_slim(built))
        strategy = "SPREAD" if self.cluster != "local" else "DEFAULT"
        self.actors = [remote.options(scheduling_strategy=strategy).remote(
            w, nw, blob, s.always, s.pending, s.steps,
            int(die) if die is not None and w == victim else None) for w in range(nw)]
        self._wait([a.ping.remote() for a in self.actors], timeout=START_SECONDS)
        self.seconds_start = time.perf_counter()
        # the initial states, to their owners; rank = their order in bfs
        from ..batch.packing import Packer
        packer = Packer([(t.lo(), t.hi()) for t in built.layout.slot_types])
        width = built.layout.width
        words = packer.pack(np.array(inits, dtype=np.int64).reshape(len(inits), width).T)
        fps = packer.fingerprints_of(words)
        owner = owner_of(fps, nw) if len(inits) else np.zeros(0, dtype=np.uint64)
        ranks = np.arange(len(inits), dtype=np.int64)
        which = np.asarray(s.which, dtype=np.int32)
        self._wait([a.add_initial.remote(words[:, owner == w], which[owner == w],
                                         ranks[owner == w])
                    for w, a in enumerate(self.actors)])
        self.worker_states = [int((owner == w).sum()) for w in range(nw)]
        s.seen = set()
        self.queue = len(inits)
        per_worker_ranks = [None] * nw
        radix = len(built.actions) + 1
        while self.queue:
            s.per_depth.append(self.queue)
            if s.max_depth is not None and s.depth >= s.max_depth:
                s.cut = True
                return
            self.level += 1
            refs = [a.expand.options(num_returns=nw + 1).remote(per_worker_ranks[w])
                    for w, a in enumerate(self.actors)]
            absorbed = [a.absorb.remote(*[refs[w][o] for w in range(nw)])
                        for o, a in enumerate(self.actors)]
            got = self._wait([r[nw] for r in refs] + absorbed)
            sent, owned = got[:nw], got[nw:]
            keys = [k for k, _ in owned]
            self.driver_bytes += sum(k.nbytes for k in keys)
            every = np.concatenate(keys)
            order = np.argsort(every, kind="stable")
            rank = np.empty(len(every), dtype=np.int64)
            rank[order] = np.arange(len(every), dtype=np.int64)
            bounds = np.cumsum([0] + [len(k) for k in keys])
            per_worker_ranks = [rank[bounds[w]:bounds[w + 1]] for w in range(nw)]
            self.driver_bytes += sum(r.nbytes for r in per_worker_ranks)
            self.worker_states = [summary["states"] for _, summary in owned]
            stop, kind, src = self._stop(sent, owned, every[order])
            hits = self._hits(sent, owned, stop, kind)
            if kind is None:
                s.generated += sum(x["generated"] for x in sent)
                for x in sent:
                    for a in np.flatnonzero(x["fired"]):
                        s.fired[a] += int(x["fired"][a])
                for _, x in owned:
                    for a in np.flatnonzero(x["new_by_action"]):
                        s.new[a] += int(x["new_by_action"][a])
                self.n += len(every)
            else:
                tallies = self._wait([a.tally.remote(stop, kind) for a in self.actors])
                s.generated += sum(t["generated"] for t in tallies)
                for t in tallies:
                    for a in np.flatnonzero(t["fired"]):
                        s.fired[a] += int(t["fired"][a])
                    for a in np.flatnonzero(t["new"]):
                        s.new[a] += int(t["new"][a])
                self.n += sum(t["kept"] for t in tallies)
            self._stats()
            for key, where, w in hits:  # examples, in bfs's order
                state, index, via = self._locate(key, where, w, radix)
                s.on_new(state, index, via=via)
            if hits and kind is None:  # the workers stop checking those with examples
                self._wait([a.set_pending.remote(list(s.pending)) for a in self.actors])
            if kind is not None:
                self._stopped(stop, kind, src, radix)
            self.queue = len(every)
            if self.queue:
                s.depth += 1

    def _stop(self, sent, owned, ranked_keys):
        """Where ``bfs`` would stop in this level: (key, kind, reporting worker), or
        (NONE, None, None)."""
        s = self.search
        stop, kind, src = NONE, None, None
        for w, x in enumerate(sent):
            if x["event"]["parent"] < stop:
                stop, kind, src = x["event"]["parent"], "parent", ("sender", w)
        for w, x in enumerate(sent):
            if x["event"]["step"] < stop:
                stop, kind, src = x["event"]["step"], "step", ("sender", w)
        always = [(x["event"]["always"], ("sender", w)) for w, x in enumerate(sent)] + \
            [(x["event"]["always"], ("owner", w)) for w, (_, x) in enumerate(owned)]
        for key, where in always:
            if key < stop:
                stop, kind, src = key, "always", where
        if s.max_states is not None:
            room = s.max_states - self.n
            if len(ranked_keys) > room:
                at = int(ranked_keys[room])
                if at < stop or (at == stop and kind == "always"):
                    stop, kind, src = at, "limit", None
        return stop, kind, src

    def _hits(self, sent, owned, stop, kind):
        """The first checked state of this level reaching each pending sometimes-property,
        before the stop: (key, sender or owner, worker), in key order."""
        s = self.search
        if not s.pending:
            return []
        best = {}
        for name in s.pending:
            found = [(x["hits"][name], "sender", w) for w, x in enumerate(sent)] + \
                [(x["hits"][name], "owner", w) for w, (_, x) in enumerate(owned)]
            key, where, w = min(found)
            if key < stop or (key == stop and kind == "always"):
                best[key] = (key, where, w)
        return [best[k] for k in sorted(best)]

    def _stopped(self, stop, kind, src, radix):
        s = self.search
        if kind == "limit":
            s.stop_reason = "max_states"
            raise _Found
        where, w = src
        if kind == "parent":
            gid = self.ray.get(self.actors[w].parent_of_key.remote(stop + 1))
            state, index = self._chain(gid)
            s.expand(state, index)
            raise AssertionError("ray: the per-state code found no error at a parent the "
                                 "batch code flagged")
        if kind == "step":
            gid = self.ray.get(self.actors[w].parent_of_key.remote(stop))
            state, index = self._chain(gid)
            pos = stop % radix - 1
            t = s.system.successors(state)[pos][1]
            s.step_violated(state, t, index, pos)
            raise AssertionError("ray: the per-state code found no step violation where the "
                                 "batch code did")
        state, index, via = self._locate(stop, where, w, radix)
        s.on_new(state, index, via=via)
        raise AssertionError("ray: the per-state code found no violation where the batch "
                             "code did")

    def _locate(self, key, where, w, radix):
        """A checked state of this level by its key: (state, index for ``trace``, via)."""
        if where == "owner":
            local = self.ray.get(self.actors[w].locate.remote(key))
            state, index = self._chain((w << ID_SHIFT) + local)
            return state, index, None
        gid = self.ray.get(self.actors[w].parent_of_key.remote(key))
        state, index = self._chain(gid)
        pos = key % radix - 1
        return self.search.system.successors(state)[pos][1], index, pos

    def _chain(self, gid: int):
        """The state with global id ``gid``, replayed from its initial state, and the
        index under which the search's parent links (rewritten to this one path) hold it."""
        s = self.search
        mask = (1 << ID_SHIFT) - 1
        path = []
        while True:
            parent, which = self.ray.get(self.actors[gid >> ID_SHIFT].link.remote(gid & mask))
            path.append(which)
            if parent < 0:
                break
            gid = parent
        root = path.pop()
        state = s.inits[root]
        for pos in reversed(path):
            state = s.system.successors(state)[pos][1]
        k = len(path)
        s.parent = array("q", [-1, *range(k)])
        s.which = array("i", [root, *reversed(path)])
        return state, k

    def _stats(self):
        got = self.ray.get([a.stats.remote() for a in self.actors])
        self.worker_bytes = dict(enumerate(got))
        self.stored = sum(g["stored_bytes"] for g in got)

    # -- the result ---------------------------------------------------------------------------
    def result(self) -> CheckResult:
        s = self.search
        result = s.result()
        n = self.n
        result.distinct_states = n
        result.collision_probability = collision_bound(n)
        result.stored_bytes = self.stored
        ended = getattr(self, "ended", None) or time.perf_counter()
        result.seconds = ended - s.start
        sent = sum(b.get("sent", 0) for b in self.worker_bytes.values())
        result.distributed = {
            "cluster": self.cluster, "workers": self.nworkers or 0,
            "states_per_worker": list(self.worker_states),
            "bytes_exchanged": sent,
            "bytes_exchanged_per_state": round(sent / n, 1) if n else 0.0,
            "driver_bytes": self.driver_bytes, "levels": self.level,
            "busy_seconds": [round(b.get("busy", {}).get("expand", 0.0)
                                   + b.get("busy", {}).get("absorb", 0.0), 3)
                             for _, b in sorted(self.worker_bytes.items())],
            "startup_seconds": round(self.seconds_start - s.start, 3)
            if self.seconds_start else 0.0,
            "search_seconds": round(ended - self.seconds_start, 3)
            if self.seconds_start else 0.0}
        if s.stop_reason == "worker_lost":
            when = f"at level {self.level}" if self.level else "while starting"
            result.note = (f"a worker (Ray actor) died {when}; the statistics are those "
                           f"of the levels completed before it ({self.lost})")
        return result


class _unlimited_address_space:
    """Lift this process's address-space cap (``--memory-limit``) while Ray starts: its
    processes inherit the limit and reserve large mappings."""

    def __enter__(self):
        try:
            import resource
            self.old = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (self.old[1], self.old[1]))
        except (ImportError, ValueError, OSError):
            self.old = None
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            try:
                import resource
                resource.setrlimit(resource.RLIMIT_AS, self.old)
            except (ValueError, OSError):
                pass
