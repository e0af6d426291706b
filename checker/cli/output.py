"""Files a command writes (``--trace-out``, ``graph --out``): checked before the run, written
whole or not at all, never over an input of the run, never over an existing file unless
``--force``, with the permissions the user's umask gives."""

from __future__ import annotations

import os
import stat
import tempfile

from .targets import UserError


def check_output(path: str, option: str, *, inputs=(), force: bool = False) -> str:
    """Refuse an output path that cannot or must not be written, before any work is done."""
    if not path or not path.strip():
        raise UserError(f"{option} needs a file name, not an empty string")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise UserError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {path}: folder {folder} is not writable")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None
    for given in inputs:
        try:
            if given and os.path.samefile(path, given):
                raise UserError(f"{option} {path} is an input of this run ({given}); "
                                "write the output to another file")
        except OSError:
            continue
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"cannot write {path}: it is a directory; name a file")
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"cannot write {path}: it is not a regular file")
    if not force:
        raise UserError(f"{path} already exists; add --force to replace it, or name a new file")
    return path


def write_whole(path: str, text: str) -> None:
    """Write a file whole or not at all: a temporary file beside it, then an atomic rename.
    A new file gets the mode the umask gives (as ``open`` would); a replaced one keeps its mode."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kafkacheck-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None
    finally:
        if tmp is not None:  # the write failed or was interrupted: leave nothing behind
            try:
                os.unlink(tmp)
            except OSError:
                pass
