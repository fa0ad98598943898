"""Who is asking: a token sent as `Authorization: Bearer TOKEN` (the API, `autograder
submit`), or a session's secret in an HttpOnly, SameSite=Strict cookie (the pages). A
session starts at a sign-in: a token's link, or JupyterHub's OAuth (`hub.py`).

Form posts also carry `csrf_of(secret)`, which a page of another site cannot know.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .tokens import Person

if TYPE_CHECKING:
    from .course import Course

COOKIE = "autograder"


def bearer_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def secret_of(request: Request) -> str | None:
    """The caller's token, else their session's secret."""
    return bearer_of(request) or request.cookies.get(COOKIE) or None


def signed_in(course: Course, request: Request) -> Person | None:
    bearer = bearer_of(request)
    if bearer is not None:  # a bearer that is not valid is not helped by a cookie
        return course.store.tokens.person(bearer)
    cookie = request.cookies.get(COOKIE)
    return course.store.tokens.session(cookie) if cookie else None


def start_session(
    course: Course, who: Person, base: str, response: Response | None = None
) -> Response:
    """Sign `who` in: a new session, its secret in the cookie of `response`, by
    default on to the home page (which takes any token out of the address bar)."""
    secret = course.store.tokens.new_session(who)
    response = response or RedirectResponse(f"{base}/", 303)
    response.set_cookie(
        COOKIE, secret, path=base or "/", httponly=True, samesite="strict"
    )
    return response


def end_session(
    course: Course, request: Request, base: str, then: str | None = None
) -> Response:
    """Sign out: the session ends (its cookie is worth nothing after), and on to
    `then` (the home page by default)."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        course.store.tokens.end_session(cookie)
    response = RedirectResponse(then or f"{base}/", 303)
    response.delete_cookie(COOKIE, path=base or "/")
    return response


def csrf_of(secret: str) -> str:
    """The form token of a sign-in: derived from its secret, so it changes with it."""
    return hmac.new(secret.encode(), b"csrf", hashlib.sha256).hexdigest()
