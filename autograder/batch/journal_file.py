"""The journal's file: opened for appending and locked (`flock`) for one batch, read
and written whole, and removed by that batch only if no other has taken it over
since."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from ..errors import StorageError, UsageError


def discard(path: Path) -> bool:
    """Remove the journal at `path` once its batch's JSON is written, unless another
    batch has taken it over since (it holds the lock). False when the disk refused to
    remove it."""
    try:
        fd = open_locked(path, create=False)
    except (UsageError, FileNotFoundError):
        return True  # another batch's now, or already gone
    except OSError:
        return False
    try:
        # still locked: no batch can take it between this check and its removal
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def open_locked(path: Path, create: bool = True) -> int:
    """The journal's descriptor (appending), locked for this batch; UsageError when
    another batch holds it."""
    while True:
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                path,
                os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0),
                0o644,
            )
        except OSError as error:
            if not create and error.errno == errno.ENOENT:
                raise
            raise StorageError(
                path,
                error,
                "nothing was graded: free some space, or pass another --json",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(
                "another batch is writing its results with the same --json (its "
                f"journal {path} is locked); wait until it ends, or pass another --json"
            ) from None
        opened = os.fstat(fd)
        try:
            now = os.stat(path, follow_symlinks=True)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (
            opened.st_dev,
            opened.st_ino,
        ):
            return fd
        # the batch that held it removed it as it finished: open the file that is there
        # now
        os.close(fd)
        if not create:
            raise FileNotFoundError(path)


def read_all(fd: int) -> bytes:
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
