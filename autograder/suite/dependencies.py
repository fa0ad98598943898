"""Which graded functions stand in for the reference while one is tested, and the order
the parts run in.

While a part isolates `error_term`, the graded functions it depends on (`sigmoid_prime`,
and `sigmoid` through it) are stand-ins that answer with the reference's value
(running/worker/standins.py); every other name is the student's own code. Only those:
the reference's `error_term` calls the reference's `sigmoid_prime`, so were `error_term`
a stand-in while `sigmoid_prime` is tested, a student's `sigmoid_prime(x) =
error_term(1, 0, x)` would return the reference's slope.

What each function depends on is `[functions] uses` in assignment.toml, else read from
the reference's code: the graded names each graded function refers to (its code's
`co_names` and those of the code nested in it, through the reference module's own helper
functions). A name that is only an attribute (`self.sigmoid`) counts too: a stand-in too
many costs nothing but isolation, one too few is an oracle. Checked when the suite is
loaded, so a bad assignment fails before any submission: no function may reach itself,
and no chain of reference calls from one of its stand-ins may reach the function under
test.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterable, Mapping
from typing import Any

from ..course.config import Assignment
from ..errors import ConfigError

Graph = Mapping[str, Iterable[str]]  # function -> the graded functions it calls


def stand_ins(assignment: Assignment, reference: Any) -> dict[str, tuple[str, ...]]:
    """Graded function -> the graded functions that stand in for the reference while it
    is tested with isolation: everything it depends on, directly or not, in `graded`
    order. ConfigError when a function depends on itself, or when the reference of one
    of its stand-ins calls it (declared uses included)."""
    calls = reference_calls(reference, assignment.graded)
    uses = calls if assignment.uses is None else assignment.uses
    for name in assignment.graded:
        circle = _path(uses, name, name)
        if circle:
            raise _circle_error(assignment, name, circle)
    result = {}
    for name in assignment.graded:
        closure = reach(uses, name)
        result[name] = tuple(g for g in assignment.graded if g in closure)
        for helper in result[name]:
            oracle = _path(calls, helper, name)
            if oracle:
                raise _oracle_error(assignment, name, helper, oracle)
    return result


def reference_calls(reference: Any, graded: Iterable[str]) -> dict[str, frozenset[str]]:
    """Graded function -> the graded names its reference code refers to, also through
    the reference module's own functions that are not graded (a `_slope` helper that
    calls `sigmoid`)."""
    graded = tuple(graded)
    return {
        name: frozenset(
            _referred(reference, getattr(reference, name, None), graded, set())
        )
        for name in graded
    }


def _referred(
    reference: Any, function: Any, graded: tuple[str, ...], seen: set[str]
) -> set[str]:
    code = (
        getattr(inspect.unwrap(function), "__code__", None)
        if callable(function)
        else None
    )
    if not isinstance(code, types.CodeType):
        return set()
    found = set()
    for name in _names(code):
        if name in graded:
            found.add(name)
        elif name not in seen and _own_function(reference, name):
            seen.add(name)
            found |= _referred(reference, getattr(reference, name), graded, seen)
    return found


def _names(code: types.CodeType) -> set[str]:
    """The global and attribute names a code object and the code nested in it (lambdas,
    inner functions, comprehensions) refer to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


def _own_function(reference: Any, name: str) -> bool:
    """A function defined in the reference module itself (whose calls are the
    reference's too)."""
    value = getattr(reference, name, None)
    return inspect.isfunction(value) and value.__globals__ is vars(reference)


def reach(graph: Graph, name: str) -> set[str]:
    """The functions `name` calls, directly or through others (itself only through a
    circle)."""
    seen: set[str] = set()
    frontier = list(graph.get(name, ()))
    while frontier:
        callee = frontier.pop()
        if callee not in seen:
            seen.add(callee)
            frontier.extend(graph.get(callee, ()))
    return seen


def _path(graph: Graph, start: str, goal: str) -> list[str]:
    """A chain of calls start -> ... -> goal (at least one call), or [] when there is
    none."""
    trails, seen = [[start]], set()
    while trails:
        trail = trails.pop(0)
        for callee in sorted(graph.get(trail[-1], ())):
            if callee == goal:
                return [*trail, callee]
            if callee not in seen:
                seen.add(callee)
                trails.append([*trail, callee])
    return []


def part_order(
    assignment: Assignment, standing_in: Mapping[str, Iterable[str]]
) -> list[str]:
    """The order the parts run in: those that do not isolate first (the training runs
    the student's own functions together), then the isolating ones with each function's
    part before every part in which it stands in (ties in assignment.toml's order). An
    isolating part not named like a graded function may call any of them: it runs after
    all of theirs."""
    # What a part can learn from a stand-in is the reference of functions whose own part
    # (and the training) has already been graded, so nothing carried forward can earn
    # points.
    first = [part for part in assignment.parts if not assignment.isolates(part)]
    rest = [part for part in assignment.parts if assignment.isolates(part)]
    before = {
        part: _may_stand_in(assignment, standing_in, part) & set(rest) - {part}
        for part in rest
    }
    order: list[str] = []
    while rest:
        # stand-ins have no circle
        ready = next(part for part in rest if before[part] <= set(order))
        order.append(ready)
        rest.remove(ready)
    return first + order


def _may_stand_in(
    assignment: Assignment, standing_in: Mapping[str, Iterable[str]], part: str
) -> set[str]:
    if part in assignment.graded:
        return set(standing_in.get(part, ()))
    return set(assignment.graded)


def _circle_error(assignment: Assignment, name: str, circle: list[str]) -> ConfigError:
    chain = " -> ".join(circle)
    if assignment.uses is None:
        return ConfigError(
            assignment.suite_dir / "assignment.toml",
            "functions.uses",
            f"the reference functions call each other in a circle ({chain}, in "
            f"{assignment.reference_file}): while `{name}` is tested they would stand "
            "in for each other and answer with the reference's value of it. Write the "
            "reference without the circle, or declare `uses` under [functions] with "
            "what each function calls",
        )
    return ConfigError(
        assignment.suite_dir / "assignment.toml",
        f"functions.uses.{name}",
        f"`{name}` depends on itself ({chain}): a function cannot stand in for one it "
        "depends on. Remove one of these uses",
    )


def _oracle_error(
    assignment: Assignment, name: str, helper: str, oracle: list[str]
) -> ConfigError:
    return ConfigError(
        assignment.suite_dir / "assignment.toml",
        f"functions.uses.{name}",
        f"`{helper}` cannot stand in while `{name}` is tested: the reference's calls "
        f"{' -> '.join(oracle)} (in {assignment.reference_file}) compute `{name}`, so "
        f"a student's `{name}` could return the reference's answer by calling "
        f"`{helper}`. Remove `{helper}` from what `{name}` uses (directly or through "
        "another function)",
    )
