"""Hostile and broken submissions, graded in one batch by the real Grader, worker and sandbox.

Each test checks one threat of docs/SECURITY.md on the batch's results. Assertions about isolation
(files, network, user) need bubblewrap; without it they are skipped with the reason, and the test
checks that the missing protection is reported instead.
"""

from __future__ import annotations

import hashlib
import os
import resource
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from process_tree import not_another_tests
from toycourse import REFERENCE, SUITE, make_course

from autograder.grade import Grader
from autograder.results import SubmissionResult
from autograder.running.sandbox import build_launch, fresh_tmp, worker_uid

from .scenarios import BROKEN_FILES, CUBE_REFERENCE, CUBE_SUITE, MARKER, TOML, graded_fully, reported, scenarios

REPO = Path(__file__).resolve().parents[2]
# Files the attacks target; their hashes must not change. The whole tree's `git status` must not either.
PROTECTED = [".gitignore", "nbgrader_config.py", "solutions/student_admissions_data.py", ".git/HEAD"]
HUGE_MB = 200


@dataclass
class Batch:
    results: dict[str, SubmissionResult]
    sandboxed: bool
    missing: list[str]
    seconds: float
    limit_seconds: float
    course: Path
    fresh_tmp: str | None = None  # why submissions get no namespaces of their own here (None: they do)
    strays_after: dict[str, list[str]] = field(default_factory=dict)  # submission -> marker processes left
    rss_growth_mb: float = 0.0
    hashes_before: dict[str, str] = field(default_factory=dict)
    hashes_after: dict[str, str] = field(default_factory=dict)
    git_before: str = ""
    git_after: str = ""


