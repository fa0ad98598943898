"""A course as the service serves it in tests: the toy course with nbgrader's gradebook and roster,
the real `autograder serve` on a free port of 127.0.0.1, and the API's calls the tests make."""

from __future__ import annotations

import shutil
import signal
import socket
import time
from pathlib import Path

import httpx
import nbformat
import pytest

from commandline import finished, start
from toycourse import make_course

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
LIMIT = 4  # submissions per student in the window


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gradebook_course(tmp_path):
    """The toy course as nbgrader knows it: the master's grade cell worth the part's points, released
    with nbgrader, ada, bob, cat and dee on the gradebook's roster, LIMIT submissions an hour."""
    from nbgrader.api import Gradebook

    from autograder.verbs.release import release

    course = make_course(tmp_path, toml_extra=f"\n[service]\nsubmissions = {LIMIT}\n")
    master = nbformat.read(course.master, as_version=4)
    for cell in master.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_square":
            cell.metadata["nbgrader"]["points"] = 3
    nbformat.write(master, course.master)
    course.release.unlink()
    release(course.assignment())
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        for student in ("ada", "bob", "cat", "dee"):
            gradebook.update_or_create_student(student)
    return course


class Service:
    def __init__(self, course, *options: str):
        """`course`: a toy course (its `root`), or the folder of one."""
        self.course, self.port = course, free_port()
        root = course if isinstance(course, Path) else course.root
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = start("serve", "--port", str(self.port), *options, cwd=root)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(finished(self.process).stderr) from None
                time.sleep(0.2)

    def client(self, secret: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        finished(self.process, 60)


def wait_final(client: httpx.Client, ident: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(f"/api/submissions/{ident}").json()
        if status["status"] not in ("queued", "grading"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"{ident} not graded in {seconds} s: {status}")


def upload(client: httpx.Client, path, assignment: str | None = "toy") -> httpx.Response:
    data = {"assignment": assignment} if assignment else {}
    with open(path, "rb") as handle:
        return client.post("/api/submissions", data=data, files={"notebook": (path.name, handle)})


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (nothing downloaded)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed (`apt-get install -y chromium`): the pages are not tried")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


def watched(browser):
    """A page of its own, and the console's complaints (a CSP violation is one)."""
    context = browser.new_context()
    page = context.new_page()
    complaints = []
    page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    return context, page, complaints


def sign_in(client: httpx.Client, secret: str) -> httpx.Response:
    """A sign-in link opened and its button clicked: the answer to the click."""
    import re

    page = client.get("/login", params={"token": secret})
    assert page.status_code == 200, page.text
    login = re.search(r'name="login" value="([^"]+)"', page.text)[1]
    return client.post("/login", data={"token": secret, "login": login}, follow_redirects=False)
