"""Who may show the service's pages inside a page of theirs: the LMSs registered for
LTI, so that a launch opens in the LMS's own page. Their origins are those a verified
launch names as the LMS's pages (`launch_presentation.return_url`, the deep linking
return URL), which the platform signed, and those the instructor gives with `lti
register --frame-origin`; never the issuer's or the authorization URL's, which are
identifiers and addresses of the platform, not the pages of one school's LMS (every
hosted Canvas has the same issuer). Any other site gets `frame-ancestors 'none'` (and
`X-Frame-Options: DENY`), as every site does while none is known.

An origin is https, or http on this machine (which browsers treat as secure); at most
MAX_ORIGINS are learned per platform. The list is read again from the database at most
every REFRESH seconds (another instance may have learned one), and at once after a
launch here; a database that cannot be read keeps the list read last. The cookies that
work inside such a frame are `auth.cross_site_cookie`.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from .auth import LOOPBACK
from .lti import CLAIM
from .lti_store import LtiStore, Platform

log = logging.getLogger("autograder.service")
REFRESH = 30.0  # seconds
HOST = re.compile(r"[a-z0-9.-]{1,253}|\[[0-9a-f:]{2,39}\]")
LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def origin_of(url) -> str | None:
    """The origin of `url` as a frame-ancestors source (`scheme://host[:port]`), or None
    when it is not https, nor http on this machine, or not a plain host and port."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    shown = f"[{host}]" if ":" in host else host
    if parts.scheme not in ("https", "http") or not HOST.fullmatch(shown):
        return None
    if parts.scheme == "http" and host not in LOOPBACK and shown not in LOOPBACK:
        return None
    return f"{parts.scheme}://{shown}" + (f":{port}" if port is not None else "")


class Embedding:
    """The origins that may frame the service's pages, for its security headers."""

    def __init__(self, store: LtiStore):
        self.store = store
        self._origins: tuple[str, ...] = ()
        self._read = float("-inf")

    def refresh(self) -> tuple[str, ...]:
        try:
            found = self.store.learned_origins()
        except SQLAlchemyError:  # away for a moment: the list read last, for now
            log.exception("could not read which LMS pages may frame the service")
            found = set(self._origins)
        self._origins, self._read = tuple(sorted(found)), time.monotonic()
        return self._origins

    async def ancestors(self) -> str:
        """The value of `frame-ancestors` for a page now."""
        origins = self._origins
        if time.monotonic() - self._read > REFRESH:
            origins = await run_in_threadpool(self.refresh)
        return " ".join(("'self'", *origins)) if origins else "'none'"

    def learn(self, platform: Platform, claims: dict) -> None:
        """The LMS's own pages that this verified launch names."""
        shown = claims.get(CLAIM + "launch_presentation")
        linking = claims.get(LINKING)
        named = [
            shown.get("return_url") if isinstance(shown, dict) else None,
            linking.get("deep_link_return_url") if isinstance(linking, dict) else None,
        ]
        new = {origin_of(url) for url in named} - {None, *self._origins}
        for origin in new:
            if origin:
                self.store.learn_origin(platform, origin)
        if new:  # learned here, or by another instance since this one read them
            self.refresh()
