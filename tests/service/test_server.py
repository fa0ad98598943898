"""Grade on submit, end to end: the real `autograder serve` (uvicorn on 127.0.0.1, its grader
processes and sandboxed workers), real `autograder token` and `autograder submit`, HTTP from outside,
nbgrader's gradebook as the record; and a service killed with -9 in the middle of a grading."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time

import httpx
import psutil
import pytest

from autograder.service.auth import csrf_of
from autograder.service.server import submit, token
from commandline import finished, start
from servicecourse import LIMIT, RIGHT, Service, gradebook_course, sign_in, upload, wait_final

pytestmark = pytest.mark.slow

WRONG = "def square(x):\n    return x * 2"
SLOW = "import time\ntime.sleep(1.5)\n" + RIGHT


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    course = gradebook_course(tmp_path_factory.mktemp("course"))
    service = Service(course, "--jobs", "2", "--lease", "5")
    secrets = {name: token(course.root, None, name, False) for name in ("ada", "bob", "cat", "dee")}
    secrets["prof"] = token(course.root, None, "prof", True)
    yield service, secrets
    service.stop()


def wait_grading(client, ident: str) -> None:
    """Until the submission is being graded (the moment to stop or block the service)."""
    deadline = time.monotonic() + 30
    while client.get(f"/api/submissions/{ident}").json()["status"] != "grading":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_the_submit_command_uploads_waits_and_prints_the_score(served):
    service, secrets = served
    notebook = service.course.released_with("ada", RIGHT)
    done = finished(start("submit", str(notebook), "--url", service.url, "--token", secrets["ada"],
                          cwd=service.course.root.parent))
    assert done.returncode == 0, done.stderr
    assert "toy: graded, 3 / 3" in done.stdout and f"{service.url}/submissions/" in done.stdout
    feedback = done.stdout.split("feedback: ")[1].strip()
    with service.client(secrets["ada"]) as ada:
        page = ada.get(feedback)
    assert page.status_code == 200 and "square" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # no script on it at all


def test_a_graded_submission_is_nbgraders_record_too(served):
    from nbgrader.api import Gradebook

    service, secrets = served
    with service.client(secrets["bob"]) as bob:
        answer = upload(bob, service.course.released_with("bob", WRONG))
        assert answer.status_code == 202 and answer.json()["status"] == "queued"
        status = wait_final(bob, answer.json()["id"])
    assert (status["status"], status["score"], status["max_score"]) == ("graded", 0.0, 3.0)
    with Gradebook(f"sqlite:///{service.course.root / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission("toy", "bob").score == 0.0
    submitted = service.course.root / "submitted" / "bob" / "toy"
    assert (submitted / "toy.ipynb").read_text() == service.course.released_with("bob", WRONG).read_text()
    assert (submitted / "timestamp.txt").is_file()
    assert (service.course.root / "autograded" / "bob" / "toy" / "toy.ipynb").is_file()


def test_a_page_waiting_for_a_status_is_answered_once_it_changes(served):
    service, secrets = served
    with service.client(secrets["dee"]) as dee, service.client(secrets["bob"]) as bob:
        ident = upload(dee, service.course.released_with("dee", SLOW)).json()["id"]
        seen, statuses = "queued", []
        while seen not in ("graded", "invalid", "timeout", "crashed"):
            started = time.monotonic()
            status = dee.get(f"/api/submissions/{ident}", params={"seen": seen, "wait": 20}).json()
            assert status["status"] != seen and time.monotonic() - started < 15  # a change, not the wait's end
            seen = status["status"]
            statuses.append(seen)
        assert statuses[-1] == "graded" and set(statuses) <= {"grading", "graded"}
        started = time.monotonic()  # nothing changes: the answer comes when the wait is over, unchanged
        assert dee.get(f"/api/submissions/{ident}", params={"seen": "graded", "wait": 2}).json()["status"] == "graded"
        assert time.monotonic() - started >= 1.5
        assert bob.get(f"/api/submissions/{ident}", params={"seen": "graded", "wait": 20}).status_code == 404
        for wrong in ("soon", "-1", "\u00b2", "9" * 5000, "1.5"):  # '²' and 5,000 digits are digits to Python
            refused = dee.get(f"/api/submissions/{ident}", params={"seen": "graded", "wait": wrong})
            assert refused.status_code == 400 and "seconds" in refused.json()["error"], wrong

        # `autograder submit --wait 1` returns by then, a status that is not final yet included
        started = time.monotonic()
        slower = "import time\ntime.sleep(1.9)\n" + RIGHT
        status = submit(service.course.released_with("dee", slower), service.url, secrets["dee"], "toy", wait=1)
        assert time.monotonic() - started < 1.9 and status["status"] in ("queued", "grading")


def test_a_slow_status_read_holds_no_other_request(tmp_path):
    """The answer to a waiting request is read off the event loop: a database slow for a second (a lock
    held by nbgrader) delays that answer, not every other request of the service."""
    import asyncio

    from autograder.service.app import create_app
    from autograder.service.course import Course
    from autograder.service.server import gradebook_url

    toy = gradebook_course(tmp_path)
    course = Course(toy.root, gradebook_url(toy.root))  # not started: nothing grades it
    ident = course.receive("ada", toy.released_with("ada", RIGHT).read_bytes(), "toy.ipynb", "toy")
    position = course.store.position
    course.store.position = lambda ident: (time.sleep(1.0), position(ident))[1]
    headers = {"Authorization": f"Bearer {token(toy.root, None, 'ada', False)}"}

    async def both() -> float:
        transport = httpx.ASGITransport(app=create_app(course))
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            status = asyncio.create_task(client.get(f"/api/submissions/{ident}"))
            started = time.monotonic()
            assert (await client.get("/static/service.js")).status_code == 200
            took = time.monotonic() - started
            assert (await status).status_code == 200
            return took

    assert asyncio.run(both()) < 0.5


def test_a_service_stopped_answers_the_pages_waiting_at_once(tmp_path):
    import threading

    course = gradebook_course(tmp_path)
    service = Service(course)
    secret = token(course.root, None, "ada", False)
    with service.client(secret) as ada:
        ident = upload(ada, course.released_with("ada", RIGHT)).json()["id"]
        wait_final(ada, ident)

    def waiting():
        with service.client(secret) as ada, contextlib.suppress(httpx.HTTPError):
            ada.get(f"/api/submissions/{ident}", params={"seen": "graded", "wait": 20})

    threading.Thread(target=waiting, daemon=True).start()
    time.sleep(0.5)
    started = time.monotonic()
    service.stop()
    assert time.monotonic() - started < 8  # not the 20 s the page asked to wait


def test_each_student_sees_only_their_own(served):
    service, secrets = served
    with service.client(secrets["ada"]) as ada, service.client(secrets["bob"]) as bob:
        mine = upload(ada, service.course.released_with("ada", RIGHT)).json()["id"]
        wait_final(ada, mine)
        for path in (f"/api/submissions/{mine}", f"/submissions/{mine}", f"/submissions/{mine}/feedback"):
            assert bob.get(path).status_code == 404, path  # as an unknown id is
            assert ada.get(path).status_code == 200, path
        assert mine not in bob.get("/api/submissions").text
        assert bob.get("/api/submissions", params={"student": "ada"}).json()["submissions"] == [
            s for s in bob.get("/api/submissions").json()["submissions"]]  # the filter is the instructor's
        assert bob.get("/instructor").status_code == 403
    with service.client() as stranger:
        assert stranger.get(f"/api/submissions/{mine}").status_code == 401
        assert stranger.post("/api/submissions").status_code == 401
    with service.client(secrets["prof"]) as prof:
        everyone = {s["id"] for s in prof.get("/api/submissions").json()["submissions"]}
        assert mine in everyone  # an instructor sees every student's
        assert "ada,toy,graded" in prof.get("/instructor/scores.csv").text
        assert "/instructor/report/toy" in prof.get("/instructor").text
        report = prof.get("/instructor/report/toy")
        assert report.status_code == 200 and "toy: class report" in report.text
        assert "frame-ancestors 'none'" in report.headers["content-security-policy"]
        counting = [r for r in prof.get("/api/class").json()["submissions"] if r["score"] is not None]
        assert f"<p>{len(counting)} submission(s); " in report.text  # one per student: the one that counts
        assert prof.get("/instructor/report/nope").status_code == 404
    with service.client(secrets["ada"]) as ada:
        assert ada.get("/instructor/report/toy").status_code == 403


def test_what_is_not_a_notebook_is_refused_and_nothing_is_stored(served, tmp_path):
    service, secrets = served
    inbox = service.course.root / "service" / "inbox"
    before = sorted(inbox.iterdir()) if inbox.is_dir() else []  # (made by the first upload)
    bad = tmp_path / "answers.py"
    bad.write_text("def square(x): return x * x\n")
    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * (21 * 1024 * 1024))
    with service.client(secrets["ada"]) as ada:
        listed = len(ada.get("/api/submissions").json()["submissions"])
        refused = upload(ada, bad)
        assert refused.status_code == 400 and "not a notebook" in refused.json()["error"]
        assert upload(ada, big).status_code == 413
        assert upload(ada, service.course.released_with("ada", RIGHT), "nope").status_code == 404
        assert len(ada.get("/api/submissions").json()["submissions"]) == listed
    assert (sorted(inbox.iterdir()) if inbox.is_dir() else []) == before


def test_form_posts_need_the_pages_own_token(served):
    service, secrets = served
    with service.client() as browser:
        signed = sign_in(browser, secrets["bob"])
        assert signed.status_code == 200 and 'http-equiv="refresh" content="0; url=/"' in signed.text
        assert "httponly" in signed.headers["set-cookie"].lower()
        assert "samesite=strict" in signed.headers["set-cookie"].lower()
        home = browser.get("/")
        assert home.status_code == 200 and "Your assignments" in home.text
        assert home.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in home.headers[
            "content-security-policy"]
        notebook = service.course.released_with("bob", RIGHT)
        files = {"notebook": (notebook.name, notebook.read_bytes())}
        forged = browser.post("/submit", data={"assignment": "toy"}, files=files)
        assert forged.status_code == 403
        session = browser.cookies["autograder"]
        assert session != secrets["bob"]  # a session of its own, not the link's token
        posted = browser.post("/submit", data={"assignment": "toy", "csrf": csrf_of(session)},
                              files=files, follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"].startswith("/submissions/")
        assert browser.get(posted.headers["location"]).status_code == 200
        bad = browser.get("/login", params={"token": "nope"})
        assert bad.status_code == 403
        out = browser.post("/logout", data={"csrf": csrf_of(session)}, follow_redirects=False)
        assert out.status_code == 303 and "autograder" not in browser.cookies
    with service.client() as stolen:  # the cookie of a signed-out session is worth nothing
        stolen.cookies.set("autograder", session)
        assert "Your assignments" not in stolen.get("/").text
        assert stolen.get(posted.headers["location"]).status_code == 401


def test_a_student_over_the_limit_is_told_to_wait(tmp_path):
    course = gradebook_course(tmp_path)
    service = Service(course, "--lease", "5")
    try:
        secret = token(course.root, None, "ada", False)
        with service.client(secret) as ada:
            notebook = course.released_with("ada", RIGHT)
            answers = [upload(ada, notebook) for _ in range(LIMIT + 1)]
            assert [a.status_code for a in answers] == [202] * LIMIT + [429]
            assert "try again later" in answers[-1].json()["error"]
            for answer in answers[:LIMIT]:
                assert wait_final(ada, answer.json()["id"])["status"] == "graded"
    finally:
        service.stop()


def test_killed_with_minus_9_while_grading_nothing_is_lost_and_nothing_graded_twice(tmp_path):
    course = gradebook_course(tmp_path)
    service = Service(course, "--lease", "3")
    secret = token(course.root, None, "ada", False)
    with service.client(secret) as ada:
        ident = upload(ada, course.released_with("ada", SLOW)).json()["id"]
        wait_grading(ada, ident)
    os.kill(service.process.pid, signal.SIGKILL)
    finished(service.process, 30)  # its pipes closed
    restarted = Service(course, "--lease", "3")
    try:
        with restarted.client(secret) as ada:
            status = wait_final(ada, ident, 90)
        assert (status["status"], status["score"]) == ("graded", 3.0)
        rows = sqlite3.connect(course.root / "gradebook.db").execute(
            "select status, attempts from autograder_submission").fetchall()
        assert rows == [("graded", 2)]  # one submission, begun twice, graded once
    finally:
        restarted.stop()
    # the killed service's grader processes died with it, the restarted one's with its stop
    assert [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
            if str(course.root) in " ".join(p.info["cmdline"] or [])] == []


def test_a_database_locked_for_a_while_delays_grading_and_never_stops_it(tmp_path):
    """An instructor's nbgrader or a backup holding the gradebook longer than SQLite waits: the
    submission it held up still gets a final status once the lock is gone (graded, or crashed saying
    the gradebook was locked: an instructor regrades it), and the grader goes on with the next ones."""
    import threading

    course = gradebook_course(tmp_path)
    database = course.root / "gradebook.db"
    service = Service(course, "--gradebook", f"sqlite:///{database}?timeout=0.2", "--lease", "30")
    try:
        secret = token(course.root, None, "ada", False)
        with service.client(secret) as ada:
            first = upload(ada, course.released_with("ada", SLOW)).json()["id"]
            wait_grading(ada, first)
            locked, release = threading.Event(), threading.Event()

            def hold() -> None:
                holder = sqlite3.connect(database, isolation_level=None)
                holder.execute("BEGIN EXCLUSIVE")
                locked.set()
                release.wait()
                holder.execute("COMMIT")
                holder.close()

            holder = threading.Thread(target=hold)
            holder.start()
            locked.wait()
            time.sleep(4)  # past the grading of the first: its status cannot be written yet
            release.set()
            holder.join()
            status = wait_final(ada, first)
            assert status["status"] == "graded" or "database is locked" in status["message"], status
            second = upload(ada, course.released_with("ada", RIGHT)).json()["id"]
            assert wait_final(ada, second)["status"] == "graded"  # the grader is still there
    finally:
        service.stop()


def test_bodies_are_bounded_as_they_arrive_and_the_api_takes_no_cookie(served, tmp_path):
    service, secrets = served
    inbox = service.course.root / "service" / "inbox"
    before = sorted(inbox.iterdir()) if inbox.is_dir() else []  # (made by the first upload)

    def chunks(head=b""):  # no Content-Length: only counting what arrives can stop it
        yield head
        for _ in range(40):
            yield b"x" * (1 << 20)

    part = (b'--b\r\nContent-Disposition: form-data; name="notebook"; filename="a.ipynb"\r\n'
            b"Content-Type: application/json\r\n\r\n")

    with service.client() as stranger:
        try:
            answer = stranger.post("/logout", content=chunks(part),
                                   headers={"content-type": "multipart/form-data; boundary=b"},
                                   cookies={"autograder": secrets["ada"]})
            assert answer.status_code == 413
        except httpx.HTTPError:
            pass  # the service stopped reading and closed the connection: as good
    with service.client(secrets["ada"]) as ada:
        try:
            answer = ada.post("/api/submissions", content=chunks(part),
                              headers={"content-type": "multipart/form-data; boundary=b"})
            assert answer.status_code == 413
        except httpx.HTTPError:
            pass
    notebook = service.course.released_with("bob", RIGHT)
    with service.client() as browser:  # a page of another site posting with bob's cookie
        sign_in(browser, secrets["bob"])
        assert "Your assignments" in browser.get("/").text
        posted = browser.post("/api/submissions", files={"notebook": (notebook.name, notebook.read_bytes())})
        assert posted.status_code == 401
    amplified = tmp_path / "many.ipynb"  # a small file whose parsing would build millions of objects
    amplified.write_text('{"cells": [], "metadata": {"x": [' + "[]," * 2_100_000 + '[]]}, "nbformat": 4}')
    with service.client(secrets["ada"]) as ada:
        refused = upload(ada, amplified)
        assert refused.status_code == 413 and "items" in refused.json()["error"]
    assert (sorted(inbox.iterdir()) if inbox.is_dir() else []) == before


def test_concurrent_uploads_do_not_pass_the_limit(served):
    from concurrent.futures import ThreadPoolExecutor

    service, secrets = served
    notebook = service.course.released_with("cat", RIGHT)

    def one(_):
        with service.client(secrets["cat"]) as cat:
            return upload(cat, notebook).status_code

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(one, range(12)))
    assert sorted(codes) == [202] * LIMIT + [429] * (12 - LIMIT)


def test_a_link_of_another_person_asks_before_it_replaces_a_sign_in(served):
    """A classmate's link (their token) would make the victim's next submissions theirs: it signs in
    only with a click on a page that names them, and never by a post from another site."""
    service, secrets = served
    with service.client() as browser:
        sign_in(browser, secrets["ada"])
        adas = browser.cookies.get("autograder")
        asked = browser.get("/login", params={"token": secrets["bob"]})
        assert asked.status_code == 200 and "Sign in as bob?" in asked.text and "You are signed in as" in asked.text
        assert browser.cookies.get("autograder") == adas  # opening a link changes nothing
        forged = browser.post("/login", data={"token": secrets["bob"]}, follow_redirects=False)
        assert forged.status_code == 403  # a post without the page's own form
        with service.client() as elsewhere:  # a page of another site: it has no cookie of this one
            blind = elsewhere.post("/login", data={"token": secrets["bob"], "login": "guess"})
            assert blind.status_code == 403 and "autograder" not in elsewhere.cookies
        assert browser.cookies.get("autograder") == adas  # unchanged until confirmed
        confirmed = sign_in(browser, secrets["bob"])
        assert confirmed.status_code == 200 and browser.cookies.get("autograder") != adas
        assert "bob" in browser.get("/").text


def test_a_full_disk_receives_nothing_and_says_so(tmp_path, monkeypatch):
    """No room on the course's disk for an upload and the reserve the gradings need, or a disk that refuses
    the write: a 507 that says what to do, and nothing of it kept or queued."""
    import asyncio

    from autograder.service import inbox
    from autograder.service.app import create_app
    from autograder.service.course import Course
    from autograder.service.server import gradebook_url

    toy = gradebook_course(tmp_path)
    course = Course(toy.root, gradebook_url(toy.root))  # not started: nothing grades
    data = toy.released_with("ada", RIGHT).read_bytes()
    headers = {"Authorization": f"Bearer {token(toy.root, None, 'ada', False)}"}

    def upload_now() -> httpx.Response:
        async def one():
            transport = httpx.ASGITransport(app=create_app(course))
            async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
                return await client.post("/api/submissions", data={"assignment": "toy"},
                                         files={"notebook": ("toy.ipynb", data)})
        return asyncio.run(one())

    monkeypatch.setattr(inbox, "RESERVE_BYTES", 2**62)  # more than any disk has free
    full = upload_now()
    assert full.status_code == 507 and "disk is full" in full.json()["error"], full.text
    monkeypatch.setattr(inbox, "RESERVE_BYTES", 0)
    folder = toy.root / "service" / "inbox"
    monkeypatch.setattr(course.store, "new_id", lambda: "f00d")
    (folder / "f00d.partial").mkdir(parents=True)  # where the write goes, a folder: the disk says no
    refused = upload_now()
    assert refused.status_code == 507 and "disk is full" in refused.json()["error"], refused.text
    assert [p.name for p in folder.iterdir()] == ["f00d.partial"] and course.store.listed() == []
    (folder / "f00d.partial").rmdir()
    assert upload_now().status_code == 202 and len(course.store.listed()) == 1  # room again
    course.store.engine.dispose()
