"""The grader's side of the worker's stand-ins: the reference's answer to a question asked from inside a call.

While a hidden test calls a student's function with isolation, the other graded functions it
calls are stand-ins (worker/standins.py) that send `{"event": "reference", "name", "id", "args",
"kwargs"}` here. The arguments were chosen by the student's code: they are decoded strictly, only a
function standing in for this call may be asked, and whatever the reference raises is the
answer's error, for the student's code to raise. No reference code ever enters the worker.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from . import protocol

MAX_ERROR = 300  # characters of a reference's error sent back
MAX_VALUES = 2_000_000  # numbers in the arguments, and in their arrays broadcast together (16 MB of floats)


def answer(question: dict, allowed: Collection[str], reference: Any) -> dict:
    """The frame that answers a stand-in's question: {"answer": id, "value"} or {"answer": id, "error"}."""
    number, name = question.get("id"), question.get("name")
    reply: dict[str, Any] = {"answer": number if type(number) is int else 0}
    if name not in allowed or not callable(getattr(reference, str(name), None)):
        return {**reply, "error": f"{name} is not a function the grader stands in for in this call"}
    try:
        args = protocol.decode(question.get("args", []))
        kwargs = protocol.decode(question.get("kwargs", {"__tuple__": []}))
        if not isinstance(args, list) or not isinstance(kwargs, tuple):
            raise protocol.ProtocolError("arguments in the wrong form")
        _check_size([*args, *(pair[1] for pair in kwargs if isinstance(pair, tuple) and len(pair) == 2)])
        value = getattr(reference, name)(*args, **dict(kwargs))
    except Exception as error:  # the reference on arguments it was not written for: the student's problem
        return {**reply, "error": f"{type(error).__name__}: {error}"[:MAX_ERROR]}
    return {**reply, "value": protocol.encode(value)}


def _check_size(values: list) -> None:
    """Refuse arguments whose size, or whose arrays broadcast together, exceed MAX_VALUES numbers: the
    reference runs in the grader, and (5000, 1) * (5000,) alone would make it build 25 million."""
    arrays = [np.shape(v) for v in values if isinstance(v, np.ndarray)]
    total = sum(_count(v) for v in values)
    try:
        broadcast = int(np.prod(np.broadcast_shapes(*arrays))) if arrays else 0
    except ValueError:  # shapes that do not broadcast: the reference says so itself
        broadcast = 0
    if max(total, broadcast) > MAX_VALUES:
        raise ValueError(f"the arguments are too large for the reference ({max(total, broadcast):,} numbers; "
                         f"at most {MAX_VALUES:,})")


def _count(value: Any) -> int:
    """How many numbers a decoded value holds (nesting is bounded by protocol.decode)."""
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, (list, tuple)):
        return sum(_count(item) for item in value)
    return 1
