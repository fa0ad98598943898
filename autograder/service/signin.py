"""Sign-in with a token's link: `GET /login?token=` is a page naming who the link signs
in, with a button; only its own form (a nonce in a SameSite=Strict cookie and in the
form, which a page of another site cannot post with) starts the session. A link a
classmate sends (theirs) therefore never replaces a sign-in unseen, wherever it was
opened from.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .auth import LOGIN_COOKIE, bound, signed_in, start_session
from .inbox import Refused


def routes(course, base: str, page) -> list[Route]:
    """`page(request, template, status, **values)`: the application's pages."""

    def login(request: Request) -> Response:
        token = request.query_params.get("token", "")
        person = course.store.tokens.person(token)
        if person is None:
            message = "This sign-in link is not valid or was revoked; ask for another."
            return page(request, "sign_in", status=403, message=message)
        # a page that names who the link signs in, and a button: a link a classmate
        # sent (theirs) is never taken without a click on "Sign in as <them>"
        current = signed_in(course, request)
        nonce = secrets.token_urlsafe(24)
        now = current if current != person else None
        shown = page(request, "switch", now=now, other=person, token=token, login=nonce)
        shown.set_cookie(
            LOGIN_COOKIE,
            nonce,
            max_age=600,
            path=base or "/",
            httponly=True,
            samesite="strict",  # a post from another site carries none
        )
        return shown

    async def switch(request: Request) -> Response:
        form = await request.form(max_fields=4, max_part_size=4096)
        if not bound(request, LOGIN_COOKIE, form.get("login")):
            raise Refused(403, "this sign-in form is out of date: open the link again")
        person = course.store.tokens.person(str(form.get("token", "")))
        if person is None:
            raise Refused(403, "this sign-in link is not valid or was revoked")
        response = start_session(course, person, base)
        response.delete_cookie(LOGIN_COOKIE, path=base or "/")
        return response

    return [Route("/login", login), Route("/login", switch, methods=["POST"])]
