"""Frames between grader and worker: length-prefixed JSON, under deadlines, bounded
before parsing.

Every read and write can be given a deadline (a `time.monotonic()` value): a peer that
stops in the middle of a frame, or stops reading one, costs at most that long. A frame
is bounded in bytes and, before it is parsed, in JSON tokens, so no reply can make the
reader build more objects than that. What a frame may say is protocol.py's; how a value
is written in it, protocol.encode and decode."""

from __future__ import annotations

import json
import os
import select
import struct
import time

HEADER = struct.Struct("!Q")
MAX_FRAME = 256 * 1024 * 1024  # a frame larger than this is a protocol violation
# '[', ',' and OBJECT_WEIGHT per '{' a bounded frame may hold: what parsing it builds
MAX_TOKENS = 2_000_000
OBJECT_WEIGHT = 10  # a parsed dict costs about ten times what a list item does


class ProtocolError(Exception):
    """A frame that does not follow the protocol (truncated, oversized, malformed)."""


class FrameTimeout(ProtocolError):
    """The other side did not send (or take) a whole frame before the deadline."""


class FrameTooLarge(ProtocolError):
    """A frame over the reader's bound; `unread` bytes of it are still in the pipe (see
    `discard`)."""

    def __init__(self, message: str, size: int, unread: int):
        super().__init__(message)
        self.size, self.unread = size, unread


def write_frame(fd: int, message: dict, deadline: float | None = None) -> None:
    """Send one frame; with a deadline, FrameTimeout when the reader does not take it in
    time."""
    write_bytes(fd, frame(message), deadline)


def frame(message: dict) -> bytes:
    """The bytes of one frame (to know its size before sending it: `write_bytes`)."""
    data = json.dumps(message, separators=(",", ":")).encode()
    return HEADER.pack(len(data)) + data


def write_bytes(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Send a frame made by `frame`."""
    view = memoryview(data)
    if deadline is None:
        while view:
            view = view[os.write(fd, view) :]
        return
    blocking = os.get_blocking(fd)
    # a blocking write to a full pipe would wait for the reader, deadline or not
    os.set_blocking(fd, False)
    try:
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                _wait(fd, select.POLLOUT, deadline)
    finally:
        os.set_blocking(fd, blocking)


def read_frame(
    fd: int,
    deadline: float | None = None,
    max_bytes: int = MAX_FRAME,
    max_tokens: int | None = None,
) -> dict:
    """Read one frame; EOFError when the other side is gone, FrameTimeout past the
    deadline, FrameTooLarge over `max_bytes` (the body left unread) or over `max_tokens`
    (read, not parsed)."""
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    bound = min(max_bytes, MAX_FRAME)
    if size > bound:
        raise FrameTooLarge(
            f"{size / 2**20:.1f} MB of data, more than the {bound / 2**20:g} MB "
            "a reply may hold",
            size,
            unread=size,
        )
    data = _read_exact(fd, size, deadline)
    if (
        max_tokens is not None
        and data.count(b",") + data.count(b"[") + OBJECT_WEIGHT * data.count(b"{")
        > max_tokens
    ):
        raise FrameTooLarge(
            f"more than {max_tokens:,} items of data, more than a reply may hold",
            size,
            unread=0,
        )
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as error:
        # not UTF-8, not JSON, too deep, a 5,000-digit number
        raise ProtocolError(f"frame is not JSON: {str(error)[:200]}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


def discard(fd: int, size: int, deadline: float | None) -> None:
    """Read and drop `size` bytes (the rest of a frame too large to keep), in small
    pieces."""
    while size:
        _wait(fd, select.POLLIN, deadline)
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the pipe")
        size -= len(chunk)


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, remaining = [], size
    while remaining:
        _wait(fd, select.POLLIN, deadline)
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _wait(fd: int, event: int, deadline: float | None) -> None:
    """Return when `fd` is ready for `event` (or hung up); FrameTimeout once the
    deadline has passed."""
    if deadline is None:
        return
    poller = select.poll()
    poller.register(fd, event)
    while not poller.poll(max(deadline - time.monotonic(), 0.0) * 1000):
        if time.monotonic() >= deadline:
            raise FrameTimeout(
                "the other side did not send or take the whole frame in time"
            )
