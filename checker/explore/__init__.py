"""The web explorer: step through a transition system in a browser.

``Explorer`` answers the questions the page asks (the state at a path, its enabled actions,
which properties hold there, the path of a saved trace) as plain data; ``server`` serves it
and the static page over HTTP on 127.0.0.1 with the standard library alone.
"""

from .core import BadRequest, Explorer
from .server import make_server

__all__ = ["BadRequest", "Explorer", "make_server"]
