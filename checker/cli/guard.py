"""Signals and deadlines for one command: Ctrl-C and SIGTERM stop a run, never kill it.

``install()`` makes SIGTERM behave like Ctrl-C (a ``KeyboardInterrupt``, which the engines turn
into "stopped, here are the statistics so far") and arms SIGALRM to raise ``Deadline``.
``deadline(seconds)`` holds a run to its ``--time-limit`` even in code the engines do not
control: a user's model file while it is imported, built and compiled.
"""

from __future__ import annotations

import os

import math
import signal
import time
from contextlib import contextmanager

from ..stop import Deadline

#: a timer backstop: the engines stop themselves at the limit; this fires a little later
GRACE_SECONDS = 0.5


class Stopped(Exception):
    """The command was stopped (interrupt or time limit) before an engine could report."""

    def __init__(self, reason: str, during: str):
        super().__init__(reason, during)
        self.reason, self.during = reason, during


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _alarm(signum, frame):
    raise Deadline


def install():
    """Install the handlers; return a function that restores the previous ones."""
    try:
        old = {s: signal.signal(s, h) for s, h in ((signal.SIGINT, signal.default_int_handler),
                                                    (signal.SIGTERM, _interrupt),
                                                    (signal.SIGALRM, _alarm))}
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        return lambda: None

    wake = _wake_z3()
    try:
        import resource
        rlimit = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, ValueError, OSError):
        rlimit = None

    def restore():
        signal.setitimer(signal.ITIMER_REAL, 0)
        if rlimit is not None:
            try:
                resource.setrlimit(resource.RLIMIT_AS, rlimit)
            except (ValueError, OSError):
                pass
        for s, h in old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
        wake()
    return restore


def _wake_z3():
    """A Python signal handler runs only between bytecodes, so a SIGTERM that arrives while Z3
    is inside one long query would wait for the query to end. The C-level handler still writes
    the signal number to a wake-up pipe: a watcher thread reads it and interrupts Z3, whose
    query then returns at once and the handler raises. Returns a function that undoes this."""
    import os
    import sys
    import threading
    try:
        r, w = os.pipe()
        os.set_blocking(w, False)
        previous = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except (ValueError, OSError):
        return lambda: None

    def watch():
        while True:
            try:
                data = os.read(r, 64)
            except OSError:
                return
            if not data:
                return
            if {signal.SIGTERM, signal.SIGINT} & set(data) and "z3" in sys.modules:
                try:
                    sys.modules["z3"].main_ctx().interrupt()
                except Exception:  # noqa: BLE001 - best effort; the handler still runs
                    pass

    threading.Thread(target=watch, name="kafkacheck-signals", daemon=True).start()

    def undo():
        signal.set_wakeup_fd(previous)
        os.close(w)  # the watcher's read returns b"" and it ends
    return undo


class Clock:
    """The wall-clock budget of one command: ``left()`` is what the engine may still use."""

    def __init__(self, limit: float | None):
        self.limit = limit
        self.start = time.monotonic()

    def left(self) -> float | None:
        if self.limit is None:
            return None
        return max(0.0, self.limit - (time.monotonic() - self.start))

    def hand_over(self) -> float | None:
        """Disarm the timer and return the time left: from here an engine that keeps its
        own time limit runs (one that stops itself with its statistics, which a timer firing
        while it reports them would lose)."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        return self.left()


@contextmanager
def deadline(limit: float | None):
    """Raise ``Deadline`` once ``limit`` seconds (plus a grace) have passed; yield a Clock."""
    clock = Clock(limit)
    armed = limit is not None and math.isfinite(limit)
    if armed:
        try:
            signal.setitimer(signal.ITIMER_REAL, limit + GRACE_SECONDS)
        except ValueError:
            armed = False
    try:
        yield clock
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)


#: what the command is doing, for the message when it is stopped before an engine reports
phase = "starting"


def physical_memory_mb() -> int | None:
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 ** 20
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_mb() -> int | None:
    """Three quarters of the machine's memory: a run stops with its statistics (exit 3)
    before the operating system starts swapping or kills it."""
    total = physical_memory_mb()
    return None if total is None else max(256, total * 3 // 4)


def limit_memory(mb: int | None) -> None:
    """Cap this process's address space at ``mb`` MiB (Python then raises MemoryError, which
    the engines turn into stop reason ``memory_limit``)."""
    if mb is None:
        return
    # NumPy (the batch engine) is loaded first, with one BLAS thread: OpenBLAS reserves its
    # buffers when loaded and aborts the process, rather than raising, if the cap denies them
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import numpy  # noqa: F401
    except ImportError:
        pass
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = mb * 2 ** 20
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or want < soft:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ImportError, ValueError, OSError):
        pass