def marker_processes() -> list[str]:
    """Processes a submission started (MARKER in their argv), other test files' left out."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if MARKER in cmdline and entry.isdigit() and int(entry) != os.getpid():
            found[int(entry)] = f"{entry}: {cmdline.strip()}"
    return [found[pid] for pid in not_another_tests(list(found))]


def hashes(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "absent" for p in paths}


def git_status() -> str:
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                          capture_output=True, text=True)
    return done.stdout


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    course = make_course(tmp_path_factory.mktemp("adversarial"), toml=TOML,
                         suite={"test_square.py": SUITE, "test_cube.py": CUBE_SUITE},
                         reference=REFERENCE + CUBE_REFERENCE)
    assignment = course.assignment()
    launch = build_launch(assignment.release_dir)
    sandboxed = not launch.missing
    server = socket.create_server(("127.0.0.1", 0))
    os.environ["AUTOGRADER_ADVERSARIAL_SECRET"] = "must-not-reach-the-worker"
    paths: dict[str, Path] = {}
    for name, (answer, extra) in scenarios(str(REPO), str(course.root), server.getsockname()[1], sandboxed).items():
        paths[name] = course.released_with(name, answer)
        if extra:
            import nbformat
            from nbformat.v4 import new_code_cell

            notebook = nbformat.read(paths[name], as_version=4)
            notebook.cells += [new_code_cell(source) for source in extra]
            nbformat.write(notebook, paths[name])
    for name, data in BROKEN_FILES.items():
        paths[name] = course.submissions / f"{name}.ipynb"
        paths[name].write_bytes(data)
    paths["huge-file"] = course.submissions / "huge-file.ipynb"
    with open(paths["huge-file"], "wb") as handle:  # sparse: no disk space used
        handle.truncate(HUGE_MB * 1024 * 1024)
    protected = [REPO / p for p in PROTECTED] + [course.root / "solutions" / "toy.py",
                                                  course.suite_dir / "test_square.py"]
    run = Batch(results={}, sandboxed=sandboxed, missing=list(launch.missing), seconds=0.0, fresh_tmp=fresh_tmp(launch),
                limit_seconds=len(paths) * assignment.limits.timeout, course=course.root,
                hashes_before=hashes(protected), git_before=git_status())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    try:
        with Grader(assignment, launch) as grader:
            for name, path in paths.items():
                run.results[name] = grader.grade(name, path)
                run.strays_after[name] = marker_processes()
    finally:
        server.close()
        del os.environ["AUTOGRADER_ADVERSARIAL_SECRET"]
    run.seconds = time.monotonic() - started
    run.rss_growth_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    run.hashes_after, run.git_after = hashes(protected), git_status()
    return run


def needs_sandbox(batch: Batch) -> None:
    if not batch.sandboxed:
        assert batch.missing, "a plain launch must say which protections are off"
        pytest.skip(f"bubblewrap sandbox not usable here ({'; '.join(batch.missing)}); "
                    "the isolation itself cannot be checked")


def parts(result: SubmissionResult) -> dict[str, float]:
    return {p.name: p.score for p in result.parts}


def feedback(result: SubmissionResult, part: str) -> str:
    return " | ".join(t.feedback for p in result.parts if p.name == part for t in p.tests)


# -- the batch as a whole --------------------------------------------------------------------------


def test_correct_submissions_get_full_marks(batch):
    for name in ("correct-1", "correct-2"):
        graded_fully(batch.results[name])


def test_batch_finishes_within_the_sum_of_the_limits(batch):
    assert batch.seconds < batch.limit_seconds
    assert batch.seconds < 90, f"the adversarial batch took {batch.seconds:.0f} s"


def test_no_process_outlives_its_submission(batch):
    assert {name: left for name, left in batch.strays_after.items() if left} == {}


def test_repository_unchanged(batch):
    assert batch.hashes_after == batch.hashes_before
    assert batch.git_after == batch.git_before


# -- 1 endless loops -------------------------------------------------------------------------------


def test_endless_loop_at_top_level_times_out_that_cell_only(batch):
    result = batch.results["infinite-loop-top"]
    graded_fully(result)
    assert [e["status"] for e in result.cell_errors] == ["timeout"]


def test_loop_that_swallows_the_timeout_is_killed_and_skipped(batch):
    result = batch.results["catch-timeout"]
    graded_fully(result)
    assert "skipped" in result.cell_errors[0]["message"]


def test_endless_loop_in_a_function_costs_that_part_only(batch):
    result = batch.results["infinite-loop-in-function"]
    assert result.status == "graded"
    assert parts(result) == {"square": 0.0, "cube": 2.0}
    assert "did not return within" in feedback(result, "square")


# -- 2 memory ----------------------------------------------------------------------------------------


def test_memory_bomb_at_top_level_raises_memory_error(batch):
    result = batch.results["memory-bomb"]
    graded_fully(result)
    assert [e["type"] for e in result.cell_errors] == ["MemoryError", "MemoryError"], result.cell_errors


def test_memory_bomb_in_a_function_fails_with_memory_error(batch):
    result = batch.results["memory-bomb-in-function"]
    assert parts(result) == {"square": 0.0, "cube": 2.0}
    assert "MemoryError" in feedback(result, "square")


# -- 3 processes ---------------------------------------------------------------------------------------


def test_process_bomb_is_swept_after_grading(batch):
    graded_fully(batch.results["process-bomb"])
    assert batch.strays_after["process-bomb"] == []


def test_process_bomb_is_capped(batch):
    needs_sandbox(batch)
    seen = reported(batch.results["process-bomb"])
    assert seen["started"] < 32 and "Resource temporarily unavailable" in seen["refused"], seen


# -- 4 exits and kills ---------------------------------------------------------------------------------


def test_exit_and_interrupt_in_cells_behave_as_in_jupyter(batch):
    result = batch.results["sys-exit"]
    graded_fully(result)
    assert [e["type"] for e in result.cell_errors] == ["SystemExit", "SystemExit", "KeyboardInterrupt"]


def test_exit_in_a_function_fails_that_part(batch):
    result = batch.results["exit-in-function"]
    assert parts(result) == {"square": 0.0, "cube": 2.0}
    assert "SystemExit" in feedback(result, "square")


def test_os_exit_is_a_crash_with_the_cell_named(batch):
    result = batch.results["os-exit"]
    assert result.status == "crashed" and result.score == 0
    assert "ended unexpectedly in cell 6" in result.message


def test_killing_the_worker_costs_only_that_submission(batch):
    result = batch.results["kill-worker"]
    if batch.fresh_tmp is None:  # in a PID namespace of its own the submission cannot name its worker
        graded_fully(result)
    else:
        assert result.status == "crashed" and result.score == 0, result.message
    assert list(batch.results).index("after-kill") == list(batch.results).index("kill-worker") + 1
    graded_fully(batch.results["after-kill"])


def test_the_worker_parent_cannot_be_inspected(batch):
    needs_sandbox(batch)
    assert reported(batch.results["inspect-worker"])["opened"] == []


# -- 5 tampering -----------------------------------------------------------------------------------------


def test_patching_numpy_and_builtins_changes_nothing(batch):
    result = batch.results["tamper-numpy-builtins"]
    assert parts(result) == {"square": 0.0, "cube": 2.0}
    assert "expected" in feedback(result, "square")


def test_breaking_builtins_costs_only_the_submission(batch):
    assert batch.results["tamper-isinstance"].score == 0


def test_patching_the_worker_protocol_is_refused(batch):
    result = batch.results["tamper-protocol"]
    assert parts(result) == {"square": 0.0, "cube": 0.0}
    assert "cannot read" in feedback(result, "square")


def test_lying_objects_are_reduced_to_their_data(batch):
    result = batch.results["lying-objects"]
    assert result.score == 0
    assert "expected" in feedback(result, "square")
    assert "Anything, not a number" in feedback(result, "cube")
    assert not Path("/tmp/pwned").exists()


# -- 6, 7, 8, 11 isolation ------------------------------------------------------------------------------------


def test_secrets_cannot_be_read(batch):
    needs_sandbox(batch)
    seen = reported(batch.results["read-secrets"])
    assert seen["read"] == [] and seen["uid"] == worker_uid(), seen


def test_repository_files_cannot_be_written_or_deleted(batch):
    needs_sandbox(batch)
    assert reported(batch.results["write-repo"])["written"] == []
    assert batch.hashes_after == batch.hashes_before


def test_network_is_unreachable(batch):
    needs_sandbox(batch)
    assert reported(batch.results["network"])["connected"] is False


def test_environment_names_nothing_of_the_grader(batch):
    seen = reported(batch.results["environment"])
    assert not [k for k in seen["environ"] if k.startswith("AUTOGRADER")]
    needs_sandbox(batch)
    assert seen["named"] == [], seen


# -- 9, 10 output --------------------------------------------------------------------------------------------


def test_output_flood_is_truncated_and_grader_memory_bounded(batch):
    graded_fully(batch.results["output-flood"])
    assert batch.rss_growth_mb < 300, f"grader grew by {batch.rss_growth_mb:.0f} MB"


def test_fake_results_are_ignored(batch):
    result = batch.results["fake-results"]
    assert parts(result) == {"square": 0.0, "cube": 2.0}
    assert not list(batch.course.rglob("results.json"))


# -- 12 broken files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), [
    ("not-json", "invalid JSON"),
    ("truncated-json", "invalid JSON"),
    ("nbformat-3", "notebook format 3"),
    ("missing-cells", "no list of cells"),
    ("not-utf8", "not UTF-8"),
    ("r-kernel", "R notebook"),
    ("huge-file", f"{HUGE_MB} MB, over the"),
])
def test_broken_files_are_invalid_with_a_clear_message(batch, name, message):
    result = batch.results[name]
    assert result.status == "invalid" and result.score == 0
    assert message in result.message, result.message

