"""A fork bomb in one `--jobs` grader cannot use up the process budget of a submission graded beside it."""

from __future__ import annotations

import os

import pytest
from toycourse import TOML, make_course

from autograder.running import sandbox
from conftest import run_on

pytestmark = pytest.mark.slow

LIMITS = TOML.replace("cell_timeout = 2", "cell_timeout = 10").replace(
    "timeout = 20", "timeout = 40") + "max_processes = 16\n"

# Holds every process its budget allows, taking back any that frees up, for about fourteen seconds.
GRAB = (
    "deadline = time.monotonic() + 7\n"
    "while time.monotonic() < deadline:\n"
    "    try:\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(30)\n"
    "            os._exit(0)\n"
    "    except OSError:\n"
    "        time.sleep(0.005)"
)
BOMB = ["import os, time", GRAB, GRAB]

# Starts one short-lived process per call, six seconds after it began: the two grader processes
# start within a few seconds of each other, so the bomb is up by then and still holding.
FORKS = '''\
import os, time
time.sleep(6)


def square(x):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return np.asarray(x, dtype=float) ** 2
'''


def test_a_fork_bomb_in_one_job_does_not_stop_the_other_jobs_submission(tmp_path):
    course = make_course(tmp_path, toml=LIMITS)
    assignment = course.assignment()
    launch = sandbox.build_launch(assignment.release_dir)
    if launch.missing:
        pytest.skip(f"needs the bubblewrap sandbox ({'; '.join(launch.missing)})")
    if os.geteuid() != 0:
        pytest.skip("a user namespace maps every worker to the grader's own uid: jobs share its process budget")
    bomb = course.released_with("a-bomb", "def square(x):\n    return np.asarray(x, dtype=float) ** 2")
    import nbformat
    from nbformat.v4 import new_code_cell

    notebook = nbformat.read(bomb, as_version=4)
    notebook.cells += [new_code_cell(source) for source in BOMB]
    nbformat.write(notebook, bomb)
    course.released_with("b-forks", FORKS)

    run = run_on(assignment, [course.submissions], jobs=2)
    scores = {s.student: s.score for s in run.report.submissions}
    feedback = [t.feedback for s in run.report.submissions for p in s.parts for t in p.tests]
    assert scores == {"a-bomb": 3.0, "b-forks": 3.0}, feedback
