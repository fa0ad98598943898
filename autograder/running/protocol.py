"""What grader and worker say to each other, and how a value is written in it: arrays as
`.npy` bytes.

Never pickle. The worker side (`encode`) turns whatever a student's function returned
into plain data, naming anything else by its type. The grader side (`decode`) trusts
nothing: it accepts only the shapes `encode` produces, loads arrays with
`allow_pickle=False` and refuses object dtypes. The frames that carry these messages,
under deadlines and bounds, are framing.py's."""

from __future__ import annotations

import base64
import io
import math
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..names import text
from .framing import ProtocolError

# NumPy is imported where an array is written or read: a process that only hands out
# work, or starts a worker, does not pay 0.06 s for it
if TYPE_CHECKING:
    import numpy as np

# list/tuple items in one value the worker will encode before giving up
MAX_ITEMS = 100_000
# bool, int, uint, float, complex: nothing else crosses the boundary
ARRAY_KINDS = "biufc"


# -- messages: the one vocabulary of the grader, the zygote and the child --------------


class Op(StrEnum):
    """A request: the grader's to the worker, and the zygote's to the notebook's process
    (FORK)."""

    START = "start"  # run the notebook's cells: {cells, limits, display}
    PART = "part"  # a process of its own for the next part's calls (worker/parts.py)
    CALL = "call"  # {name, args, kwargs, isolate, hung, timeout}: call_request
    EXEC = "exec"  # {source, timeout}: trusted, public code (a provided cell)
    END = "end"  # the submission is done
    QUIT = "quit"  # the worker is done
    FORK = "fork"  # the notebook's process forks the part's (it answers {ok, forked})


class Event(StrEnum):
    """Sent before a reply: a cell starts (its deadline), a stand-in's `question`
    (answered by `answer`)."""

    CELL = "cell"
    REFERENCE = "reference"


# Every field of a reply the grader reads, and its kind (worker_process.clean_reply
# keeps these only, each of its kind): flag, text (capped), count (an int), names
# (capped list), error ({type, message, where}), data (decoded strictly by its reader).
REPLY_FIELDS = {
    "ok": "flag",
    "timeout": "flag",
    "whole": "flag",
    "ready": "flag",
    "missing": "flag",
    "part": "flag",
    "crashed": "text",
    "oversized": "text",
    "setup": "text",
    "restart": "text",
    "cell": "count",
    "defined": "names",
    "used": "names",
    "error": "error",
    "value": "data",
    "cells": "data",
}
# The fields of a stand-in's question (Event.REFERENCE), and their kinds
QUESTION_FIELDS = {"name": "name", "id": "count", "args": "data", "kwargs": "data"}


def call_request(
    name: str, args: tuple, kwargs: dict, isolate: list[str], hung: list[str]
) -> dict:
    """A call of the student's `name` with plain-data copies of its arguments."""
    return {
        "op": Op.CALL,
        "name": name,
        "args": encode(list(args)),
        "kwargs": encode(tuple(kwargs.items())),
        "isolate": isolate,
        "hung": hung,
    }


def question(name: str, number: int, args: tuple, kwargs: dict) -> dict:
    """A stand-in's question: the reference's name(*args, **kwargs), numbered within the
    call."""
    return {
        "event": Event.REFERENCE,
        "name": name,
        "id": number,
        "args": encode(list(args)),
        "kwargs": encode(tuple(kwargs.items())),
    }


def answer(number: int, outcome: dict) -> dict:
    """The grader's answer to question `number`: {"answer", "value"} or {"answer",
    "error"}."""
    return {
        "answer": number,
        **{key: outcome[key] for key in ("value", "error") if key in outcome},
    }


# -- values: worker side ---------------------------------------------------------------


def encode(value: Any) -> Any:
    """Plain JSON for a value computed by student code; exact types only, so subclasses
    with lying dunder methods are reduced to their real data or reported by type name. A
    value holds at most MAX_ITEMS list and tuple items in all (one list repeated 300
    times counts 300 times)."""
    return _encode(value, 0, [MAX_ITEMS])


def _encode(value: Any, depth: int, budget: list[int]) -> Any:
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if abs(value) < 2**63 else float(value)
    if kind is float:
        return _float(value)
    np = sys.modules.get("numpy")  # no value is NumPy's before NumPy is imported
    if (
        np is not None
        and isinstance(value, np.generic)
        and value.dtype.kind in ARRAY_KINDS
    ):
        return {"__ndarray__": _npy(np.asarray(value))}
    if np is not None and isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS:
            return {"__unsupported__": f"numpy array of dtype {value.dtype}"}
        return {"__ndarray__": _npy(np.asarray(value).view(np.ndarray))}
    # a float subclass: keep the real number, drop the class
    if isinstance(value, float):
        return _float(float.__float__(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    if kind in (list, tuple) and depth < 8:
        if len(value) > budget[0]:
            many = f"{kind.__name__} of {len(value)} items"
            return {"__unsupported__": f"{many} (a value may hold {MAX_ITEMS} in all)"}
        budget[0] -= len(value)
        items = [_encode(item, depth + 1, budget) for item in value]
        return {"__tuple__": items} if kind is tuple else items
    return {"__unsupported__": _type_name(value)}


def _float(value: float) -> Any:
    return value if math.isfinite(value) else {"__float__": repr(value)}


def _npy(array: np.ndarray) -> str:
    import numpy as np

    buffer = io.BytesIO()
    # not np.ascontiguousarray: it turns 0-d arrays (numpy scalars) into shape (1,)
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _type_name(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", "object")
    return name if module in ("builtins", "__main__", "") else f"{module}.{name}"


# -- values: grader side ---------------------------------------------------------------


class Unsupported:
    """Stands in for a value the worker could not send as plain data."""

    def __init__(self, description: str):
        self.description = text(description, 200)

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
    import numpy as np

    try:
        array = np.load(
            io.BytesIO(base64.b64decode(payload, validate=True)), allow_pickle=False
        )
    except Exception as error:
        # malformed bytes are a protocol error, whatever numpy raises
        raise ProtocolError(f"array payload is not a valid .npy: {error}") from None
    if type(array) is not np.ndarray or array.dtype.kind not in ARRAY_KINDS:
        raise ProtocolError("array payload has a non-numeric dtype")
    return array
