"""The service's ASGI layers around every route: security headers on every answer, and a
request body read no further than the largest upload allows."""

from __future__ import annotations

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
    """CSP, no framing, no sniffing, no referrer, no caching of personal pages."""

    HEADERS: ClassVar = [
        (
            b"content-security-policy",
            b"default-src 'self'; frame-ancestors 'none'; "
            b"base-uri 'none'; form-action 'self'",
        ),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.HEADERS if n not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        return await self.app(scope, receive, with_headers)
