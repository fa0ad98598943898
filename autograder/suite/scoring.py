"""Points: test outcomes to part scores, with the part totals from assignment.toml.

A test's `points` marker is its points; tests without one share what is left of their
part. Scores are rounded to PRECISION decimals, so that a part whose tests all passed
scores its points exactly (three tests of 0.1 make 0.3, not 0.30000000000000004).
"""

from __future__ import annotations

from ..course.config import Assignment
from ..errors import ConfigError
from ..results import PartResult, TestResult
from .plugin import Outcome

PRECISION = 9  # decimals kept in scores


def rounded_sum(scores) -> float:
    """The sum of scores, rounded to PRECISION decimals."""
    return round(sum(scores), PRECISION) + 0.0  # + 0.0: never -0.0


def test_points(assignment: Assignment, outcomes: list[Outcome]) -> dict[str, float]:
    """Max points per test nodeid; ConfigError when a test or a part does not add up."""
    toml = assignment.suite_dir / "assignment.toml"
    points: dict[str, float] = {}
    for part, total in assignment.parts.items():
        tests = [o for o in outcomes if o.part == part]
        if not tests:
            raise ConfigError(
                toml,
                f"parts.{part}",
                f"no hidden test belongs to this part; add test_{part}.py or mark "
                f"tests with @pytest.mark.part('{part}')",
            )
        fixed = sum(o.points for o in tests if o.points is not None)
        shared = [o for o in tests if o.points is None]
        if fixed > total + 1e-9 or (not shared and abs(fixed - total) > 1e-9):
            raise ConfigError(
                toml,
                f"parts.{part}",
                f"is worth {total:g} points but its tests' points "
                f"markers add up to {fixed:g}",
            )
        for o in tests:
            points[o.nodeid] = (
                o.points if o.points is not None else (total - fixed) / len(shared)
            )
    strays = [o.nodeid for o in outcomes if o.part not in assignment.parts]
    if strays:
        raise ConfigError(
            toml,
            "parts",
            f"test {strays[0]} belongs to no part (known parts: "
            f"{', '.join(assignment.parts)})",
        )
    return points


def score_parts(
    assignment: Assignment,
    outcomes: list[Outcome],
    whole_suite: list[Outcome] | None = None,
) -> list[PartResult]:
    """Part results of `outcomes`; when they are only some tests (the public ones),
    `whole_suite` is every test, so that points are shared out as in grading."""
    points = test_points(assignment, outcomes if whole_suite is None else whole_suite)
    parts = []
    for part, points_of_part in assignment.parts.items():
        tests = [
            TestResult(
                name=o.name,
                outcome=o.outcome,
                max_points=points[o.nodeid],
                points=points[o.nodeid] if o.outcome == "passed" else 0.0,
                feedback=o.feedback,
                description=o.description,
                misconception=o.misconception,
            )
            for o in outcomes
            if o.part == part
        ]
        parts.append(
            PartResult(
                name=part,
                score=rounded_sum(t.points for t in tests),
                max_score=points_of_part,
                tests=tests,
            )
        )
    return parts


def zero_parts(
    assignment: Assignment, outcomes: list[Outcome], why: str
) -> list[PartResult]:
    """Every part at zero, each test failed with the same reason (invalid or crashed
    submissions)."""
    for outcome in outcomes:
        outcome.outcome, outcome.feedback = "error", why
    parts = score_parts(assignment, outcomes)
    for part in parts:
        part.feedback = why
    return parts
