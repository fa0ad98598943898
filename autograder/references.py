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

from . import protocol

MAX_ERROR = 300  # characters of a reference's error sent back


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
        value = getattr(reference, name)(*args, **dict(kwargs))
    except Exception as error:  # the reference on arguments it was not written for: the student's problem
        return {**reply, "error": f"{type(error).__name__}: {error}"[:MAX_ERROR]}
    return {**reply, "value": protocol.encode(value)}
