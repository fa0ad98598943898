"""The student-admissions corpus (tests/corpus/, built by build.py) graded end to end in one batch.

Every scenario must get exactly the status and part scores of expected.json; grading a notebook
twice must give the same JSON apart from timing; every failed test must explain itself to the
student without showing a traceback or the hidden suite's code.
"""

from __future__ import annotations

import importlib.util
import json

import nbformat
import pytest

from autograder.course.config import load_assignment
from conftest import grade_here
from conftest import REPO

pytestmark = pytest.mark.slow

CORPUS = REPO / "tests" / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
TWICE = "error-term-no-slope"  # graded a second time in the batch (as TWICE-2), with feedback in most parts
SUITE = REPO / "assignments" / "student-admissions"


@pytest.fixture(scope="module")
def results():
    report = grade_here(load_assignment("student-admissions", REPO), [CORPUS, CORPUS / f"{TWICE}.ipynb"])
    return {result.student: result for result in report.submissions}


def test_notebooks_are_built_from_the_current_release(tmp_path):
    """The committed corpus and demo submissions are what build.py makes now; if not, run it again."""
    spec = importlib.util.spec_from_file_location("corpus_build", CORPUS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    released = nbformat.read(build.RELEASE, as_version=4)
    for scenarios, folder in ((build.CORPUS, build.CORPUS_DIR), (build.EXAMPLES, build.EXAMPLES_DIR)):
        for fresh in build.build(scenarios, released, tmp_path / folder.name):
            assert fresh.read_text() == (folder / fresh.name).read_text(), \
                f"{folder / fresh.name} is stale; run `.venv/bin/python tests/corpus/build.py`"


def test_every_notebook_has_expected_scores():
    assert sorted(p.stem for p in CORPUS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_scores(results, scenario):
    result, expected = results[scenario], EXPECTED[scenario]
    scores = {part.name: round(part.score, 4) for part in result.parts}  # as in the JSON: 3 x 0.4 is 1.2
    assert (result.status, scores) == (expected["status"], expected["parts"]), \
        f"{scenario}: got {result.status} {scores}; {result.message}"


def test_graded_scenarios_fail_tests_without_errors(results):
    """A hidden test that errors (instead of failing) would be a bug in the suite."""
    broken = [(name, part.name, test.name, test.feedback) for name, result in results.items()
              if result.status == "graded" for part in result.parts for test in part.tests
              if test.outcome not in ("passed", "failed", "timeout")]  # a hang is the student's
    assert broken == []


def test_grading_twice_gives_the_same_json(results):
    first, second = results[TWICE].to_dict(), results[f"{TWICE}-2"].to_dict()
    assert second["notes"].pop(0).endswith(f"is graded as '{TWICE}-2'")  # renamed in the batch, and told so
    for result in (first, second):
        del result["seconds"], result["student"]
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def hidden_lines() -> set[str]:
    """Code lines of the hidden tests long enough to be recognisable in feedback."""
    lines = set()
    for path in [*SUITE.glob("test_*.py"), SUITE / "conftest.py"]:
        lines.update(line.strip() for line in path.read_text().splitlines())
    return {line for line in lines if len(line) >= 20 and not line.startswith(("#", '"""'))}


def test_failed_tests_explain_themselves(results):
    secret = hidden_lines()
    problems = []
    for name, result in results.items():
        for part in result.parts:
            for test in part.tests:
                text = test.feedback
                if test.outcome == "passed":
                    continue
                if not text.strip() or "Traceback" in text or "assert " in text or any(s in text for s in secret):
                    problems.append(f"{name} {part.name}/{test.name}: {text!r}")
    assert problems == []
