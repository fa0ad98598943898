"""What the service receives: a notebook's bytes checked (size, a notebook at all) and
kept durably before anyone is told it was received.

An upload is written to <course>/service/inbox/<id>.ipynb through a temporary file that
is flushed, synced and renamed, and the folder synced, so that a submission the service
acknowledged survives a kill -9 or a power cut; only then is it queued. An upload that
would leave less than RESERVE_BYTES free on the course's disk, or that the disk refuses,
is not received (507, saying so): the room left is for the gradings of what was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from ..errors import InvalidSubmission
from ..running.framing import OBJECT_WEIGHT
from ..running.notebook_file import notebook_from_bytes

INBOX = Path("service") / "inbox"
MAX_ITEMS = 2_000_000  # '[', ',' and OBJECT_WEIGHT per '{' an upload may hold
RESERVE_BYTES = 256 * 2**20  # kept free for the gradebook, autograded/ and feedback/
FULL = (
    "the course's disk is full, so your notebook was not received: submit it again "
    "later, and tell your instructor"
)


class Refused(Exception):
    """An upload the service does not take: `status` (an HTTP code) and what to do."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def check(data: bytes, name: str, max_mb: float) -> tuple[str, dict]:
    """The upload's SHA-256 and its notebook's metadata once it is a notebook within
    `max_mb`; Refused otherwise."""
    if len(data) > max_mb * 1024 * 1024:
        raise Refused(
            413, f"{name} is larger than the {max_mb:g} MB a submission may be"
        )
    items = data.count(b",") + data.count(b"[") + OBJECT_WEIGHT * data.count(b"{")
    if items > MAX_ITEMS:  # counted before parsing: what parsing it would build
        raise Refused(413, f"{name} holds more than {MAX_ITEMS:,} items of JSON")
    if not data.strip():
        raise Refused(400, f"{name} is empty: choose your .ipynb notebook file")
    try:
        notebook = notebook_from_bytes(data, name)
    except InvalidSubmission as error:
        message = f"{name} is not a notebook this course can grade: {error}"
        raise Refused(400, message) from None
    return hashlib.sha256(data).hexdigest(), dict(notebook.metadata)


def path_of(root: Path, ident: str) -> Path:
    # the store's hex ids: never a path of anyone's choosing
    if not ident.isalnum():
        raise ValueError(f"not a submission id: {ident!r}")
    return root / INBOX / f"{ident}.ipynb"


def keep(root: Path, ident: str, data: bytes) -> Path:
    """Write the upload durably under the course; its path. Refused (507) when the
    disk has no room for it and the reserve, or refuses it; nothing of it is left."""
    path = path_of(root, ident)
    partial = path.with_suffix(".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(path.parent).free - len(data) < RESERVE_BYTES:
            raise Refused(507, FULL)
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as error:  # ENOSPC, EDQUOT, EIO: not received
        if partial.is_file():
            partial.unlink()
        raise Refused(507, f"{FULL} ({error.strerror or error})") from None
    return path
