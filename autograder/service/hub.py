"""Sign-in through JupyterHub, when the service runs as one of the Hub's services: the
Hub puts the service's token, its OAuth client and its URL prefix in the environment
(JUPYTERHUB_API_TOKEN, JUPYTERHUB_CLIENT_ID, JUPYTERHUB_SERVICE_PREFIX, ...), and
JupyterHub's own service OAuth (`HubOAuth`) does the exchange with the Hub.

`/hub-login` sends the browser to the Hub with a state bound to it (a cookie);
`/oauth_callback` checks that state, trades the code for the person's Hub token, asks
the Hub who that is, and starts a session: an instructor when they are in the
configured Hub group, else a student (added to nbgrader's roster as `autograde` adds
one). The Hub token itself is used once and kept nowhere.
"""

from __future__ import annotations

import logging
import os
import secrets
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import names
from .auth import bound, start_session
from .inbox import Refused
from .tokens import Person

log = logging.getLogger("autograder.service")
STATE_COOKIE = "autograder-oauth-state"


class Hub:
    """The Hub this service is registered with, as its environment says."""

    def __init__(self, instructors: str):
        from jupyterhub.services.auth import HubOAuth  # type: ignore[import-untyped]

        self.oauth = HubOAuth(cache_max_age=0)
        self.instructors = instructors
        self.base = self.oauth.base_url.rstrip("/")  # /services/NAME, or ""

    @classmethod
    def from_environment(cls, instructors: str) -> Hub | None:
        return cls(instructors) if os.environ.get("JUPYTERHUB_API_TOKEN") else None

    @staticmethod
    def address() -> tuple[str, int] | None:
        """Where the Hub expects a service it started to listen, if it says."""
        url = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL", ""))
        return (url.hostname, url.port) if url.hostname and url.port else None

    def authorize_url(self, state: str) -> str:
        query = {
            "client_id": self.oauth.oauth_client_id,
            "redirect_uri": self.oauth.oauth_redirect_uri,
            "response_type": "code",
            "state": state,
        }
        return f"{self.oauth.oauth_authorization_url}?{urlencode(query)}"

    def logout_url(self) -> str:
        return f"{self.oauth.hub_host}{self.oauth.hub_prefix}logout"

    def person(self, code: str) -> Person:
        """Who the Hub says signed in with `code` (blocking: two requests)."""
        from jupyterhub.services.auth import check_scopes

        try:
            token = self.oauth.token_for_code(code, sync=True)
            model = self.oauth.user_for_token(token, use_cache=False, sync=True)
        except Exception as error:  # the Hub refused the code, or is not reachable
            log.warning("JupyterHub sign-in failed: %s", error)
            message = "JupyterHub did not confirm the sign-in: try again"
            raise Refused(403, message) from None
        if model is None or model.get("kind", "user") != "user":
            raise Refused(403, "JupyterHub did not say who you are: try again")
        scopes = model.get("scopes") or []
        if self.oauth.access_scopes and not check_scopes(
            self.oauth.access_scopes, scopes
        ):
            raise Refused(403, "JupyterHub does not give you access to this service")
        name = str(model.get("name", ""))
        if not names.plain_id(name):
            raise Refused(
                403,
                f"the Hub's user name {names.text(name, 100)} cannot be a student id "
                "of this course (letters, digits and . _ @ + -, no dot first): ask "
                "your instructor",
            )
        return Person(name, self.instructors in (model.get("groups") or []))


def routes(course, hub: Hub) -> list[Route]:
    def login(request: Request) -> Response:
        state = secrets.token_urlsafe(24)
        response = RedirectResponse(hub.authorize_url(state), 303)
        response.set_cookie(
            STATE_COOKIE,
            state,
            max_age=600,
            path=hub.base or "/",
            httponly=True,
            samesite="lax",  # back from the Hub, which may be another site
        )
        return response

    async def callback(request: Request) -> Response:
        query = request.query_params
        if query.get("error"):
            message = query.get("error_description") or query["error"]
            raise Refused(403, f"JupyterHub refused the sign-in: {message}")
        if not bound(request, STATE_COOKIE, query.get("state")):
            raise Refused(403, "this sign-in was not started here: sign in again")
        code = query.get("code", "")
        if not code:
            raise Refused(400, "JupyterHub sent no code: sign in again")
        who = await run_in_threadpool(hub.person, code)
        if not who.instructor:
            await run_in_threadpool(course.enrol, who.name)
        response = start_session(course, who, hub.base)
        response.delete_cookie(STATE_COOKIE, path=hub.base or "/")
        return response

    return [Route("/hub-login", login), Route("/oauth_callback", callback)]
