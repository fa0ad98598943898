"""`autograder serve`, `token` and `submit` as library calls: the course's service run
by uvicorn (its graders started with it and stopped with it), sign-in tokens for the
roster, and an upload that waits for its grade."""

from __future__ import annotations

import math
import time
from pathlib import Path

from .. import names
from ..course.generate import nbgrader_config
from ..errors import UsageError
from .course import Course
from .store import FINAL, Store

DEFAULT_PORT = 8000
MAX_CONNECTIONS = 512


def gradebook_url(root: Path, url: str | None = None) -> str:
    """The database of the queue and the tokens: nbgrader's gradebook of the course
    (its own, or the one nbgrader_config.py names) unless `url` says otherwise."""
    if url:
        return url
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=nbgrader_config(root)).db_url


def serve(
    root: Path,
    url: str | None,
    jobs: int,
    host: str,
    port: int | None,
    lease: float,
    instructors: str = "instructors",
    scheduler: str | None = None,
) -> None:
    """Serve the course until Ctrl-C; the graders start first and stop last. Started
    as a JupyterHub service, its people sign in through the Hub (those of the Hub group
    `instructors` as instructors), and it listens where the Hub says unless `port` is
    given."""
    import uvicorn

    from .app import create_app
    from .hub import Hub

    hub = Hub.from_environment(instructors)
    host, port = address(host, port)
    course = Course(root, gradebook_url(root, url), jobs, lease, scheduler)
    if not course.assignments:
        raise UsageError(
            "no assignment of this course is released yet: run `autograder release "
            "NAME` first"
        )
    course.start()
    try:

        class Server(uvicorn.Server):
            def handle_exit(self, sig, frame):  # waiting pages are answered at once
                course.changes.close()
                super().handle_exit(sig, frame)

        Server(
            uvicorn.Config(
                create_app(course, hub),
                host=host,
                port=port,
                log_level="warning",
                server_header=False,
                # past this many connections at once, 503 rather than running out of
                # descriptors; a service open to the network belongs behind a proxy that
                # times out slow clients (SECURITY.md)
                limit_concurrency=MAX_CONNECTIONS,
                timeout_keep_alive=5,
            )
        ).run()
    finally:
        course.stop()


def address(host: str, port: int | None) -> tuple[str, int]:
    """Where to listen: `port` if given, else where JupyterHub says (when it started
    the service), else DEFAULT_PORT."""
    from .hub import Hub

    if port is None:
        return Hub.address() or (host, DEFAULT_PORT)
    return host, port


def token(root: Path, url: str | None, person: str, instructor: bool) -> str:
    """A new sign-in token for `person`: a student of the gradebook's roster, or an
    instructor."""
    if not names.plain_id(person):
        raise UsageError(
            f"{names.text(person, 100)} is not a student id the course uses"
        )
    database = gradebook_url(root, url)
    if not instructor:
        _on_roster(database, person)
    return Store(database).tokens.new_token(person, instructor)


def revoke(root: Path, url: str | None, person: str) -> int:
    return Store(gradebook_url(root, url)).tokens.revoke(person)


def lti_store(root: Path, url: str | None):
    from .lti_store import LtiStore

    return LtiStore(Store(gradebook_url(root, url)).engine)


def lti_roster(root: Path, url: str | None) -> list[str]:
    """The LMS's roster of each course an instructor launched from, brought into
    nbgrader's now."""
    from .lti_roster import Rosters

    database = gradebook_url(root, url)
    lines = Rosters(lti_store(root, url), root, database).bring()
    return lines or ["no LMS course known yet: an instructor launches the tool first"]


def lti_register(root: Path, url: str | None, args) -> str:
    """Register (or with `args.remove` remove) the platform `args` describe; what was
    done, in a line."""
    from .embedding import origin_of
    from .lti_store import Platform

    store = lti_store(root, url)
    if args.remove:
        if not store.remove(args.issuer, args.client_id):
            raise UsageError(f"no LMS {args.issuer} with client {args.client_id}")
        return f"removed {args.issuer} (client {args.client_id})"
    missing = [
        option
        for option, value in (
            ("--auth-url", args.auth_url),
            ("--jwks-url", args.jwks_url),
            ("--token-url", args.token_url),
            ("--deployment-id", args.deployment_id),
        )
        if not value
    ]
    if missing:
        raise UsageError(f"registering an LMS needs {', '.join(missing)} too")
    for address in (args.auth_url, args.jwks_url, args.token_url):
        if not address.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise UsageError(f"{address}: an LMS is reached over https://")
    framing = [origin_of(given) for given in args.frame_origin]
    if framing != [given.rstrip("/").lower() for given in args.frame_origin]:
        raise UsageError(
            "--frame-origin is an https origin, as https://lms.example.edu (no path)"
        )
    platform = Platform(
        args.issuer,
        args.client_id,
        args.auth_url,
        args.jwks_url,
        args.token_url,
        list(args.deployment_id),
        list(args.context_id),
    )
    store.register(platform)
    for origin in filter(None, framing):
        store.learn_origin(platform, origin)
    from .lti_keys import public_jwks

    public_jwks(root)  # the tool's key pair, made now if it was not
    courses = (
        f"launches from its course(s) {', '.join(args.context_id)} only"
        if args.context_id
        else "launches from any course of these deployments (--context-id limits "
        "them to this course's)"
    )
    return (
        f"registered {args.issuer} (client {args.client_id}), {courses}; give the "
        "LMS this service's /lti/config, or its /lti/login, /lti/launch and "
        "/.well-known/jwks.json"
    )


def _on_roster(url: str, student: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(url) as gradebook:
        try:
            gradebook.find_student(student)
        except MissingEntry:
            raise UsageError(
                f"{student} is not in the gradebook's roster: add them with `nbgrader "
                f"db student add {student}` (or `nbgrader db student import`)"
            ) from None


def submit(
    notebook: Path,
    url: str,
    secret: str,
    assignment: str | None = None,
    wait: float = 600.0,
) -> dict:
    """Upload `notebook` to the service at `url`, wait (at most `wait` seconds) for its
    final status, and return the submission as the API describes it."""
    import httpx

    headers = {"Authorization": f"Bearer {secret}"}
    data = {"assignment": assignment} if assignment else {}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            with open(notebook, "rb") as handle:
                files = {"notebook": (notebook.name, handle, "application/json")}
                answer = client.post("/api/submissions", data=data, files=files)
            if answer.status_code != 202:
                raise UsageError(f"the service refused it: {_error(answer)}")
            ident = answer.json()["id"]
            deadline, seen = time.monotonic() + wait, "queued"
            while True:  # each answer comes once the status is another, or in 20 s
                left = max(0, min(20, math.ceil(deadline - time.monotonic())))
                asked = {"seen": seen, "wait": str(left)}
                answer = client.get(f"/api/submissions/{ident}", params=asked)
                if answer.status_code != 200:
                    raise UsageError(f"the service refused it: {_error(answer)}")
                status = answer.json()
                if status["status"] in FINAL or time.monotonic() >= deadline:
                    return status
                if status["status"] == seen:  # answered without waiting: the
                    time.sleep(0.5)  # service has many waiting already
                seen = status["status"]
    except OSError as error:
        raise UsageError(f"cannot reach the service at {url}: {error}") from None
    except httpx.HTTPError as error:
        raise UsageError(f"the service at {url} did not answer: {error}") from None


def _error(answer) -> str:
    try:
        return str(answer.json()["error"])
    except Exception:
        return f"HTTP {answer.status_code}"
