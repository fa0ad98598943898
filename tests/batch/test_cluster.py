"""Grading on a real Dask cluster (a LocalCluster of two worker processes on loopback), and over TLS (a
`dask scheduler` and `dask worker` on 127.0.0.1 with certificates of a CA the test makes)."""

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
from conftest import run_on
from autograder.cli import main
from autograder.batch.cluster import grade_on_cluster
from autograder.batch.trust import tls_settings
from autograder.errors import UsageError
from autograder.course.discovery import discover
from autograder.batch.tasks import Task
from autograder.batch.resume import journal_path
from autograder.results import SubmissionResult

from adversarial.scenarios import STOP_WORKER
from toycourse import TOML, make_course

pytestmark = pytest.mark.slow

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
STAMP = "2026-11-20 09:15:00.000000 UTC"


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as local:
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
    (course.submissions / "timestamp.txt").write_text(STAMP)  # nbgrader's, read by the client with each notebook
    seen = []
    remote = run_on(course.assignment(), [Path("submissions")], scheduler=cluster.scheduler_address,
                       on_result=seen.append)
    assert {s.nbgrader_files.timestamp for s in remote.report.submissions} == {STAMP}
    local = run_on(course.assignment(), [Path("submissions")], jobs=1)
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
    first = run_on(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address,
                      json_path=output)
    again = run_on(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address,
                      json_path=output, resume=True)
    assert (first.graded, again.graded, again.resumed) == (2, 0, 2)
    assert again.report.to_dict() == first.report.to_dict()


def test_jobs_and_a_scheduler_do_not_go_together(tmp_path):
    course = make_course(tmp_path)
    with pytest.raises(UsageError, match="--jobs does not apply with --scheduler"):
        run_on(course.assignment(), [course.submissions], jobs=2, scheduler="tcp://127.0.0.1:1")


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "1s")
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        run_on(course.assignment(), [course.submissions], scheduler="tcp://127.0.0.1:9")


def test_an_address_where_something_else_answers_is_a_usage_error(tmp_path):
    """An HTTP server (a dashboard, a proxy) at the address: its reply read as a Dask frame asks for
    exabytes; that is not a Dask scheduler, said as such, not an internal error."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        with server:
            peer, _ = server.accept()
            with peer:
                peer.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
                peer.recv(1)

    threading.Thread(target=answer, daemon=True).start()
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        run_on(course.assignment(), [course.submissions], scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}")


def test_the_command_line_grades_on_a_cluster(tmp_path, cluster, capsys):
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    output = tmp_path / "out" / "results.json"
    code = main(["--course", str(course.root), "grade", "toy", str(course.submissions), "--scheduler",
                 cluster.scheduler_address, "--json", str(output)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "without TLS" not in err  # a scheduler on this machine (127.0.0.1)
    report = json.loads(output.read_text())
    assert [(s["student"], s["score"]) for s in report["submissions"]] == [("a", 3.0)]
    assert not journal_path(output).exists()


def test_the_course_service_grades_each_submission_on_the_cluster(tmp_path, cluster):
    """`autograder serve --scheduler`: the cluster's workers grade what students submit; the record is
    the course's gradebook as on one machine."""
    from nbgrader.api import Gradebook

    from autograder.service.server import token
    from servicecourse import RIGHT as SQUARE, Service, gradebook_course, upload, wait_final

    course = gradebook_course(tmp_path)
    service = Service(course, "--scheduler", cluster.scheduler_address, "--jobs", "2")
    try:
        with service.client(token(course.root, None, "ada", False)) as ada:
            answers = [upload(ada, course.released_with("ada", SQUARE)) for _ in range(2)]
            statuses = [wait_final(ada, a.json()["id"]) for a in answers]
        import psutil

        # graded by the cluster's workers: the service started no grader process of its own
        assert psutil.Process(service.process.pid).children(recursive=True) == []
    finally:
        service.stop()
    assert [(s["status"], s["score"]) for s in statuses] == [("graded", 3.0)] * 2
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission("toy", "ada").score == 3.0


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
    run = run_on(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address)
    scores = {s.student: (s.status, s.score) for s in run.report.submissions}
    assert scores == {"a-stops": ("graded", 0.0), "b-right": ("graded", 3.0)}
    assert time.monotonic() - started < 60


def test_a_link_is_not_graded_as_its_target_on_a_cluster(tmp_path, cluster):
    course = make_course(tmp_path)
    course.released_with("a-right", RIGHT)
    (course.submissions / "b-link.ipynb").symlink_to(course.master)
    run = run_on(course.assignment(), [course.submissions], scheduler=cluster.scheduler_address)
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
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address="127.0.0.1:0") as local:
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
    local = run_on(course.assignment(), [course.submissions], jobs=1).report
    for results in (first, second):
        assert [results[s.student].to_dict() | {"seconds": 0} for s in local.submissions] == \
            [s.to_dict() | {"seconds": 0, "notebook": str(Path(s.notebook))} for s in local.submissions]
    assert [first[s].score for s in ("a-right", "b-wrong", "c-link")] == [3.0, 0.0, 0.0]
    assert "symbolic link" in first["c-link"].message
    assert len([p for p in bundles.iterdir() if not p.name.startswith(".")]) == 1  # one course, unpacked once


