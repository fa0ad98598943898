"""The service's web application (Starlette, served by uvicorn): pages for students and
instructors, and the JSON API that `autograder submit` and the pages' script use.

Every route asks who is asking (`auth.py`) and answers only with that person's own
submissions (an instructor: everyone's); another student's id is a 404, as an unknown
one is. Form posts carry a token derived from the sign-in; uploads are bounded and
checked before anything is stored (`inbox.py`); nothing hidden (tests, references,
other students' data) is in any page or answer.
"""

from __future__ import annotations

import functools

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route

from . import pages
from .auth import (
    bearer_of,
    csrf_of,
    end_session,
    secret_of,
    signed_in,
)
from .course import Course
from .embedding import Embedding
from .hub import Hub
from .hub import routes as hub_routes
from .inbox import Refused
from .lti_web import refusal_page
from .lti_web import routes as lti_routes
from .middleware import BodyLimit, SecurityHeaders
from .signin import routes as signin_routes
from .store import FINAL
from .views import class_report as report_of
from .views import class_rows, scores_csv, shown

FEEDBACK_CSP = (  # framing: the middleware's
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def create_app(course: Course, hub: Hub | None = None) -> Starlette:
    """The application; under JupyterHub (`hub`), at the Hub's prefix for it and with
    the Hub's sign-in."""
    base = hub.base if hub is not None else ""
    embedding = Embedding(course.lti)  # the LMSs may frame the pages

    def home(request: Request) -> Response:
        person = signed_in(course, request)
        if person is None:
            if hub is not None:
                return RedirectResponse(f"{base}/hub-login", 303)
            return _page(request, "sign_in", status=200)
        if person.instructor:
            return RedirectResponse(f"{base}/instructor", 303)
        rows = [shown(course, r) for r in course.store.listed(student=person.name)]
        rows.reverse()
        return _page(
            request,
            "student",
            assignments=course.assignments_for(person.name),
            submissions=rows,
        )

    async def logout(request: Request) -> Response:
        if secret_of(request) is not None:  # nothing to sign out of: nothing read
            await _form_of(request)
        then = hub.logout_url() if hub is not None else None  # out of the Hub too
        return end_session(course, request, base, then)

    async def submit_form(request: Request) -> Response:
        person = _person(request)
        form = await _form_of(request, course.max_upload_bytes)
        ident = await _receive(person.name, form)
        return RedirectResponse(f"{base}/submissions/{ident}", 303)

    def submission_page(request: Request) -> Response:
        row = _own(request, request.path_params["ident"])
        return _page(request, "submission", s=shown(course, row, base), final=FINAL)

    def feedback(request: Request) -> Response:
        row = _own(request, request.path_params["ident"])
        page = course.feedback_page(row)
        if row["status"] not in FINAL or not page.is_file():
            return _error(request, 404, "No feedback yet", "It is not graded yet.")
        response = HTMLResponse(page.read_text(encoding="utf-8"))
        response.headers["Content-Security-Policy"] = FEEDBACK_CSP
        return response

    def release(request: Request) -> Response:
        _person(request)
        notebook = course.release_notebook(request.path_params["name"])
        if notebook is None:
            return _error(request, 404, "Not found", "No such released assignment.")
        return Response(
            notebook.read_bytes(),
            media_type="application/x-ipynb+json",
            headers={"Content-Disposition": f'attachment; filename="{notebook.name}"'},
        )

    def instructor(request: Request) -> Response:
        _person(request, instructor=True)
        rows = class_rows(course, base)
        return _page(request, "instructor", rows=rows, assignments=course.assignments)

    async def regrade(request: Request) -> Response:
        _person(request, instructor=True)
        await _form_of(request)
        await run_in_threadpool(course.regrade, request.path_params.get("ident"))
        return RedirectResponse(f"{base}/instructor", 303)

    def class_report(request: Request) -> Response:
        _person(request, instructor=True)
        page = report_of(course, request.path_params["name"])
        if page is None:
            return _error(request, 404, "Not found", "No such released assignment.")
        response = HTMLResponse(page)
        response.headers["Content-Security-Policy"] = FEEDBACK_CSP
        return response

    def csv(request: Request) -> Response:
        _person(request, instructor=True)
        return PlainTextResponse(
            scores_csv(course),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="scores.csv"'},
        )

    # -- the JSON API -------------------------------------------------------------

    async def api_submit(request: Request) -> Response:
        if bearer_of(request) is None:  # never the cookie: no cross-site post
            raise Refused(401, "send your token as `Authorization: Bearer TOKEN`")
        person = _person(request)
        form = await _form_of(request, course.max_upload_bytes, csrf=False)
        ident = await _receive(person.name, form)
        answer = {"id": ident, "status": "queued", "url": f"{base}/submissions/{ident}"}
        return JSONResponse(answer, 202)

    async def api_one(request: Request) -> Response:
        """With `?seen=STATUS&wait=SECONDS`: answered once the status is another
        (`changes.py`), so that a page sees it at once."""
        ident, query = request.path_params["ident"], request.query_params
        row = await run_in_threadpool(_own, request, ident)
        wait = query.get("wait", "0")
        if not (wait.isascii() and wait.isdigit() and len(wait) <= 6):
            raise Refused(400, "wait is a whole number of seconds")
        read = functools.partial(course.store.get, ident)
        row = await course.changes.after(row, query.get("seen"), int(wait), read)
        answer = await run_in_threadpool(lambda: shown(course, row, base).api())
        return JSONResponse(answer)

    def api_list(request: Request) -> Response:
        person = _person(request)
        student = person.name
        if person.instructor:
            student = request.query_params.get("student")
        assignment = request.query_params.get("assignment")
        rows = course.store.listed(student=student, assignment=assignment)
        listed = [shown(course, r, base).api() for r in rows]
        return JSONResponse({"submissions": listed})

    def api_me(request: Request) -> Response:
        person = _person(request)
        role = "instructor" if person.instructor else "learner"
        return JSONResponse({"student": person.name, "role": role})

    def api_class(request: Request) -> Response:
        _person(request, instructor=True)
        rows = [row.api() for row in class_rows(course, base)]
        return JSONResponse({"submissions": rows})

    # -- helpers ------------------------------------------------------------------

    def _person(request: Request, instructor: bool = False):
        person = signed_in(course, request)
        if person is None:
            raise Refused(401, "sign in first: open your sign-in link, or send a token")
        if instructor and not person.instructor:
            raise Refused(403, "only the course's instructors may see this")
        return person

    def _own(request: Request, ident: str) -> dict:
        person = _person(request)
        row = course.store.get(ident) if ident.isalnum() else None
        if row is None or not (person.instructor or row["student"] == person.name):
            raise Refused(404, "no such submission")  # another's is not told apart
        return row

    async def _form_of(request: Request, max_bytes: int = 4096, csrf: bool = True):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes + 64 * 1024:
            raise Refused(413, course.too_large())
        try:
            form = await request.form(
                max_files=1, max_fields=4, max_part_size=max_bytes
            )
        except ClientDisconnect:  # the upload was cut off: nothing to answer, or log
            raise Refused(400, "the upload was cut off") from None
        if csrf:
            secret = secret_of(request)
            if secret is None or form.get("csrf") != csrf_of(secret):
                await form.close()
                raise Refused(403, "this form is out of date: reload the page")
        return form

    async def _receive(student: str, form) -> str:
        """The upload in `form` received (its id), or Refused; the form closed."""
        try:
            upload = form.get("notebook")
            if upload is None or isinstance(upload, str):
                raise Refused(400, "attach your notebook as the field `notebook`")
            data = await upload.read(course.max_upload_bytes + 1)
        finally:
            await form.close()
        name, filename = form.get("assignment") or None, upload.filename or ""
        # parsing, fsync and the queue's write: off the event loop
        return await run_in_threadpool(course.receive, student, data, filename, name)

    def _page(request: Request, template: str, status: int = 200, **values) -> Response:
        secret = secret_of(request)
        person = signed_in(course, request)
        body = pages.render(
            template,
            course=course.title,
            base=base,
            person=person,
            csrf=csrf_of(secret) if secret else "",
            **values,
        )
        return HTMLResponse(body, status)

    def _error(request: Request, status: int, title: str, message: str) -> Response:
        if request.url.path.startswith(f"{base}/api/"):
            return JSONResponse({"error": message}, status)
        return _page(request, "error", status, title=title, message=message)

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, Refused)
        if request.url.path.startswith(f"{base}/lti/"):
            return refusal_page(course, base, error)
        return _error(request, error.status, "Not possible", str(error))

    def static(body: str, kind: str):
        async def serve(request: Request) -> Response:
            return Response(body, media_type=kind)

        return serve

    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/logout", logout, methods=["POST"]),
        Route("/submit", submit_form, methods=["POST"]),
        Route("/submissions/{ident}", submission_page),
        Route("/submissions/{ident}/feedback", feedback),
        Route("/release/{name}", release),
        Route("/instructor", instructor),
        Route("/instructor/regrade", regrade, methods=["POST"]),
        Route("/instructor/regrade/{ident}", regrade, methods=["POST"]),
        Route("/instructor/scores.csv", csv),
        Route("/instructor/report/{name}", class_report),
        Route("/api/submissions", api_submit, methods=["POST"]),
        Route("/api/submissions", api_list),
        Route("/api/submissions/{ident}", api_one),
        Route("/api/class", api_class),
        Route("/api/me", api_me),
        Route("/static/service.js", static(pages.SCRIPT, "text/javascript")),
        Route("/static/service.css", static(pages.CSS, "text/css")),
        Route("/favicon.ico", static("", "image/x-icon")),  # none: asked for, not a 404
    ]
    routes += signin_routes(course, base, _page)
    routes += lti_routes(course, base, embedding)
    if hub is not None:
        routes += hub_routes(course, hub)
    if base:
        routes = [Mount(base, routes=routes)]
    app = Starlette(routes=routes, exception_handlers={Refused: refused})
    app.add_middleware(BodyLimit, limit=course.max_upload_bytes + 64 * 1024)
    app.add_middleware(SecurityHeaders, ancestors=embedding.ancestors)
    return app
