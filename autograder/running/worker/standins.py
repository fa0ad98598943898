"""Functions that stand in for the student's own while one of their functions is called.

While a hidden test calls, say, `error_term`, the graded functions it depends on
(`sigmoid_prime`, the request's `isolate`) are replaced in the notebook's namespace, or
added where it lacks them, by stand-ins that ask the grader for the reference's answer
(an `{"event": "reference"}` frame; the zygote relays it and the grader's answer), so a
wrong or missing `sigmoid_prime` costs `error_term` nothing. A function that already
hung in this submission is replaced by one that fails at once. Both are put back (an
added one removed) when the call returns. Code that captured a function before the call
(a default argument, an alias) runs as it is.

Plain data both ways: the arguments are encoded like a return value, the answer is
decoded like the grader's arguments. SIGALRM (the call's soft timeout) is held while a
frame is on the wire, so a timeout never leaves half a frame in a pipe.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any

from .. import framing, protocol


class ReferenceUnavailable(RuntimeError):
    """The grader could not answer for the reference (the arguments were not plain data,
    say)."""


class HungBefore(RuntimeError):
    """A function that already ran out of time in this submission: it is not called
    again."""


class StandIns:
    def __init__(self, rfd: int, wfd: int, max_bytes: int):
        self.rfd, self.wfd, self.max_bytes = rfd, wfd, max_bytes
        # reference calls so far: each answer carries the number of its question
        self.asked = 0
        self.used: set[str] = set()  # names whose stand-in the last call used

    @contextlib.contextmanager
    def installed(self, namespace: dict, request: dict) -> Iterator[None]:
        """The request's `isolate` names as stand-ins for the reference, its `hung`
        names as failing stand-ins, in `namespace` for the duration of the call. A
        stand-in is installed also where the notebook lacks the function (a function
        written on top of a missing helper keeps its points; the grader tells which
        helper to write); never for the function called."""
        self.used = set()
        replaced, added = {}, set()
        for name, make, missing_too in [
            *((n, self._reference, True) for n in _names(request.get("isolate"))),
            *((n, _hung, False) for n in _names(request.get("hung"))),
        ]:
            if name == request.get("name") or name in replaced or name in added:
                continue
            if callable(namespace.get(name)):
                replaced[name] = namespace[name]
            elif missing_too and name not in namespace:
                added.add(name)
            else:
                # a hung name the notebook no longer defines, or a name that is not a
                # function
                continue
            namespace[name] = make(name)
        try:
            yield
        finally:
            namespace.update(replaced)
            for name in added:
                namespace.pop(name, None)

    def _reference(self, name: str):
        def stand_in(*args: Any, **kwargs: Any) -> Any:
            return self.ask(name, args, kwargs)

        stand_in.__name__ = stand_in.__qualname__ = name
        return stand_in

    def ask(self, name: str, args: tuple, kwargs: dict) -> Any:
        """The reference's name(*args, **kwargs), computed by the grader."""
        self.asked += 1
        data = framing.frame(protocol.question(name, self.asked, args, kwargs))
        if len(data) > self.max_bytes:
            raise ReferenceUnavailable(
                f"the arguments of {name} are too large to send to the grader "
                f"({len(data) / 2**20:.1f} MB)"
            )
        with _held(signal.SIGALRM):
            framing.write_bytes(self.wfd, data)
            answer = framing.read_frame(self.rfd)
            # an answer to a question of a call that timed out
            while answer.get("answer") != self.asked:
                answer = framing.read_frame(self.rfd)
        self.used.add(name)
        if "value" in answer:
            return protocol.decode(answer["value"])
        raise ReferenceUnavailable(
            f"{name} (the reference, standing in for yours in this test) could not be "
            f"called with these arguments: {str(answer.get('error'))[:300]}"
        )


def _hung(name: str):
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        raise HungBefore(
            f"{name} did not finish in time earlier in grading (an endless loop?), so "
            "it is not called again"
        )

    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in


def _names(value: Any) -> list[str]:
    return (
        [name for name in value if isinstance(name, str)]
        if isinstance(value, list)
        else []
    )


@contextlib.contextmanager
def _held(signum: int) -> Iterator[None]:
    """Block `signum` in this block; one that arrived meanwhile is delivered at its
    end."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signum})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
