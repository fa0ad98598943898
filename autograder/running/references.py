"""The grader's side of the worker's stand-ins: the reference's answer to a question
asked from inside a call.

While a hidden test calls a student's function with isolation, the other graded
functions it calls are stand-ins (worker/standins.py) that send `{"event": "reference",
"name", "id", "args", "kwargs"}` here. The arguments were chosen by the student's code,
so a question is held to the size of the call under test (`Call`): its arguments may
build no more numbers than the test's own inputs, a call may ask only so many questions,
every answer is bounded, and the reference runs in a process of its own under a deadline
and a memory limit (`referee.py`), never in the grader. Only a function standing in for
this call may be asked; whatever the reference raises is the answer's error, for the
student's code to raise. No reference code ever enters the worker.
"""

from __future__ import annotations

import math
import time
from typing import Any

from . import framing, protocol
from .referee import REFEREE

# -- every bound on a stand-in's questions (docs/SECURITY.md) --------------------------
# numbers a question may always hold: a test of a few numbers asks about a few numbers
FLOOR = 64
# questions any call may ask (the courses' correct notebooks ask at most 2) ...
QUESTIONS_PER_CALL = 64
# ... and 2 more per number in its arguments: a loop over the elements asks one each
QUESTIONS_PER_NUMBER = 2
# the longest one answer may take (the courses' take a millisecond) ...
QUESTION_SECONDS = 5.0
QUESTION_SHARE = 0.5  # ... and at most this share of what is left of the call's time
# what the reference may add to its process while answering one question
MEMORY_MB = 512
MAX_ERROR = 300  # characters of a reference's error sent back
WHO = "the reference's {name}, standing in for yours in this test,"


class Refused(Exception):
    """A question over one of the bounds: the stand-in raises it, and the call fails
    with it."""


class Call:
    """One call under test (the request `StudentSession` sends) and the bounds its own
    arguments set on the questions it raises: a question's arguments, and its answer,
    may build at most as many numbers as the call's arguments (`size`, at least FLOOR),
    and a call asks at most `most_questions`."""

    def __init__(self, request: dict, deadline: float):
        self.request, self.deadline = request, deadline
        self.allowed = set(request.get("isolate") or ())
        self.asked = 0
        # why a question was refused: the call fails with it, even if its code caught it
        self.refused = ""
        self.reason = ""  # the same, as the question's answer said it
        self._bounds: tuple[int, int] | None = None

    @property
    def budget(self) -> int:
        """Numbers a question's arguments, or its answer, may build."""
        return self._measured()[0]

    @property
    def most_questions(self) -> int:
        return QUESTIONS_PER_CALL + QUESTIONS_PER_NUMBER * self._measured()[1]

    def _measured(self) -> tuple[int, int]:
        """(budget, numbers) of the call's own arguments, measured on its first question
        only."""
        if self._bounds is None:
            try:  # the grader's own encoding of the test's arguments
                values = _values(
                    protocol.decode(self.request.get("args", [])),
                    protocol.decode(self.request.get("kwargs", {"__tuple__": []})),
                )
            except framing.ProtocolError:
                values = []
            self._bounds = (max(FLOOR, size(values)), sum(map(count, values)))
        return self._bounds

    def seconds(self) -> float:
        """How long the next answer may take: QUESTION_SECONDS, and a share of the
        call's time left."""
        return min(
            QUESTION_SECONDS, QUESTION_SHARE * (self.deadline - time.monotonic())
        )

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def outcome(self, reply: dict) -> dict:
        """The call's reply, failed with the refusal when its code caught a refused
        question and returned."""
        if reply.get("ok") and self.refused:
            return {
                "ok": False,
                "error": {
                    "type": "ReferenceUnavailable",
                    "message": self.refused,
                    "where": "",
                },
            }
        return reply


