"""Who is asking: a token sent as `Authorization: Bearer TOKEN` (the API, `autograder
submit`), or a session's secret in an HttpOnly, SameSite=Strict cookie (the pages). A
session starts at a sign-in: a token's link, or JupyterHub's OAuth (`hub.py`), or a
launch from an LMS, whose cookie is `SameSite=None; Secure; Partitioned` instead, so
that the browser sends it inside the LMS's frame (`cross_site_cookie`).

Form posts also carry `csrf_of(secret)`, which a page of another site cannot know.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .tokens import Person

if TYPE_CHECKING:
    from .course import Course

COOKIE = "autograder"
LOGIN_COOKIE = "autograder-login"  # a sign-in link's page, for its own form
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


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


def secure_context(request: Request) -> bool:
    """Whether the browser reaches the service over HTTPS or on this machine: where it
    keeps a `Secure` cookie, the only kind it sends from inside another site's page."""
    return request.url.scheme == "https" or request.url.hostname in LOOPBACK


def cross_site_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    path: str,
    max_age: int | None = None,
    otherwise: str = "lax",
) -> None:
    """An HttpOnly cookie that the browser also sends inside another site's frame (an
    LMS's page): `SameSite=None; Secure; Partitioned`, kept by the browser for that
    site's pages alone, where the context is secure; else SameSite=`otherwise`. The
    forms of the pages carry their CSRF token all the same."""
    secure = secure_context(request)
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        secure=secure,
        samesite="none" if secure else otherwise,  # type: ignore[arg-type]
    )
    if secure:
        partitioned(response)


def partitioned(response: Response) -> None:
    """The cookie just set, `Partitioned` (the standard library writes the attribute
    from Python 3.14 on, which Starlette's `set_cookie` waits for)."""
    header, value = response.raw_headers[-1]
    assert header == b"set-cookie"
    response.raw_headers[-1] = (header, value + b"; Partitioned")


def start_session(
    course: Course,
    who: Person,
    base: str,
    response: Response | None = None,
    embedded: Request | None = None,
) -> Response:
    """Sign `who` in: a new session, its secret in the cookie of `response`, by
    default a page of ours that goes on to the home page. (A redirect would not do:
    at the end of a sign-in that began on another site, the Hub's or the LMS's, the
    browser would not send the new SameSite=Strict cookie with it.) A sign-in that
    may happen inside an LMS's page (`embedded`: its request) gets a cookie that works
    there."""
    secret = course.store.tokens.new_session(who)
    if response is None:
        home = html.escape(f"{base}/")
        response = HTMLResponse(
            f'<!doctype html><meta http-equiv="refresh" content="0; url={home}">'
            f"<p>Signed in as {html.escape(who.name)}. "
            f'<a href="{home}">Continue</a></p>'
        )
    if embedded is not None:
        path = base or "/"
        cross_site_cookie(response, embedded, COOKIE, secret, path, None, "strict")
    else:
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
    delete_cookie(response, request, COOKIE, base or "/")
    return response


def delete_cookie(response: Response, request: Request, name: str, path: str) -> None:
    """Delete the cookie `name` as it was set: plain, and (in a secure context) the one
    `cross_site_cookie` set, which lives in the partition of the LMS's page."""
    response.delete_cookie(name, path=path)
    if secure_context(request):
        response.delete_cookie(name, path, secure=True, samesite="none")
        partitioned(response)


def bound(request: Request, cookie: str, given) -> bool:
    """Whether `given` (a form's or a query's value) is the value of this browser's
    `cookie`: what binds a sign-in's second step to the browser that began it."""
    kept = request.cookies.get(cookie, "")
    return (
        bool(kept)
        and isinstance(given, str)
        and hmac.compare_digest(kept.encode(), given.encode())
    )


def csrf_of(secret: str) -> str:
    """The form token of a sign-in: derived from its secret, so it changes with it."""
    return hmac.new(secret.encode(), b"csrf", hashlib.sha256).hexdigest()
