"""The service's LTI 1.3 routes: the login a platform begins (`/lti/login`, GET or
POST), the launch it posts back (`/lti/launch`), the tool's public key set
(`/.well-known/jwks.json`) and the JSON a Canvas developer key is made from
(`/lti/config`). The checks themselves are `lti.Launches.verify`.

The state is kept in a cookie of this browser for the ten minutes a login may take:
`SameSite=None; Secure` (the platform posts the launch from its own site) where the
service is reached over HTTPS or on this machine, else `Lax`.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .auth import bound, start_session
from .lti import CLAIM, Launches, is_ours, refused
from .lti_keys import public_jwks
from .lti_links import linking_page
from .lti_roster import Rosters
from .lti_store import LOGIN_MINUTES, LtiStore

STATE_COOKIE = "autograder-lti-state"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def ours(request: Request, base: str) -> str:
    """This service's address as the browser reaches it: scheme, host and prefix."""
    return f"{request.url.scheme}://{request.url.netloc}{base}"


def routes(course, base: str) -> list[Route]:
    store = LtiStore(course.store.engine)
    launches = Launches(store, course.url)
    rosters = Rosters(store, course.root, course.url)

    async def login(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form(max_fields=16, max_part_size=16 * 1024)
            params |= {k: v for k, v in form.items() if isinstance(v, str)}
        issuer = params.get("iss")
        if not issuer:
            raise refused("the platform sent no issuer (iss)")
        if not is_ours(params.get("target_link_uri"), ours(request, base)):
            raise refused("the login is for another tool (target_link_uri)")
        platform = await run_in_threadpool(
            launches.platform_for, issuer, params.get("client_id") or None
        )
        state, nonce = await run_in_threadpool(store.begin, platform)
        launch = f"{ours(request, base)}/lti/launch"
        url = launches.login_url(platform, state, nonce, launch, params)
        response = RedirectResponse(url, 302)
        secure = request.url.scheme == "https" or request.url.hostname in LOOPBACK
        response.set_cookie(
            STATE_COOKIE,
            state,
            max_age=LOGIN_MINUTES * 60,
            path=f"{base}/lti/",
            httponly=True,
            secure=secure,
            samesite="none" if secure else "lax",
        )
        return response

    async def launch(request: Request) -> Response:
        form = await request.form(max_fields=8, max_part_size=64 * 1024)
        given, token = form.get("state"), form.get("id_token")
        if not isinstance(given, str) or not isinstance(token, str) or not token:
            raise refused("the platform sent no id_token and state")
        if form.get("error"):
            raise refused(f"the platform said: {form.get('error')}")
        if not bound(request, STATE_COOKIE, given):
            raise refused(
                "this launch was not begun in this browser (the state does not match)"
            )
        begun = await run_in_threadpool(store.finish, given)
        if begun is None:
            raise refused("this login is over or was used already: launch again")
        claims = await run_in_threadpool(
            launches.verify, token, begun, ours(request, base)
        )
        who = await run_in_threadpool(launches.person, claims)
        linking = claims[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
        if linking and not who.instructor:
            raise refused("only an instructor adds an assignment to the LMS")
        platform = await run_in_threadpool(
            store.platform, begun.issuer, begun.client_id
        )
        if platform is None:
            raise refused("the platform of this login is no longer registered")
        if not who.instructor:  # where their grades go
            await run_in_threadpool(course.outbox.remember, who.name, platform, claims)
        elif await run_in_threadpool(rosters.remember, platform, claims):
            rosters.bring_in_background()  # the LMS's roster into nbgrader's, meanwhile
        page = None
        if linking:
            page = await run_in_threadpool(
                linking_page, course, platform, claims, ours(request, base)
            )
        response = start_session(course, who, base, page)
        response.delete_cookie(STATE_COOKIE, path=f"{base}/lti/")
        return response

    def jwks(request: Request) -> Response:
        return JSONResponse(public_jwks(course.root))

    def config(request: Request) -> Response:
        here = ours(request, base)
        return JSONResponse(
            {
                "title": f"autograder: {course.title}",
                "description": "Notebooks graded on submit",
                "oidc_initiation_url": f"{here}/lti/login",
                "target_link_uri": f"{here}/",
                "public_jwk_url": f"{here}/.well-known/jwks.json",
                "scopes": SCOPES,
                "extensions": [
                    {
                        "platform": "canvas.instructure.com",
                        "privacy_level": "public",
                        "settings": {
                            "placements": [
                                {
                                    "placement": "link_selection",
                                    "message_type": "LtiDeepLinkingRequest",
                                    "target_link_uri": f"{here}/",
                                },
                                {
                                    "placement": "course_navigation",
                                    "message_type": "LtiResourceLinkRequest",
                                    "target_link_uri": f"{here}/",
                                },
                            ]
                        },
                    }
                ],
            }
        )

    return [
        Route("/lti/login", login, methods=["GET", "POST"]),
        Route("/lti/launch", launch, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks),
        Route("/lti/config", config),
    ]
