"""Grading on a real Dask cluster (a LocalCluster of two worker processes on loopback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.batch import cluster as cluster_module
from autograder.batch.run import run_batch
from autograder.cli import main
from autograder.batch.cluster import grade_on_cluster
from autograder.errors import UsageError
from autograder.course.discovery import discover
from autograder.batch.parallel import Task
from autograder.batch.resume import journal_path
from autograder.results import SubmissionResult

from adversarial.scenarios import STOP_WORKER
from toycourse import TOML, make_course

pytestmark = pytest.mark.slow

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as local:
        yield local


def without_seconds(report) -> list[dict]:
    rows = report.to_dict()["submissions"]
    for row in rows:
        row.pop("seconds")
    return rows


def test_a_cluster_grades_like_a_local_run(tmp_path, cluster, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the notebooks are named relative to here, as on a command line
    course = make_course(tmp_path)
    course.released_with("a-right", RIGHT)
    course.released_with("b-wrong", "def square(x):\n    return x * 2")
    course.released_with("c-raises", "def square(x):\n    raise ValueError('nope')")
    course.released_with("d-right", RIGHT)
    (course.submissions / "e-broken.ipynb").write_text("{not json")
    seen = []
    remote = run_batch(course.assignment(), [Path("submissions")], scheduler=cluster.scheduler_address,
                       on_result=seen.append)
    local = run_batch(course.assignment(), [Path("submissions")], jobs=1)
    assert [s.student for s in remote.report.submissions] == ["a-right", "b-wrong", "c-raises", "d-right",
                                                               "e-broken"]
    assert without_seconds(remote.report) == without_seconds(local.report)
    assert [s.score for s in remote.report.submissions] == [3.0, 0.0, 0.0, 3.0, 0.0]
    assert len(seen) == 5


def test_a_cluster_run_is_journaled_and_resumed(tmp_path, cluster):
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    course.released_with("b", RIGHT)
    output = tmp_path / "results.json"
    first = run_batch(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address,
                      json_path=output)
    again = run_batch(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address,
                      json_path=output, resume=True)
    assert (first.graded, again.graded, again.resumed) == (2, 0, 2)
    assert again.report.to_dict() == first.report.to_dict()


def test_jobs_and_a_scheduler_do_not_go_together(tmp_path):
    course = make_course(tmp_path)
    with pytest.raises(UsageError, match="--jobs does not apply with --scheduler"):
        run_batch(course.assignment(), [course.submissions], jobs=2, scheduler="tcp://127.0.0.1:1")


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "1s")
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        run_batch(course.assignment(), [course.submissions], scheduler="tcp://127.0.0.1:9")


def test_the_command_line_grades_on_a_cluster(tmp_path, cluster, capsys):
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    output = tmp_path / "out" / "results.json"
    code = main(["--course", str(course.root), "grade", "toy", str(course.submissions), "--scheduler",
                 cluster.scheduler_address, "--json", str(output)])
    assert code == 0, capsys.readouterr().err
    report = json.loads(output.read_text())
    assert [(s["student"], s["score"]) for s in report["submissions"]] == [("a", 3.0)]
    assert not journal_path(output).exists()


def test_a_task_running_past_its_limit_is_given_up_and_the_rest_is_graded(tmp_path, cluster):
    course = make_course(tmp_path, toml=TOML.replace("cell_timeout = 2", "cell_timeout = 20"))
    course.released_with("a-right", RIGHT)
    slow = course.released_with("b-slow", RIGHT)
    notebook = nbformat.read(slow, as_version=4)
    notebook.cells.append(new_code_cell("import time\ntime.sleep(8)"))
    nbformat.write(notebook, slow)
    course.released_with("c-right", RIGHT)
    results: dict[str, SubmissionResult] = {}
    tasks = [Task(i, found.student, found.notebook) for i, found in enumerate(discover(course.assignment(),
                                                                                         [course.submissions]))]
    started = time.monotonic()
    grade_on_cluster(course.assignment(), tasks, cluster.scheduler_address,
                     lambda task, result, graded: results.__setitem__(task.student, result), task_seconds=4)
    assert time.monotonic() - started < 8 + 4  # the batch did not wait for the slow one
    assert (results["b-slow"].status, results["b-slow"].score) == ("crashed", 0.0)
    assert "did not finish within 4 s; grade it again with --resume" in results["b-slow"].message
    assert [results[s].score for s in ("a-right", "c-right")] == [3.0, 3.0]


def test_a_worker_stopped_in_the_middle_of_an_answer_costs_only_that_submission(tmp_path, cluster):
    course = make_course(tmp_path)
    course.released_with("a-stops", STOP_WORKER)
    course.released_with("b-right", RIGHT)
    started = time.monotonic()
    run = run_batch(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address)
    scores = {s.student: (s.status, s.score) for s in run.report.submissions}
    assert scores == {"a-stops": ("graded", 0.0), "b-right": ("graded", 3.0)}
    assert time.monotonic() - started < 60


def test_a_link_is_not_graded_as_its_target_on_a_cluster(tmp_path, cluster):
    course = make_course(tmp_path)
    course.released_with("a-right", RIGHT)
    (course.submissions / "b-link.ipynb").symlink_to(course.master)
    run = run_batch(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address)
    link = run.report.submissions[1]
    assert (link.student, link.status, link.score) == ("b-link", "invalid", 0.0)
    assert "symbolic link" in link.message


@pytest.fixture
def blind_cluster(tmp_path_factory):
    """A LocalCluster's scheduler with two `dask worker` processes that cannot see the course: each runs
    in a mount namespace where the tests' folder is an empty tmpfs, with / as its working folder."""
    distributed = pytest.importorskip("distributed")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap is not installed (`apt-get install -y bubblewrap`): no worker can be made blind")
    hidden = tmp_path_factory.getbasetemp()
    bundles = Path(tempfile.mkdtemp(prefix="autograder-test-bundles-"))  # outside what is hidden
    env = dict(os.environ, AUTOGRADER_BUNDLES=str(bundles), PYTHONPATH="")
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=":0") as local:
        workers = [subprocess.Popen([bwrap, "--dev-bind", "/", "/", "--tmpfs", str(hidden), "--chdir", "/", "--",
                                     str(Path(sys.executable).parent / "dask"), "worker", local.scheduler_address,
                                     "--nthreads", "1", "--no-dashboard"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(2)]
        try:
            with distributed.Client(local.scheduler_address) as client:
                client.wait_for_workers(2, timeout=60)
                seen = client.run(lambda path: os.path.exists(path), str(hidden / "course"))
            yield local.scheduler_address, seen, bundles
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
            shutil.rmtree(bundles, ignore_errors=True)


def test_workers_that_cannot_see_the_course_grade_it_from_the_bundle_sent_once(tmp_path_factory, blind_cluster):
    address, seen, bundles = blind_cluster
    root = tmp_path_factory.getbasetemp() / "course"
    course = make_course(root)
    course.released_with("a-right", RIGHT)
    course.released_with("b-wrong", "def square(x):\n    return x * 2")
    (course.submissions / "c-link.ipynb").symlink_to(course.master)  # refused where it was found
    assert seen and not any(seen.values())  # the workers do not see the client's course path
    tasks = [Task(i, found.student, found.notebook)
             for i, found in enumerate(discover(course.assignment(), [course.submissions]))]
    first, second = {}, {}
    sent = [grade_on_cluster(course.assignment(), tasks, address,
                             lambda task, result, graded, into=into: into.__setitem__(task.student, result))
            for into in (first, second)]
    assert sent == [2, 0]  # the second batch finds the bundle on both workers
    local = run_batch(course.assignment(), [course.submissions], jobs=1).report
    for results in (first, second):
        assert [results[s.student].to_dict() | {"seconds": 0} for s in local.submissions] == \
            [s.to_dict() | {"seconds": 0, "notebook": str(Path(s.notebook))} for s in local.submissions]
    assert [first[s].score for s in ("a-right", "b-wrong", "c-link")] == [3.0, 0.0, 0.0]
    assert "symbolic link" in first["c-link"].message
    assert len([p for p in bundles.iterdir() if not p.name.startswith(".")]) == 1  # one course, unpacked once
