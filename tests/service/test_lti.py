"""LTI 1.3 launches against a platform of our own (tests/ltiplatform.py) on 127.0.0.1: the real
`autograder lti register`, the real service, and every check of a launch: a right one signs a learner
in (on nbgrader's roster by their LMS id) or an instructor; each forged, replayed or foreign one is a
page that says what failed and signs no one in. Then a launch in Debian's chromium, end to end."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from commandline import finished, start
from ltiplatform import CLIENT_ID, DEPLOYMENT, LEARNER, Platform, form_fields, login_query, new_key
from servicecourse import RIGHT, Service, browser, gradebook_course, wait_final, watched

pytestmark = pytest.mark.slow
STATE = "autograder-lti-state"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
WRONG = "def square(x):\n    return x * 2"


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    from nbgrader.api import Gradebook

    course = gradebook_course(tmp_path_factory.mktemp("course"))
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:  # a roster with e-mails
        gradebook.update_or_create_student("ada", email="Ada@uni.example")
    platform = Platform()
    done = finished(start(*platform.register_args(), cwd=course.root))
    assert done.returncode == 0 and "registered" in done.stdout, done.stderr
    service = Service(course)
    platform.tool = service.url
    box = [course, platform, service]  # a test may start the service again: the last one is stopped
    yield box
    box[2].stop()
    platform.stop()


def begin(service, platform, user: str = "ada") -> tuple[str, str]:
    """A login begun at the tool, as the platform begins it: the state (the cookie) and the nonce."""
    answer = httpx.get(f"{service.url}/lti/login?{login_query(platform, user)}")
    assert answer.status_code == 302, answer.text
    sent = parse_qs(urlsplit(answer.headers["location"]).query)
    assert answer.headers["location"].startswith(f"{platform.url}/auth?")
    assert sent["redirect_uri"] == [f"{service.url}/lti/launch"] and sent["client_id"] == [CLIENT_ID]
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=none" in cookie
    assert sent["state"][0] == answer.cookies[STATE]
    return sent["state"][0], sent["nonce"][0]


def launch(service, state: str, token: str, cookie: str | None = None) -> httpx.Response:
    return httpx.post(f"{service.url}/lti/launch", data={"id_token": token, "state": state},
                      headers={"Cookie": f"{STATE}={cookie or state}"})


def refused(answer: httpx.Response, why: str) -> None:
    assert answer.status_code == 403, answer.text
    assert "The launch from your LMS was refused" in answer.text and why in answer.text, answer.text
    assert "autograder=" not in answer.headers.get("set-cookie", "")  # no session


def me(service, answer: httpx.Response) -> dict:
    session = answer.cookies["autograder"]
    return httpx.get(f"{service.url}/api/me", cookies={"autograder": session}).json()


def test_a_learner_is_signed_in_and_put_on_the_roster_by_their_lms_id(lms):
    from nbgrader.api import Gradebook, Student

    course, platform, service = lms
    state, nonce = begin(service, platform, "ada")
    answer = launch(service, state, platform.id_token("ada", nonce))
    assert answer.status_code == 200 and 'http-equiv="refresh"' in answer.text, answer.text
    assert me(service, answer) == {"student": "ada", "role": "learner"}  # the roster's e-mail
    state, nonce = begin(service, platform, "dan")
    assert me(service, launch(service, state, platform.id_token("dan", nonce))) == {
        "student": "dan.o", "role": "learner"}
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        found = gradebook.db.query(Student).filter_by(lms_user_id="lms-1004").one()
        assert found.id == "dan.o" and found.email == "dan.o@uni.example"  # their SIS id
    assert httpx.get(f"{service.url}/api/me").status_code == 401


def test_no_lms_user_takes_a_student_by_a_name_they_can_choose(lms):
    """bob signs in by a token; an LMS user whose e-mail says bob@..., or who has ada's user id on
    another platform, is someone else."""
    _, platform, service = lms
    state, nonce = begin(service, platform, "mallory")
    mallory = me(service, launch(service, state, platform.id_token("mallory", nonce)))
    assert mallory["student"].startswith("lti-") and mallory["role"] == "learner"
    second = Platform()  # another LMS, registered too, whose user lms-1001 is not ada
    try:
        second.tool = service.url
        done = finished(start(*second.register_args(), cwd=lms[0].root))
        assert done.returncode == 0, done.stderr
        state, nonce = begin(service, second, "twin")
        twin = me(service, launch(service, state, second.id_token("twin", nonce)))
        assert twin["student"] not in ("ada", mallory["student"])
    finally:
        second.stop()


def test_an_instructor_is_signed_in_as_one(lms):
    _, platform, service = lms
    state, nonce = begin(service, platform, "prof")
    answer = launch(service, state, platform.id_token("prof", nonce))
    assert me(service, answer) == {"student": "prof", "role": "instructor"}
    classes = httpx.get(f"{service.url}/api/class", cookies={"autograder": answer.cookies["autograder"]})
    assert classes.status_code == 200


def test_every_forged_or_foreign_launch_is_refused_with_what_failed(lms):
    _, platform, service = lms
    other = new_key()
    public = platform.keys[platform.kid].public_key()
    from cryptography.hazmat.primitives import serialization

    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    cases = [
        (lambda n: platform.id_token("ada", n, key=other), "signature does not verify"),
        (lambda n: jwt.encode(platform.claims("ada", n), None, algorithm="none", headers={"kid": platform.kid}),
         "only RS256"),
        (lambda n: hs256(platform.claims("ada", n), pem, platform.kid), "only RS256"),
        (lambda n: platform.id_token("ada", n, kid="no-such-key"), "has no key"),
        (lambda n: platform.id_token("ada", n, aud="another-tool"), "not for this tool (aud)"),
        (lambda n: platform.id_token("ada", n, aud=[CLIENT_ID, "x"]), "authorized party (azp)"),
        (lambda n: platform.id_token("ada", n, iss="https://evil.example"), "not from the platform (iss)"),
        (lambda n: platform.id_token("ada", n, exp=int(time.time()) - 120), "expired"),
        (lambda n: platform.id_token("ada", n, iat=int(time.time()) + 600), "not valid"),
        (lambda n: platform.id_token("ada", "another-nonce"), "nonce is not the one"),
        (lambda n: platform.id_token("ada", n, **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id":
                                                  "unknown-deployment"}), "deployment is not registered"),
        (lambda n: platform.id_token("ada", n, **{"https://purl.imsglobal.org/spec/lti/claim/target_link_uri":
                                                  "https://evil.example/"}), "another tool (target_link_uri)"),
        (lambda n: platform.id_token("ada", n, **{"https://purl.imsglobal.org/spec/lti/claim/version": "1.1"}),
         "not LTI version 1.3.0"),
        (lambda n: platform.id_token("ada", n, **{"https://purl.imsglobal.org/spec/lti/claim/roles": None}),
         "gives no roles"),
        (lambda n: jwt.encode({k: v for k, v in platform.claims("ada", n).items() if k != "nonce"},
                              platform.keys[platform.kid], algorithm="RS256", headers={"kid": platform.kid}),
         'missing the &#34;nonce&#34; claim'),
        (lambda n: "not.a.jwt", "not a JSON Web Token"),
        (lambda n: platform.id_token("ada", n, sub="\ud800"), "names no user (sub)"),
    ]
    for make, why in cases:
        state, nonce = begin(service, platform)
        refused(launch(service, state, make(nonce)), why)


def hs256(claims: dict, pem: bytes, kid: str) -> str:
    """HS256 keyed with the platform's public key: the classic confusion of algorithms."""
    import base64
    import hashlib
    import hmac
    import json

    def part(data: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signed = part({"alg": "HS256", "typ": "JWT", "kid": kid}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(pem, signed, hashlib.sha256).digest()).rstrip(b"=")
    return (signed + b"." + signature).decode()


def test_a_registration_for_one_course_refuses_launches_from_the_others(lms):
    course, platform, service = lms
    done = finished(start(*platform.register_args(), "--context-id", "course-1", cwd=course.root))
    assert done.returncode == 0 and "course(s) course-1 only" in done.stdout, done.stderr
    claim = "https://purl.imsglobal.org/spec/lti/claim/context"
    state, nonce = begin(service, platform)
    refused(launch(service, state, platform.id_token("ada", nonce, **{claim: {"id": "course-2"}})),
            "another course of the LMS")
    state, nonce = begin(service, platform)
    assert launch(service, state, platform.id_token("ada", nonce)).status_code == 200


def test_a_flood_of_logins_forgets_the_oldest_and_delays_no_real_one(lms, monkeypatch):
    from autograder.service import lti_store
    from autograder.service.store import Store

    course, platform, _ = lms
    store = lti_store.LtiStore(Store(f"sqlite:///{course.root / 'gradebook.db'}").engine)
    monkeypatch.setattr(lti_store, "MAX_PENDING", 5)
    registered = store.platforms(platform.issuer)[0]
    first = store.begin(registered)
    for _ in range(5):
        last = store.begin(registered)
    assert store.finish(first[0]) is None and store.finish(last[0]).nonce == last[1]


def test_an_lms_answer_of_another_shape_is_a_failure_said_and_tried_again(lms):
    from autograder.service.lti_outbox import Outbox, Sender
    from autograder.service.lti_store import LtiStore
    from autograder.service.store import Store

    course, platform, _ = lms
    engine = Store(f"sqlite:///{course.root / 'gradebook.db'}").engine
    sender = Sender(Outbox(engine), LtiStore(engine), course.root)
    member = {"sub": "lms-1", "issuer": platform.issuer, "client_id": CLIENT_ID,
              "lineitems": f"{platform.url}/lineitems"}
    sender.outbox.member = lambda student: member  # where this one row goes
    row = {"id": "x", "student": "nobody", "assignment": "toy", "score": 1.0, "max_score": 3.0,
           "timestamp": "2026-12-07T00:00:00+00:00", "attempts": 0}
    platform.odd = True
    try:
        sent, answer = sender._send(row)
    finally:
        platform.odd = False
    assert not sent and "not a list" in answer


def test_a_launch_is_used_once_and_only_in_the_browser_that_began_it(lms):
    _, platform, service = lms
    state, nonce = begin(service, platform)
    token = platform.id_token("ada", nonce)
    other_state, _ = begin(service, platform)
    refused(launch(service, state, token, cookie=other_state), "not begun in this browser")
    refused(launch(service, other_state, token), "nonce is not the one")  # another login's state
    assert launch(service, state, token).status_code == 200
    refused(launch(service, state, token), "used already")  # replayed as it was
    fresh, _ = begin(service, platform)
    refused(launch(service, fresh, token), "nonce is not the one")  # replayed with a new login


def test_logins_for_others_are_refused_before_anything_is_kept(lms):
    _, platform, service = lms
    foreign = httpx.get(f"{service.url}/lti/login", params={
        "iss": platform.issuer, "login_hint": "ada", "target_link_uri": "https://evil.example/"})
    refused(foreign, "another tool")
    unknown = httpx.get(f"{service.url}/lti/login", params={
        "iss": "https://unknown.example", "login_hint": "ada", "target_link_uri": f"{service.url}/"})
    refused(unknown, "is not registered")
    assert STATE not in foreign.cookies and STATE not in unknown.cookies


def test_a_new_platform_key_is_fetched_for_its_kid(lms):
    _, platform, service = lms
    platform.rotate()
    time.sleep(2.1)  # the fetch of the key set before is more than the cooldown ago
    state, nonce = begin(service, platform)
    assert launch(service, state, platform.id_token("ada", nonce)).status_code == 200
    fetched = platform.jwks_fetches
    state, nonce = begin(service, platform)
    assert launch(service, state, platform.id_token("ada", nonce)).status_code == 200
    assert platform.jwks_fetches == fetched  # cached


def test_the_tools_keys_and_configuration_are_published_and_the_cli_lists_the_lms(lms):
    course, platform, service = lms
    keys = httpx.get(f"{service.url}/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]
    config = httpx.get(f"{service.url}/lti/config").json()
    assert config["oidc_initiation_url"] == f"{service.url}/lti/login"
    assert config["public_jwk_url"] == f"{service.url}/.well-known/jwks.json"
    key_file = course.root / "service" / "lti" / "tool-key.pem"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    listed = finished(start("lti", "list", cwd=course.root))
    assert platform.issuer in listed.stdout and DEPLOYMENT in listed.stdout
    missing = finished(start("lti", "register", "--issuer", "x", "--client-id", "y", cwd=course.root))
    assert missing.returncode == 2 and "--auth-url" in missing.stderr


def test_a_student_and_an_instructor_launch_from_the_lms_in_a_browser(lms, browser):
    _, platform, service = lms
    context, page, complaints = watched(browser)
    page.goto(f"{platform.url}/start?user=ada")
    page.wait_for_url(f"{service.url}/")
    assert page.inner_text("h1") == "Your assignments" and "ada" in page.inner_text("header")
    staff, table, _ = watched(browser)
    table.goto(f"{platform.url}/start?user=prof")
    table.wait_for_url(f"{service.url}/instructor")
    assert table.inner_text("h1") == "The class" and "(instructor)" in table.inner_text("header")
    assert complaints == []
    context.close()
    staff.close()


def test_the_platforms_own_pages_are_what_the_tests_say(lms):
    """The test platform itself: its launch page posts to the tool's login, its authorization posts an
    id_token back (what the browser test above follows)."""
    _, platform, service = lms
    fields = form_fields(httpx.get(f"{platform.url}/start?user=ada").text)
    assert fields["iss"] == platform.issuer and fields["target_link_uri"] == f"{service.url}/"


SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def deep_linking(platform, user: str, nonce: str) -> str:
    claim = "https://purl.imsglobal.org/spec/lti/claim/"
    return platform.id_token(user, nonce, **{
        claim + "message_type": "LtiDeepLinkingRequest", claim + "resource_link": None,
        SETTINGS: {"deep_link_return_url": f"{platform.url}/deep-return", "accept_types": ["ltiResourceLink"],
                   "data": "the-lms-own-data"}})


def test_an_instructor_links_an_assignment_which_makes_its_column_in_the_lms(lms):
    _, platform, service = lms
    state, nonce = begin(service, platform, "ada")
    refused(launch(service, state, deep_linking(platform, "ada", nonce)), "only an instructor")
    state, nonce = begin(service, platform, "prof")
    page = launch(service, state, deep_linking(platform, "prof", nonce))
    assert page.status_code == 200 and "Add toy (3 points)" in page.text
    assert f'action="{platform.url}/deep-return"' in page.text
    assert f"form-action {platform.url}" in page.headers["content-security-policy"]
    taken = httpx.post(f"{platform.url}/deep-return", data=form_fields(page.text))
    assert taken.status_code == 200, taken.text
    (response,) = platform.linked
    assert response["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "the-lms-own-data"
    (item,) = response["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == f"{service.url}/"
    assert platform.line_items == [{"scoreMaximum": 3.0, "label": "toy", "resourceId": "toy",
                                    "id": f"{platform.url}/lineitems/1"}]


def roster(course) -> dict[str, str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        return {s.id: s.lms_user_id for s in gradebook.students}


def test_the_lms_roster_comes_into_nbgraders_with_students_who_never_launched(lms):
    course, platform, service = lms
    signed_in_as(service, platform, "prof")  # an instructor's launch brings it in the background
    until(lambda: {"lms-1005", "lms-1006"} <= set(roster(course).values()))
    students = roster(course)
    assert students["eve"] == "lms-1005" and students["ada"] == "lms-1001"  # by SIS id; linked before
    assert "lms-1007" not in students.values() and "prof" not in students  # inactive; an instructor
    platform.members.append({"user_id": "lms-1008", "roles": [LEARNER], "email": "hal@uni.example"})
    read = -1
    while read != platform.pages_read:  # the syncs of earlier launches are over
        read = platform.pages_read
        time.sleep(1)
    done = finished(start("lti", "roster", cwd=course.root))
    assert done.returncode == 0 and "students on nbgrader's roster" in done.stdout, done.stderr
    assert "lms-1008" in roster(course).values() and platform.pages_read - read == 3  # every page


# --- grades back to the LMS --------------------------------------------------------------------------

def signed_in_as(service, platform, user: str) -> str:
    state, nonce = begin(service, platform, user)
    return launch(service, state, platform.id_token(user, nonce)).cookies["autograder"]


def submit(service, session: str, notebook) -> dict:
    from autograder.service.auth import csrf_of

    with httpx.Client(base_url=service.url, cookies={"autograder": session}, timeout=30) as browser:
        posted = browser.post("/submit", data={"assignment": "toy", "csrf": csrf_of(session)},
                              files={"notebook": (notebook.name, notebook.read_bytes())})
        assert posted.status_code == 303, posted.text
        ident = posted.headers["location"].rsplit("/", 1)[1]
        return wait_final(browser, ident)


def until(condition, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.2)


def lms_column(service, student: str) -> str:
    with httpx.Client(base_url=service.url, cookies={"autograder": PROF[0]}) as prof:
        rows = prof.get("/api/class").json()["submissions"]
    return next((r["lms"] or "") for r in rows if r["student"] == student)


PROF: list[str] = []


def test_a_score_reaches_the_lms_with_the_fields_the_spec_requires(lms):
    course, platform, service = lms
    PROF[:] = [signed_in_as(service, platform, "prof")]
    session = signed_in_as(service, platform, "ada")
    assert submit(service, session, course.released_with("ada", RIGHT))["score"] == 3.0
    until(lambda: platform.scores)
    (item, score), = platform.scores
    (column,) = platform.line_items  # the one the link made, or one made now: never two
    assert (column["resourceId"], column["scoreMaximum"], column["id"]) == ("toy", 3.0, item)
    assert {k: score[k] for k in ("userId", "scoreGiven", "scoreMaximum", "activityProgress",
                                  "gradingProgress")} == {
        "userId": "lms-1001", "scoreGiven": 3.0, "scoreMaximum": 3.0, "activityProgress": "Completed",
        "gradingProgress": "FullyGraded"}
    assert score["timestamp"].startswith(time.strftime("%Y-", time.gmtime()))
    until(lambda: lms_column(service, "ada") == "sent 3")


def test_an_lms_down_for_a_while_and_a_restart_lose_no_score_and_send_none_twice(lms):
    course, platform, service = lms
    sent_before = len(platform.scores)
    platform.down = True
    session = signed_in_as(service, platform, "ada")
    assert submit(service, session, course.released_with("ada", WRONG))["score"] == 0.0
    until(lambda: "HTTP 503" in lms_column(service, "ada"))  # the instructor sees what the LMS said
    assert lms_column(service, "ada").startswith("pending 0")
    service.stop()  # and the service is stopped with the score still to send
    lms[2] = service = Service(course)
    platform.tool = service.url
    PROF[:] = [signed_in_as(service, platform, "prof")]
    platform.down = False
    until(lambda: len(platform.scores) > sent_before)
    time.sleep(2)  # nothing more comes
    new = [score for _, score in platform.scores[sent_before:]]
    assert [s["scoreGiven"] for s in new] == [0.0]
    assert len(platform.line_items) == 1  # looked up, never made twice
    until(lambda: lms_column(service, "ada") == "sent 0")


# --- inside the LMS's page ---------------------------------------------------------------------------

def policy(answer: httpx.Response) -> str:
    return ", ".join(answer.headers.get_list("content-security-policy"))


def test_the_lms_may_frame_the_tool_and_no_other_site_may(lms):
    _, platform, service = lms
    state, nonce = begin(service, platform)
    answer = launch(service, state, platform.id_token("ada", nonce))
    session = answer.headers["set-cookie"].lower()  # a cookie the browser sends inside the LMS's page
    assert all(word in session for word in ("autograder=", "samesite=none", "secure", "partitioned", "httponly"))
    # the LMS's own page, which the signed launch named (test_embedding.py: and never the issuer's host)
    for answered in (answer, httpx.get(f"{service.url}/"), httpx.get(f"{service.url}/api/me")):
        (ancestors,) = [d.split()[1:] for d in policy(answered).replace(",", ";").split(";")
                        if d.split()[:1] == ["frame-ancestors"]]
        assert "'self'" in ancestors and platform.page in ancestors
        assert "x-frame-options" not in answered.headers
    deletions = [c.lower() for c in answer.headers.get_list("set-cookie") if c.startswith(STATE)]
    assert any("samesite=none" in c and "partitioned" in c for c in deletions)  # where it was set
    # a launch naming a page that is not a plain secure origin teaches nothing
    for page in ("http://evil.example/course", "https://evil.example;script-src *", "javascript:alert(1)"):
        state, nonce = begin(service, platform)
        named = {"https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {"return_url": page}}
        assert launch(service, state, platform.id_token("ada", nonce, **named)).status_code == 200
        assert "evil" not in policy(httpx.get(f"{service.url}/")) and "script-src *" not in policy(answer)


def test_a_login_inside_a_frame_tries_a_cookie_then_offers_a_new_window(lms):
    import html
    import re

    _, platform, service = lms
    query, framed = login_query(platform, "ada"), {"Sec-Fetch-Dest": "iframe"}
    first = httpx.get(f"{service.url}/lti/login?{query}", headers=framed)
    assert first.status_code == 303 and first.headers["location"].endswith("&probe=1"), first.text
    cookie = first.headers["set-cookie"].lower()
    assert all(word in cookie for word in ("autograder-lti-probe=1", "samesite=none", "secure", "partitioned"))
    # the browser kept the cookie out of the frame: a link that opens the login in a new window
    blocked = httpx.get(first.headers["location"], headers=framed)
    assert blocked.status_code == 200 and "keeps this tool's cookies out of your LMS's page" in blocked.text
    link = html.unescape(re.search(r'<a href="([^"]+)" target="_blank"', blocked.text)[1])
    assert link.startswith(f"{service.url}/lti/login?") and parse_qs(urlsplit(link).query) == parse_qs(query)
    assert "frame-ancestors *" in policy(blocked) and "autograder=" not in blocked.headers.get("set-cookie", "")
    # the browser kept it: the login goes on to the platform, in the frame
    kept = httpx.get(first.headers["location"], headers=framed, cookies={"autograder-lti-probe": "1"})
    assert kept.status_code == 302 and kept.headers["location"].startswith(f"{platform.url}/auth?")
    # a launch that comes back without the login's cookie says what to do, in any LMS's frame
    state = parse_qs(urlsplit(kept.headers["location"]).query)["state"][0]
    nonce = parse_qs(urlsplit(kept.headers["location"]).query)["nonce"][0]
    bare = httpx.post(f"{service.url}/lti/launch", data={"id_token": platform.id_token("ada", nonce), "state": state})
    refused(bare, "open the tool in a new window")
    assert "frame-ancestors *" in policy(bare)
    # a page any site may frame shows no session and has no form, for a browser signed in too
    state, nonce = begin(service, platform)
    session = launch(service, state, platform.id_token("ada", nonce)).cookies["autograder"]
    page = httpx.get(f"{service.url}/lti/login", cookies={"autograder": session})  # no issuer: refused
    assert page.status_code == 403 and "frame-ancestors *" in policy(page)
    assert "<form" not in page.text and "ada" not in page.text


def test_a_route_with_a_policy_of_its_own_gets_the_framing_rule_all_the_same(lms):
    _, platform, service = lms
    state, nonce = begin(service, platform, "prof")  # a host whose name is the directive's
    back = "https://frame-ancestors.lms.example/deep-return"
    settings = {"deep_link_return_url": back, "accept_types": ["ltiResourceLink"]}
    page = launch(service, state, platform.id_token("prof", nonce, **{
        CLAIM + "message_type": "LtiDeepLinkingRequest", CLAIM + "resource_link": None, SETTINGS: settings}))
    assert page.status_code == 200 and "Add toy" in page.text
    directives = [d.split()[0] for d in policy(page).replace(",", ";").split(";") if d.strip()]
    assert "frame-ancestors" in directives and f"form-action {back[:-12]}" in policy(page)


def test_the_instructor_names_the_lms_pages_that_may_frame_the_tool(lms):
    course, platform, service = lms
    given = finished(start(*platform.register_args(), "--frame-origin", "https://school.lms.example",
                           cwd=course.root))
    assert given.returncode == 0, given.stderr
    listed = finished(start("lti", "list", cwd=course.root)).stdout
    assert "pages that may frame the tool: " in listed and "https://school.lms.example" in listed
    for wrong in ("http://school.lms.example", "https://school.lms.example/course", "school.lms.example"):
        refused_ = finished(start(*platform.register_args(), "--frame-origin", wrong, cwd=course.root))
        assert refused_.returncode == 2 and "--frame-origin is an https origin" in refused_.stderr


def cookies_kept_out_of_frames(browser, tmp_path, service):
    """Debian's chromium with a profile that keeps every cookie out of other sites' pages (partitioned
    ones too, as browsers that block all third-party cookies do); the tool's own window keeps its own."""
    import json
    import shutil

    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    site = service.url  # http://127.0.0.1:PORT, allowed as the top-level site of itself only
    (profile / "Default" / "Preferences").write_text(json.dumps({"profile": {
        "default_content_setting_values": {"cookies": 2},
        "content_settings": {"exceptions": {"cookies": {f"{site},{site}": {"setting": 1}}}}}}))
    return browser.browser_type.launch_persistent_context(
        str(profile), executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
        args=["--no-sandbox"])


def test_a_launch_inside_the_lms_page_grades_there_and_else_opens_in_a_new_window(lms, browser, tmp_path):
    course, platform, service = lms
    platform.tool = service.url
    context, page, complaints = watched(browser)
    page.goto(f"{platform.page}/course?user=ada")  # the LMS's page: another site than the tool's
    frame = page.frame(name="tool")
    frame.wait_for_url(f"{service.url}/")
    assert frame.inner_text("h1") == "Your assignments" and "ada" in frame.inner_text("header")
    frame.set_input_files("input[name=notebook]", str(course.released_with("ada", RIGHT)))
    frame.click("form[action='/submit'] button")  # the session's cookie and the form's token, in the frame
    frame.wait_for_url(f"{service.url}/submissions/*")
    frame.wait_for_selector(".status:text('graded')", timeout=60_000)
    assert frame.inner_text(".score") == "3 / 3"
    frame.click("text=Read the feedback")
    frame.wait_for_url("**/feedback")
    assert "square" in frame.content()
    assert complaints == []
    context.close()

    blocking = cookies_kept_out_of_frames(browser, tmp_path, service)
    try:
        page = blocking.new_page()
        page.goto(f"{platform.page}/course?user=ada")
        frame = page.frame(name="tool")
        frame.wait_for_selector("text=Open in a new window")
        with blocking.expect_page() as opened:
            frame.click("a[target=_blank]")
        window = opened.value
        window.wait_for_url(f"{service.url}/")
        assert window.inner_text("h1") == "Your assignments" and "ada" in window.inner_text("header")
    finally:
        blocking.close()


def test_an_instructor_adds_an_assignment_from_inside_the_lms_page_in_a_browser(lms, browser):
    _, platform, service = lms
    platform.tool = service.url
    linked, columns = len(platform.linked), len(platform.line_items)
    context, page, complaints = watched(browser)
    page.goto(f"{platform.page}/course?user=prof&linking=1")  # the LMS's "add external tool", framed
    frame = page.frame(name="tool")
    frame.wait_for_selector("button:has-text('Add toy (3 points)')")
    frame.click("button:has-text('Add toy (3 points)')")  # the signed response, posted to the LMS
    frame.wait_for_selector("text=linked")
    assert len(platform.linked) == linked + 1 and len(platform.line_items) == columns + 1
    assert platform.line_items[-1]["resourceId"] == "toy" and platform.line_items[-1]["scoreMaximum"] == 3.0
    assert complaints == []  # the page's policy let its form go to the LMS and nowhere else
    context.close()
