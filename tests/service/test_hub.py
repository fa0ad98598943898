"""The service as a JupyterHub service: a real JupyterHub (the dummy authenticator) behind the real
configurable-http-proxy starts `autograder serve` as a managed service; in Debian's chromium a student
signs in through the Hub, submits and reads the score, and a member of the Hub's instructors group
sees the class. A sign-in not started by this browser, or refused by the Hub, signs no one in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from servicecourse import RIGHT, browser, free_port, gradebook_course, watched

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
PASSWORD = "course-pw"


def proxy_command() -> str:
    found = REPO / ".venv" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    path = str(found) if found.exists() else shutil.which("configurable-http-proxy")
    if path is None:
        pytest.skip("configurable-http-proxy is not installed (`make test` installs it with npm, "
                    "when npm is on the machine): the JupyterHub sign-in is not tried")
    return path


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    pytest.importorskip("jupyterhub")
    proxy = proxy_command()
    course = gradebook_course(tmp_path_factory.mktemp("course"))
    where = tmp_path_factory.mktemp("hub")
    public, internal, api, service = (free_port() for _ in range(4))
    (where / "jupyterhub_config.py").write_text(f"""
c.JupyterHub.bind_url = "http://127.0.0.1:{public}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{internal}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allow_all = True
c.JupyterHub.load_groups = {{"teachers": {{"users": ["prof"]}}}}
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service=autograder"]}},
]
c.JupyterHub.services = [{{
    "name": "autograder",
    "url": "http://127.0.0.1:{service}",
    "command": [{sys.executable!r}, "-m", "autograder", "serve", "--hub-instructors", "teachers"],
    "cwd": {str(course.root)!r},
    "oauth_no_confirm": True,
    "environment": {{"AUTOGRADER_SANDBOX": {os.environ.get("AUTOGRADER_SANDBOX", "")!r}}},
}}]
""")
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    log = open(where / "hub.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
                               cwd=where, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{public}"
    deadline = time.monotonic() + 90
    while True:  # the Hub, the proxy's route and the service itself all answer
        try:
            if httpx.get(f"{url}/services/autograder/", timeout=2).status_code == 303:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError((where / "hub.log").read_text()[-4000:])
        time.sleep(0.3)
    yield course, url
    process.terminate()  # the Hub stops the proxy and the service it started
    try:
        process.wait(60)
    finally:
        process.kill()
        log.close()


def sign_in(page, url: str, user: str) -> None:
    page.goto(f"{url}/services/autograder/")
    page.wait_for_url("**/hub/login**")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    base = f"{url}/services/autograder/"
    # the callback's page goes on to the service's own (its session cookie with it)
    page.wait_for_url(lambda now: now.startswith(base) and "oauth_callback" not in now)
    page.wait_for_load_state()


def test_a_student_signs_in_through_the_hub_and_submits(hub, browser):
    from nbgrader.api import Gradebook

    course, url = hub
    base = f"{url}/services/autograder"
    context, page, complaints = watched(browser)
    sign_in(page, url, "dan")  # a Hub user nbgrader's roster does not have yet
    assert page.url == f"{base}/" and page.inner_text("h1") == "Your assignments"
    page.set_input_files("input[name=notebook]", str(course.released_with("dan", RIGHT)))
    page.click("form[action$='/submit'] button")
    page.wait_for_url(f"{base}/submissions/*")
    page.wait_for_selector(".status:text('graded')", timeout=60_000)
    assert page.inner_text(".score") == "3 / 3"
    page.click("text=Read the feedback")
    assert "square" in page.content()
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission("toy", "dan").score == 3  # on the roster, and graded
    assert complaints == []
    page.goto(f"{base}/instructor")
    assert "only the course's instructors" in page.content()
    complaints.clear()  # the 403 of that page

    staff, table, staff_complaints = watched(browser)
    sign_in(table, url, "prof")  # in the Hub group given by --hub-instructors
    assert table.url == f"{base}/instructor"
    table.wait_for_selector("td:text('dan')")
    assert complaints == [] and staff_complaints == []

    session = next(c["value"] for c in context.cookies() if c["name"] == "autograder")
    page.goto(f"{base}/")
    page.click("header button")  # sign out: of the service, and of the Hub
    page.wait_for_url(f"{url}/hub/**")
    page.goto(f"{base}/")
    page.wait_for_url("**/hub/login**")  # a new sign-in is needed
    with httpx.Client() as stolen:  # the old session's cookie is worth nothing
        stolen.cookies.set("autograder", session)
        assert stolen.get(f"{base}/api/submissions").status_code == 401
    context.close()
    staff.close()


def test_a_sign_in_not_started_by_this_browser_signs_no_one_in(hub):
    course, url = hub
    base = f"{url}/services/autograder"
    with httpx.Client() as stranger:
        started = stranger.get(f"{base}/hub-login")
        assert started.status_code == 303 and "/hub/api/oauth2/authorize" in started.headers["location"]
        assert "state=" in started.headers["location"]
        forged = stranger.get(f"{base}/oauth_callback", params={"code": "x", "state": "guessed"})
        assert forged.status_code == 403 and "not started here" in forged.text
        assert "autograder" not in stranger.cookies
        state = stranger.cookies["autograder-oauth-state"]
        wrong = stranger.get(f"{base}/oauth_callback", params={"code": "not-a-code", "state": state})
        assert wrong.status_code == 403 and "did not confirm" in wrong.text
        refused = stranger.get(f"{base}/oauth_callback", params={"error": "access_denied", "state": state})
        assert refused.status_code == 403 and "access_denied" in refused.text
        assert "autograder" not in stranger.cookies
        assert stranger.get(f"{base}/api/submissions").status_code == 401
