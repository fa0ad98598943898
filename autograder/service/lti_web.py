"""The service's LTI 1.3 routes: the login a platform begins (`/lti/login`, GET or
POST), the launch it posts back (`/lti/launch`), the tool's public key set
(`/.well-known/jwks.json`) and the JSON a Canvas developer key is made from
(`/lti/config`). The checks themselves are `lti.Launches.verify`.

The state is kept in a cookie of this browser for the ten minutes a login may take,
`SameSite=None; Secure; Partitioned` (`auth.cross_site_cookie`: the platform posts the
launch from its own site, and the launch may run inside the LMS's page) where the
service is reached over HTTPS or on this machine, else `Lax`. A login inside a frame
first tries such a cookie (a redirect to itself): where the browser keeps it out of the
LMS's page, the login is a page with a link that opens it in a new window instead.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import pages
from .auth import bound, cross_site_cookie, delete_cookie, start_session
from .embedding import Embedding
from .inbox import Refused
from .lti import CLAIM, Launches, is_ours, refused
from .lti_keys import public_jwks
from .lti_links import linking_page
from .lti_roster import Rosters
from .lti_store import LOGIN_MINUTES

STATE_COOKIE = "autograder-lti-state"
PROBE_COOKIE = "autograder-lti-probe"  # whether cookies work inside this frame
LOGIN_FIELDS = (  # what a login carries on, in a link of ours
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
)
ANYONE_MAY_FRAME = (  # a page with no session and nothing to do but follow a link
    "default-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'self'"
)
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def ours(request: Request, base: str) -> str:
    """This service's address as the browser reaches it: scheme, host and prefix."""
    return f"{request.url.scheme}://{request.url.netloc}{base}"


def routes(course, base: str, embedding: Embedding) -> list[Route]:
    store = embedding.store
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
        framed = request.headers.get("sec-fetch-dest") == "iframe"
        if framed and not request.cookies.get(PROBE_COOKIE):
            return probe(request, params)
        state, nonce = await run_in_threadpool(store.begin, platform)
        launch = f"{ours(request, base)}/lti/launch"
        url = launches.login_url(platform, state, nonce, launch, params)
        response = RedirectResponse(url, 302)
        keep = LOGIN_MINUTES * 60
        cross_site_cookie(response, request, STATE_COOKIE, state, f"{base}/lti/", keep)
        return response

    def probe(request: Request, params: dict) -> Response:
        """Inside a frame: a cookie, and this login again; that cookie missing the
        second time, a link that begins the login in a new window."""
        carried = {k: params[k] for k in LOGIN_FIELDS if params.get(k)}
        login = f"{ours(request, base)}/lti/login?{urlencode(carried)}"
        if "probe" not in params:
            response: Response = RedirectResponse(f"{login}&probe=1", 303)
            path, keep = f"{base}/lti/", LOGIN_MINUTES * 60
            cross_site_cookie(response, request, PROBE_COOKIE, "1", path, keep)
            return response
        return open_page(course, base, "new_window", 200, login=login)

    async def launch(request: Request) -> Response:
        form = await request.form(max_fields=8, max_part_size=64 * 1024)
        given, token = form.get("state"), form.get("id_token")
        if not isinstance(given, str) or not isinstance(token, str) or not token:
            raise refused("the platform sent no id_token and state")
        if form.get("error"):
            raise refused(f"the platform said: {form.get('error')}")
        if not request.cookies.get(STATE_COOKIE):
            raise refused(
                "this browser sent no cookie of the login with it (a browser that "
                "keeps cookies out of an LMS's page does that): open the tool in a "
                "new window"
            )
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
        await run_in_threadpool(embedding.learn, platform, claims)  # pages that frame
        if not who.instructor:  # where their grades go
            await run_in_threadpool(course.outbox.remember, who.name, platform, claims)
        elif await run_in_threadpool(rosters.remember, platform, claims):
            rosters.bring_in_background()  # the LMS's roster into nbgrader's, meanwhile
        page = None
        if linking:
            page = await run_in_threadpool(
                linking_page, course, platform, claims, ours(request, base)
            )
        response = start_session(course, who, base, page, embedded=request)
        delete_cookie(response, request, STATE_COOKIE, f"{base}/lti/")
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


def refusal_page(course, base: str, error: Refused) -> HTMLResponse:
    """A refusal on an LTI route, in whichever LMS's page (`open_page`)."""
    message = str(error)
    return open_page(
        course, base, "error", error.status, title="Not possible", message=message
    )


def open_page(course, base: str, template: str, status: int, **values) -> HTMLResponse:
    """A page of an LTI route that any LMS's page may frame: so it shows no session
    (not who is signed in) and has no form."""
    body = pages.render(
        template, course=course.title, base=base, person=None, csrf="", **values
    )
    policy = {"Content-Security-Policy": ANYONE_MAY_FRAME}
    return HTMLResponse(body, status, headers=policy)
