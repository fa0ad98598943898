"""The service's pages in a real browser (Playwright driving Debian's chromium, nothing downloaded): a
student signs in with a link, uploads, and sees the status change to graded and the feedback page
without reloading; an instructor's table follows the class the same way; the CSP holds with no
violation reported."""

from __future__ import annotations

import time

import pytest

from autograder.service.server import token
from servicecourse import RIGHT, Service, browser, gradebook_course, upload, wait_final, watched

pytestmark = pytest.mark.slow


def test_a_student_and_an_instructor_follow_a_submission_without_reloading(browser, tmp_path):
    course = gradebook_course(tmp_path)
    service = Service(course, "--jobs", "1")
    try:
        student = token(course.root, None, "ada", False)
        teacher = token(course.root, None, "prof", True)
        context, page, complaints = watched(browser)
        staff, table, staff_complaints = watched(browser)
        table.goto(f"{service.url}/login?token={teacher}")
        table.click("button:has-text('Sign in as prof')")
        table.wait_for_url(f"{service.url}/instructor")

        page.goto(f"{service.url}/login?token={student}")
        assert "This link signs in ada" in " ".join(page.inner_text("main").split())
        page.click("button:has-text('Sign in as ada')")
        page.wait_for_url(f"{service.url}/")
        assert page.inner_text("h1") == "Your assignments"
        page.set_input_files("input[name=notebook]", str(course.released_with("ada", RIGHT)))
        page.click("form[action='/submit'] button")
        page.wait_for_url(f"{service.url}/submissions/*")
        loaded = page.evaluate("performance.timeOrigin")
        page.wait_for_selector(".status:text('graded')", timeout=60_000)
        assert page.inner_text(".score") == "3 / 3"
        assert page.evaluate("performance.timeOrigin") == loaded  # the same page: it was never reloaded
        page.click("text=Read the feedback")
        assert "square" in page.content()

        # the instructor's table shows ada's submission, then her second, without anyone reloading it
        table.wait_for_selector("td:text('ada')", timeout=30_000)
        with service.client(student) as ada:
            second = upload(ada, course.released_with("ada", "def square(x):\n    return x * 2"))
            wait_final(ada, second.json()["id"])
        deadline = time.monotonic() + 30  # no script of ours may be evaluated on the page: the CSP
        while table.inner_text("tr[data-id] td:nth-child(5)") != "2":
            assert time.monotonic() < deadline, table.content()
            table.wait_for_timeout(200)
        table.wait_for_selector("tr[data-id] .score:text('0 / 3')", timeout=10_000)
        assert complaints == [] and staff_complaints == []
        context.close()
        staff.close()
    finally:
        service.stop()


def test_a_page_whose_submission_is_out_of_reach_asks_again_calmly(browser):
    """Signed out in another tab, a token revoked, a submission gone: the API's error answers the page's
    wait at once, and the page asks again after a pause, not in a tight loop."""
    from autograder.service.pages import SCRIPT

    page_html = ('<html><body><p data-submission="/api/submissions/x"><strong class="status">graded</strong>'
                 '<span class="score"></span><span class="position"></span></p><p class="message"></p>'
                 '<a class="feedback"></a><script src="/static/service.js"></script></body></html>')
    asked = []

    def answer(route):
        url = route.request.url
        if url.endswith("/page"):
            return route.fulfill(body=page_html, content_type="text/html")
        if url.endswith("/static/service.js"):
            return route.fulfill(body=SCRIPT, content_type="text/javascript")
        asked.append(url)
        return route.fulfill(status=401, body='{"error": "sign in first"}', content_type="application/json")

    context = browser.new_context()
    page = context.new_page()
    page.route("http://autograder.test/**", answer)
    page.goto("http://autograder.test/page")
    page.wait_for_timeout(2000)
    context.close()
    assert 1 <= len(asked) <= 5, f"{len(asked)} requests in 2 s"