def answer(question: dict, call: Call, reference: Any) -> dict:
    """The frame that answers a stand-in's question: {"answer": id, "value"} or
    {"answer": id, "error"}."""
    number, name = question.get("id"), question.get("name")
    number = number if type(number) is int else 0
    if name not in call.allowed or not callable(getattr(reference, str(name), None)):
        return protocol.answer(
            number,
            {
                "error": (
                    f"{name} is not a function the grader stands in for in this call"
                )
            },
        )
    try:
        _admit(question, call)
        path = str(getattr(reference, "__file__", None) or "")
        if not path:
            raise Refused(
                "the grader's reference is not a module file its process can import"
            )
        if not REFEREE.start(path, call.deadline):
            raise Refused(
                "the reference's process did not start in time; the next question "
                "starts it again"
            )
        if call.seconds() <= 0:
            raise Refused("the call has no time left for it")
        outcome = REFEREE.ask(
            {
                "path": path,
                "name": name,
                "args": question.get("args", []),
                "kwargs": question.get("kwargs", {"__tuple__": []}),
                "budget": call.budget,
                "memory_mb": MEMORY_MB,
            },
            call.seconds(),
        )
    except Refused as error:
        outcome = {"error": str(error), "refused": True}
    if outcome.get("refused"):
        text = f"{WHO.format(name=name)} could not answer: {outcome['error']}"[
            :MAX_ERROR
        ]
        call.refused, call.reason = (
            call.refused or text,
            call.reason or outcome["error"],
        )
        return protocol.answer(number, {"error": outcome["error"][:MAX_ERROR]})
    return protocol.answer(number, outcome)


def _admit(question: dict, call: Call) -> None:
    """Refuse a question past the call's count or time (its arguments are measured in
    the reference's process, `too_large`, where decoding them costs the grader
    nothing)."""
    call.asked += 1
    if call.refused:
        raise Refused(f"an earlier question of this call was refused: {call.reason}")
    if call.asked > call.most_questions:
        raise Refused(
            "this call asked for the reference's answers more than "
            f"{call.most_questions:,} times, the most a call of this size may; compute "
            "with whole arrays, or call it less often"
        )
    if call.seconds() <= 0:
        raise Refused("the call has no time left for it")


def too_large(args: list, kwargs: tuple, budget: int) -> str:
    """Why arguments that would make the reference build more than `budget` numbers are
    refused, or ""."""
    built = size(_values(args, kwargs))
    if built <= budget:
        return ""
    return (
        f"these arguments would make it build {built:,} numbers (counting NumPy's "
        f"broadcasting and repeated lists), more than the {budget:,} the test's own "
        "inputs hold; pass values of the size your function was given"
    )


def _values(args: Any, kwargs: Any) -> list:
    pairs = kwargs if isinstance(kwargs, tuple) else ()
    return [
        *(args if isinstance(args, list) else [args]),
        *(pair[1] for pair in pairs if isinstance(pair, tuple) and len(pair) == 2),
    ]


# -- what a value can build ------------------------------------------------------------


def size(values: list) -> int:
    """The most numbers the reference could build from `values` with one operation: all
    of them, their arrays and lists broadcast together (NumPy makes N * N of a list
    beside an (N, 1) array), or a list, tuple or text repeated by an int beside it (`k *
    [x] * N` is k * N)."""
    counts = [count(value) for value in values]
    repeated = max((abs(v) for v in values if type(v) is int), default=0) * max(
        (c for v, c in zip(values, counts) if isinstance(v, (list, tuple, str))),
        default=0,
    )
    return max(sum(counts), _broadcast([_shape(value) for value in values]), repeated)


def count(value: Any) -> int:
    """How many numbers (or characters) a decoded value holds (nesting is bounded by
    protocol.decode)."""
    if isinstance(value, (list, tuple)):
        return sum(count(item) for item in value)
    if isinstance(value, str):
        return max(len(value), 1)
    return int(getattr(value, "size", 1)) if hasattr(value, "shape") else 1


def _shape(value: Any) -> tuple[int, ...]:
    """The shape NumPy gives a value: an array's own, a list's when its items share one
    (else its length)."""
    if hasattr(value, "shape") and not isinstance(value, (list, tuple, str)):
        return tuple(value.shape)
    if not isinstance(value, (list, tuple)):
        return ()
    inner = {_shape(item) for item in value}
    return (len(value), *inner.pop()) if len(inner) == 1 else (len(value),)


def _broadcast(shapes: list[tuple[int, ...]]) -> int:
    """The size of the shapes broadcast together: the largest length of each axis,
    counted from the last. Shapes that do not broadcast together still count so: the
    reference may combine any of them."""
    if not shapes:
        return 0
    axes = max(map(len, shapes))
    return math.prod(
        max((shape[-axis] for shape in shapes if len(shape) >= axis), default=1)
        for axis in range(1, axes + 1)
    )
