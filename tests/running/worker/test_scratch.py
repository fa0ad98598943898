"""What one submission leaves behind never reaches the next: modules on the import path, files, a full /tmp.

Each mode grades the same sequence on one worker, in order: an attack, then a correct submission that
imports the planted module names and reports what it sees. `fresh`: each submission gets a new tmpfs and
processes of its own (worker/scratch.py); `shared` (AUTOGRADER_FRESH_TMP=off): a folder of the worker's own /tmp, which the
worker empties and checks between submissions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from toycourse import REFERENCE, SUITE, make_course, notebook_runner

from autograder.grade import Grader
from autograder.results import SubmissionResult
from autograder.running.sandbox import build_launch, fresh_tmp
from autograder.running.worker_process import Worker

from adversarial.scenarios import CUBE_REFERENCE, CUBE_SUITE, GOOD_CUBE, GOOD_SQUARE, LEFT_BEHIND, TOML
from adversarial.scenarios import graded_fully, reported

SCRATCH_FILES = 2000
SCRATCH_BYTES = 32 * 1024 * 1024


@dataclass
class Run:
    mode: str
    results: dict[str, SubmissionResult]


@pytest.fixture(scope="module", params=["fresh", "shared"])
def run(request, tmp_path_factory) -> Run:
    mode = request.param
    course = make_course(tmp_path_factory.mktemp(f"scratch-{mode}"), toml=TOML,
                         suite={"test_square.py": SUITE, "test_cube.py": CUBE_SUITE},
                         reference=REFERENCE + CUBE_REFERENCE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRADER_FRESH_TMP", "on" if mode == "fresh" else "off")
        launch = build_launch(course.assignment().release_dir)
    if mode == "fresh" and fresh_tmp(launch) is not None:
        pytest.skip(f"no /tmp of its own per submission here: {fresh_tmp(launch)}")
    if mode == "shared" and launch.missing:
        pytest.skip("without the sandbox the worker's /tmp is the machine's: only a fresh /tmp protects it")
    results = {}
    with Grader(course.assignment(), launch) as grader:
        for name, (answer, extra) in LEFT_BEHIND.items():
            path = course.released_with(name, answer)
            notebook = nbformat.read(path, as_version=4)
            notebook.cells += [new_code_cell(source) for source in extra]
            nbformat.write(notebook, path)
            results[name] = grader.grade(name, path)
    return Run(mode, results)


def test_modules_left_on_the_import_path_do_not_reach_the_next_submission(run):
    assert reported(run.results["plant-modules"])["planted"], "the attack must have written something"
    graded_fully(run.results["after-plant"])  # it imported statistics and colorsys: not the planted ones
    seen = reported(run.results["after-plant"])
    assert seen["leftovers"] == []
    assert seen["writable_on_path"] == [seen["cwd"]]  # only its own folder, gone after it


def test_the_next_submission_sees_a_fresh_tmp_and_folder(run):
    for name in ("after-plant", "after-fill-bytes", "after-fill-files"):
        seen = reported(run.results[name])
        assert seen["here"] == [], (name, seen)
        if run.mode == "fresh":
            assert (seen["cwd"], seen["tmp"]) == ("/tmp/work", ["work"]), (name, seen)
        else:
            assert seen["tmp"] == [seen["cwd"].rsplit("/", 1)[-1]], (name, seen)


def test_filling_tmp_with_bytes_is_capped_and_costs_no_one_else(run):
    result = run.results["fill-tmp-bytes"]
    if run.mode == "fresh":  # the kernel refuses the write past the cap; the notebook goes on
        written = reported(result)
        assert written["error"] == "No space left on device" and written["written"] <= SCRATCH_BYTES, written
        graded_fully(result)
    else:  # the worker measures /tmp while the notebook runs and stops it past the cap
        assert result.status == "crashed" and "more than 32 MB to /tmp" in result.message, result.message
    graded_fully(run.results["after-fill-bytes"])


def test_filling_tmp_with_files_is_capped_and_costs_no_one_else(run):
    result = run.results["fill-tmp-files"]
    if run.mode == "fresh":  # the kernel refuses the file past the cap; the notebook goes on
        made = reported(result)
        assert made["error"] == "No space left on device" and made["made"] < SCRATCH_FILES, made
        graded_fully(result)
    else:  # the worker counts the files while the notebook runs and stops it past the cap
        assert result.status == "crashed" and f"more than {SCRATCH_FILES} files and folders in /tmp" in result.message, \
            result.message
    graded_fully(run.results["after-fill-files"])


def test_a_submission_cannot_change_what_its_worker_passes_on(run):
    """Limits, priority and CPUs lowered on every process it could reach never reach the next submission:
    in its own PID namespace it reaches none of them; without one, the worker sees the change and is replaced."""
    changed = reported(run.results["renice-worker"])["changed"]
    if run.mode == "fresh":
        assert changed == [], changed
    graded_fully(run.results["after-renice"])
    assert reported(run.results["after-renice"]) == {"fsize": 64 * 1024 * 1024, "nice": 0,
                                                     "cpus": len(os.sched_getaffinity(0))}


def test_a_course_under_tmp_is_graded_without_the_sandbox_too(tmp_path_factory):
    """Without bubblewrap the fresh tmpfs on /tmp would hide a course (or its release) that lives under /tmp:
    the release is opened before the mount and copied from that descriptor."""
    course = make_course(tmp_path_factory.mktemp("course-under-tmp"), toml=TOML,
                         suite={"test_square.py": SUITE, "test_cube.py": CUBE_SUITE},
                         reference=REFERENCE + CUBE_REFERENCE)
    assert str(course.assignment().release_dir).startswith("/tmp/")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRADER_SANDBOX", "off")
        patch.setenv("AUTOGRADER_FRESH_TMP", "on")
        launch = build_launch(course.assignment().release_dir)
    assert launch.missing, "this test is about grading without the sandbox"
    notebook = nbformat.read(course.released_with("under-tmp", GOOD_SQUARE), as_version=4)
    notebook.cells.append(new_code_cell(GOOD_CUBE))
    nbformat.write(notebook, course.submissions / "under-tmp.ipynb")
    with Grader(course.assignment(), launch) as grader:
        graded_fully(grader.grade("under-tmp", course.submissions / "under-tmp.ipynb"))


IPC_WRITE = '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
def leave(text):
    ident = libc.shmget(4242, 4096, 0o1600)
    address = libc.shmat(ident, None, 0)
    ctypes.memmove(address, text.encode(), len(text))
    return ident >= 0
'''
IPC_READ = '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
def find():
    ident = libc.shmget(4242, 0, 0)
    if ident < 0:
        return None
    return ctypes.string_at(libc.shmat(ident, None, 0), 6).decode()
'''


@pytest.mark.parametrize("mode", ["fresh", "shared"])
def test_system_v_shared_memory_never_reaches_the_next_submission(mode, tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp(f"ipc-{mode}"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRADER_FRESH_TMP", "on" if mode == "fresh" else "off")
        launch = build_launch(course.assignment().release_dir)
    if launch.missing or (mode == "fresh" and fresh_tmp(launch) is not None):
        pytest.skip("needs the sandbox (and for `fresh`, namespaces per submission)")
    with Worker(launch) as worker, notebook_runner(worker, course.assignment().limits) as run:
        writer = run([IPC_WRITE])
        assert writer.call("leave", "secret") is True
        writer.close()
        assert run([IPC_READ]).call("find") is None
