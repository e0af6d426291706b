"""The kafkacheck command line (the one layer that sees model/, specs/ and checker/)."""

import os as _os
import signal as _signal
import threading as _threading


def _stopped_while_starting(signum, frame):  # Ctrl-C while the command line is imported
    _os.write(2, b"interrupted while starting, before any answer\n")
    _os._exit(3)


_previous = {}
if _threading.current_thread() is _threading.main_thread():
    for _s in (_signal.SIGINT, _signal.SIGTERM):
        _previous[_s] = _signal.signal(_s, _stopped_while_starting)
try:
    from .main import cli, main
finally:
    for _s, _h in _previous.items():
        _signal.signal(_s, _h if _h is not None else _signal.SIG_DFL)

__all__ = ["cli", "main"]
