"""Who is asking: a token sent as `Authorization: Bearer TOKEN` (the API, `autograder
submit`) or kept in an HttpOnly, SameSite=Strict cookie by the sign-in link (the pages).

Form posts also carry `csrf_of(token)`, which a page of another site cannot know.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from starlette.requests import Request

from .tokens import Person

if TYPE_CHECKING:
    from .course import Course

COOKIE = "autograder"


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def signed_in(course: Course, request: Request) -> Person | None:
    token = token_of(request)
    return course.store.tokens.person(token) if token else None


def csrf_of(token: str) -> str:
    """The form token of a sign-in: derived from it, so it changes with it."""
    return hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()
