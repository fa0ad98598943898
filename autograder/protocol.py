"""The wire format between grader and worker: length-prefixed JSON frames, arrays as `.npy` bytes.

Never pickle. The worker side (`encode`) turns whatever a student's function returned into plain
data, naming anything else by its type. The grader side (`decode`) trusts nothing: it accepts only
the shapes `encode` produces, loads arrays with `allow_pickle=False` and refuses object dtypes.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import struct
from typing import Any

import numpy as np

HEADER = struct.Struct("!Q")
MAX_FRAME = 256 * 1024 * 1024  # a frame larger than this is a protocol violation
MAX_ITEMS = 100_000  # elements of a list/tuple the worker will encode before giving up
ARRAY_KINDS = "biufc"  # bool, int, uint, float, complex: nothing else crosses the boundary


class ProtocolError(Exception):
    """A frame that does not follow the protocol (truncated, oversized, malformed)."""


# -- framing ---------------------------------------------------------------------------------------


def write_frame(fd: int, message: dict) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    _write_all(fd, HEADER.pack(len(data)) + data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int) -> dict:
    """Read one frame; raises EOFError when the other side is gone."""
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size))
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds the limit")
    try:
        message = json.loads(_read_exact(fd, size))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProtocolError(f"frame is not JSON: {error}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


def _read_exact(fd: int, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# -- values: worker side ---------------------------------------------------------------------------


def encode(value: Any, _depth: int = 0) -> Any:
    """Plain JSON for a value computed by student code; exact types only, so subclasses with
    lying dunder methods are reduced to their real data or reported by type name."""
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if abs(value) < 2**63 else float(value)
    if kind is float:
        return _float(value)
    if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
        return {"__ndarray__": _npy(np.asarray(value))}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS:
            return {"__unsupported__": f"numpy array of dtype {value.dtype}"}
        return {"__ndarray__": _npy(np.asarray(value).view(np.ndarray))}
    if isinstance(value, float):  # a float subclass: keep the real number, drop the class
        return _float(float.__float__(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    if kind in (list, tuple) and _depth < 8:
        if len(value) > MAX_ITEMS:
            return {"__unsupported__": f"{kind.__name__} of {len(value)} items"}
        items = [encode(item, _depth + 1) for item in value]
        return {"__tuple__": items} if kind is tuple else items
    return {"__unsupported__": _type_name(value)}


def _float(value: float) -> Any:
    return value if math.isfinite(value) else {"__float__": repr(value)}


def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    # not np.ascontiguousarray: it turns 0-d arrays (numpy scalars) into shape (1,)
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _type_name(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", "object")
    return name if module in ("builtins", "__main__", "") else f"{module}.{name}"


# -- values: grader side ---------------------------------------------------------------------------


class Unsupported:
    """Stands in for a value the worker could not send as plain data."""

    def __init__(self, description: str):
        self.description = str(description)[:200]

    def __repr__(self) -> str:
        return f"<{self.description}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unsupported) and other.description == self.description

    __hash__ = None  # type: ignore[assignment]


def decode(data: Any, _depth: int = 0) -> Any:
    """The grader's strict reading of `encode`'s output."""
    if _depth > 10:
        raise ProtocolError("value nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, _depth + 1) for item in data]
    if type(data) is dict and len(data) == 1:
        ((key, payload),) = data.items()
        if key == "__tuple__" and type(payload) is list:
            return tuple(decode(item, _depth + 1) for item in payload)
        if key == "__float__" and payload in ("nan", "inf", "-inf"):
            return float(payload)
        if key == "__ndarray__" and type(payload) is str:
            return _load_npy(payload)
        if key == "__unsupported__" and type(payload) is str:
            return Unsupported(payload)
    raise ProtocolError("value is not in the protocol's form")


def _load_npy(payload: str) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(base64.b64decode(payload, validate=True)), allow_pickle=False)
    except Exception as error:  # malformed bytes are a protocol error, whatever numpy raises
        raise ProtocolError(f"array payload is not a valid .npy: {error}") from None
    if type(array) is not np.ndarray or array.dtype.kind not in ARRAY_KINDS:
        raise ProtocolError("array payload has a non-numeric dtype")
    return array

