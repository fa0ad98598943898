"""Two service instances sharing one queue on a real PostgreSQL server (Debian's, started by the test on
a socket of its own, no TCP): every submission graded exactly once, none lost, with nbgrader's gradebook
in the same database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.service.store import Store
from servicecourse import RIGHT, Service, gradebook_course, upload, wait_final

pytestmark = pytest.mark.slow

STUDENTS = ("amy", "ben", "cat", "dan", "eve")


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture
def postgres():
    """A PostgreSQL server of its own in a new folder; the URL of its database."""
    folder = postgres_bin()
    if folder is None:
        pytest.skip("PostgreSQL is not installed (`apt-get install -y postgresql`)")
    pytest.importorskip("psycopg")
    # not under pytest's tmp_path: as root that is closed to the postgres user
    home = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    data, sockets = home / "pgdata", home / "pgsock"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as its own user
        home.chmod(0o755)
        shutil.chown(home, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *args: subprocess.run([*as_user, *map(str, args)], check=True, capture_output=True)  # noqa: E731
    run(folder / "initdb", "-D", data, "-U", "postgres", "--auth=trust")
    run(folder / "pg_ctl", "-D", data, "-w", "-l", home / "pg.log", "start", "-o",
        f"-c listen_addresses='' -c unix_socket_directories={sockets}")
    try:
        run(folder / "createdb", "-h", sockets, "-U", "postgres", "course")
        yield f"postgresql+psycopg://postgres@/course?host={sockets}"
    finally:
        run(folder / "pg_ctl", "-D", data, "-w", "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def test_two_instances_on_one_postgresql_queue_grade_each_submission_once(tmp_path, postgres, monkeypatch):
    from nbgrader.api import Gradebook

    # nbgrader makes a new gradebook with its alembic command, beside this Python
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    course = gradebook_course(tmp_path / "course")
    # PostgreSQL keeps nbgrader's foreign keys (SQLite does not): the course needs its id
    (course.root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "toy101"\n')
    with Gradebook(postgres, course_id="toy101") as gradebook:
        for student in STUDENTS:
            gradebook.update_or_create_student(student)
    store = Store(postgres)
    secrets = {student: store.tokens.new_token(student) for student in STUDENTS}
    first = Service(course, "--gradebook", postgres, "--jobs", "2")
    second = Service(course, "--gradebook", postgres, "--jobs", "2")
    try:
        ids = []
        for round_ in range(2):
            for student in STUDENTS:
                service = first if round_ == 0 else second  # both front doors take uploads
                with service.client(secrets[student]) as client:
                    answer = upload(client, course.released_with(student, RIGHT))
                    assert answer.status_code == 202, answer.text
                    ids.append((student, answer.json()["id"]))
        for student, ident in ids:
            with first.client(secrets[student]) as client:
                final = wait_final(client, ident, 120)
                assert final["status"] == "graded", final["message"]
        rows = store.listed()
        assert sorted(r["id"] for r in rows) == sorted(i for _, i in ids)  # none lost, none added
        assert all((r["status"], r["score"], r["attempts"]) == ("graded", 3.0, 1) for r in rows)
        graders = {r["claimed_by"] for r in rows}
        assert len(graders) == 2  # both instances graded
        with Gradebook(postgres) as gradebook:
            assert {s: gradebook.find_submission("toy", s).score for s in STUDENTS} == dict.fromkeys(
                STUDENTS, 3.0)
    finally:
        first.stop()
        second.stop()
        store.engine.dispose()


def test_two_instances_admit_no_submission_past_a_students_limit(postgres):
    """Two instances (two stores, two connection pools) count and queue the same student's uploads at the
    same moment, each one slow to put its notebook on disk: the limit holds across them."""
    import datetime
    import threading
    import time

    from autograder.service.store import now

    instances = [Store(postgres), Store(postgres)]
    since = now() - datetime.timedelta(minutes=60)
    assert instances[0].add_within("seen-1", "amy", "toy", "0" * 64, (since, 2), lambda: None)
    start = threading.Barrier(2)
    admitted = []

    def upload(store: Store, ident: str) -> None:
        start.wait()
        slow = lambda: time.sleep(0.5)  # noqa: E731  (the other instance counts meanwhile)
        admitted.append(store.add_within(ident, "amy", "toy", "0" * 64, (since, 2), slow))

    threads = [threading.Thread(target=upload, args=(store, f"new-{n}")) for n, store in enumerate(instances)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(admitted) == [False, True]  # one more, not one more for each instance
    assert sum(r["student"] == "amy" for r in instances[0].listed()) == 2
    for store in instances:
        store.engine.dispose()
