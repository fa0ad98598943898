"""The service's ASGI layers around every route: security headers on every answer, and a
request body read no further than the largest upload allows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from .inbox import Refused


class BodyLimit:
    """A request body is read no further than `limit` bytes, whether its Content-Length
    says so or not (a chunked upload): past it, reading raises Refused (413)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        read = 0

        async def bounded():
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > self.limit:
                megabytes = self.limit / 2**20
                raise Refused(413, f"a request may send at most {megabytes:.0f} MB")
            return message

        return await self.app(scope, bounded, send)


class SecurityHeaders:
    """CSP, no sniffing, no referrer, no caching of personal pages, and framing by
    `ancestors()` alone (a `frame-ancestors` value: 'none' but for the LMSs registered,
    `embedding.py`), unless an answer says its own."""

    CSP = b"content-security-policy"
    HEADERS: ClassVar = [
        (CSP, b"default-src 'self'; base-uri 'none'; form-action 'self'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app, ancestors: Callable[[], Awaitable[str]] | None = None):
        self.app, self.ancestors = app, ancestors

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":  # after the route: it learns
                ancestors = await self.ancestors() if self.ancestors else "'none'"
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(n, v) for n, v in self.HEADERS if n not in present]
                policies = [v for n, v in headers if n.lower() == self.CSP]
                if b"frame-ancestors" not in _directives(policies):
                    extra.append((self.CSP, f"frame-ancestors {ancestors}".encode()))
                    if ancestors == "'none'":
                        extra.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers + extra
            await send(message)

        return await self.app(scope, receive, with_headers)


def _directives(policies: list[bytes]) -> set[bytes]:
    """The names of the directives of these CSP header values."""
    return {
        part.split()[0].lower()
        for policy in policies
        for part in policy.split(b";")
        if part.strip()
    }