# Over TLS: only the course's certificates join or connect (the decisions alone: test_trust.py).

def _openssl(*args) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)


def make_certificates(folder: Path) -> dict[str, Path]:
    """The course's CA and a certificate it signed for the cluster's machines (`node`), and an intruder's
    CA and its certificate, as the README makes them (EC keys: faster to make than RSA)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed: no certificate can be made")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    files = {}
    for ca in ("course-ca", "intruder-ca"):
        files[ca], files[f"{ca}-key"] = folder / f"{ca}.pem", folder / f"{ca}-key.pem"
        _openssl("req", "-x509", *key, "-keyout", files[f"{ca}-key"], "-out", files[ca], "-subj", f"/CN={ca}")
    for name, ca in (("node", "course-ca"), ("intruder", "intruder-ca")):
        files[name], files[f"{name}-key"] = folder / f"{name}.pem", folder / f"{name}-key.pem"
        _openssl("req", "-x509", *key, "-CA", files[ca], "-CAkey", files[f"{ca}-key"], "-keyout",
                 files[f"{name}-key"], "-out", files[name], "-subj", f"/CN={name}",
                 "-addext", "basicConstraints=critical,CA:FALSE")
    return files


def _dask(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "dask"), *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _tls(files: dict[str, Path], ca: str = "course-ca", name: str = "node") -> list[str]:
    return ["--tls-ca-file", str(files[ca]), "--tls-cert", str(files[name]), "--tls-key", str(files[f"{name}-key"])]


def _stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    """`dask scheduler` and one `dask worker` over TLS on 127.0.0.1, as the README starts them: (address, files)."""
    distributed = pytest.importorskip("distributed")
    folder = tmp_path_factory.mktemp("tls")
    files = make_certificates(folder)
    scheduler_file = folder / "scheduler.json"
    processes = [_dask("scheduler", "--host", "127.0.0.1", "--port", 0, "--protocol", "tls", *_tls(files),
                       "--no-dashboard", "--scheduler-file", scheduler_file)]
    try:
        deadline = time.monotonic() + 60
        while not (scheduler_file.is_file() and scheduler_file.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        env = dict(os.environ, AUTOGRADER_BUNDLES=str(folder / "bundles"))
        processes.append(_dask("worker", address, "--nthreads", 1, "--no-dashboard", *_tls(files), env=env))
        security = distributed.security.Security(tls_ca_file=str(files["course-ca"]),
                                                 tls_client_cert=str(files["node"]),
                                                 tls_client_key=str(files["node-key"]), require_encryption=True)
        with distributed.Client(address, security=security, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address, files, security
    finally:
        _stop(processes[1:])  # the worker first: without its scheduler it would wait to reconnect
        _stop(processes[:1])


def test_the_command_line_grades_on_a_cluster_over_tls(tmp_path, tls_cluster, capsys):
    address, files, _ = tls_cluster
    assert address.startswith("tls://127.0.0.1:")
    course = make_course(tmp_path)
    course.released_with("a-right", RIGHT)
    course.released_with("b-wrong", "def square(x):\n    return x * 2")
    output = tmp_path / "results.json"
    code = main(["--course", str(course.root), "grade", "toy", str(course.submissions), "--scheduler", address,
                 *_tls(files), "--json", str(output)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning" not in err
    report = json.loads(output.read_text())
    assert [(s["student"], s["score"]) for s in report["submissions"]] == [("a-right", 3.0), ("b-wrong", 0.0)]


def test_a_worker_without_a_certificate_of_the_course_cannot_join(tls_cluster):
    """The intruder's own CA and certificate; the course's CA trusted but the intruder's certificate; no TLS."""
    distributed = pytest.importorskip("distributed")
    address, files, security = tls_cluster
    intruders = [_dask("worker", scheduler, "--nthreads", 1, "--no-nanny", "--no-dashboard", "--death-timeout", 2,
                       *options)
                 for scheduler, options in ((address, _tls(files, "intruder-ca", "intruder")),
                                            (address, _tls(files, "course-ca", "intruder")),
                                            (address.replace("tls://", "tcp://", 1), []))]
    try:
        codes = [intruder.wait(timeout=60) for intruder in intruders]
    finally:
        _stop(intruders)
    assert codes == [1, 1, 1]  # each gave up: the scheduler never took it
    with distributed.Client(address, security=security, timeout="30s") as client:
        assert len(client.scheduler_info()["workers"]) == 1


def test_a_client_without_a_certificate_of_the_course_cannot_connect(tmp_path, tls_cluster, monkeypatch):
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "2s")
    address, files, _ = tls_cluster
    course = make_course(tmp_path)
    course.released_with("a", RIGHT)
    tasks = [Task(0, "a", course.submissions / "a.ipynb")]
    for ca, name, scheduler in (("intruder-ca", "intruder", address),  # its own CA: refused
                                ("course-ca", "intruder", address),  # trusts ours, but nobody trusts it
                                ("course-ca", "node", address.replace("tls://", "tcp://", 1))):  # no TLS at all
        with tls_settings(address, files[ca], files[name], files[f"{name}-key"]), \
                pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
            grade_on_cluster(course.assignment(), tasks, scheduler, lambda *_: pytest.fail("graded"))
