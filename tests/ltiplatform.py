"""An LTI 1.3 platform of our own for the tests (no LMS is reachable from here): its RSA keys and JWKS,
the OIDC authorization endpoint that answers a tool's login with a signed id_token posted back to
the tool, and a page that begins a launch, all on 127.0.0.1 (Starlette under uvicorn, in a thread).
`id_token` makes any token the tests need, right or forged."""

from __future__ import annotations

import html
import json
import threading
import time
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from servicecourse import free_port

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
USERS = {
    "ada": {"sub": "lms-1001", "roles": [LEARNER], "email": "ada@uni.example", "given_name": "Ada"},
    "dan": {"sub": "lms-1004", "roles": [LEARNER], "email": "dan.o@uni.example", "sis": "dan.o"},
    "mallory": {"sub": "lms-666", "roles": [LEARNER], "email": "bob@evil.example"},
    "twin": {"sub": "lms-1001", "roles": [LEARNER], "email": "twin@other.example"},  # ada's sub, elsewhere
    "prof": {"sub": "lms-9001", "roles": [INSTRUCTOR], "email": "prof@uni.example", "sis": "prof"},
}
LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLIENT_ID, DEPLOYMENT = "tool-client-1", "deployment-1"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Platform:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/issuer"
        self.keys = {"platform-key-1": new_key()}
        self.kid = "platform-key-1"
        self.tool = ""  # the tool's address, set by the test
        self.jwks_fetches = 0
        self.down = False  # the grade services answer 503 while it is
        self.odd = False  # the line items come as an object, not a list, while it is
        self.line_items: list[dict] = []
        self.scores: list[tuple[str, dict]] = []  # (line item id, score) as posted
        self.tokens: set[str] = set()
        routes = [Route("/jwks", self.jwks), Route("/auth", self.auth), Route("/start", self.start),
                  Route("/course", self.course),
                  Route("/token", self.token, methods=["POST"]),
                  Route("/lineitems", self.items, methods=["GET", "POST"]),
                  Route("/lineitems/{n}/scores", self.score, methods=["POST"]),
                  Route("/deep-return", self.deep_return, methods=["POST"]),
                  Route("/memberships", self.memberships)]
        # the course's members as the LMS lists them, two to a page
        self.members = [
            {"user_id": "lms-1001", "roles": [LEARNER], "email": "ada@uni.example", "status": "Active"},
            {"user_id": "lms-9001", "roles": [INSTRUCTOR], "email": "prof@uni.example"},
            {"user_id": "lms-1005", "roles": ["Learner"], "lis_person_sourcedid": "eve", "given_name": "Eve"},
            {"user_id": "lms-1006", "roles": [LEARNER], "email": "fay@uni.example"},
            {"user_id": "lms-1007", "roles": [LEARNER], "email": "gus@uni.example", "status": "Inactive"},
        ]
        self.pages_read = 0
        self.linked: list[dict] = []  # the deep linking responses taken
        self.server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)

    def register_args(self) -> list[str]:
        return ["lti", "register", "--issuer", self.issuer, "--client-id", CLIENT_ID,
                "--auth-url", f"{self.url}/auth", "--jwks-url", f"{self.url}/jwks",
                "--token-url", f"{self.url}/token", "--deployment-id", DEPLOYMENT]

    def rotate(self) -> None:
        """A new signing key, published beside the old one."""
        self.kid = f"platform-key-{len(self.keys) + 1}"
        self.keys[self.kid] = new_key()

    # -- what a tool asks of the platform ------------------------------------------------------------

    async def jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        keys = [json.loads(RSAAlgorithm.to_jwk(key.public_key())) | {"kid": kid, "alg": "RS256", "use": "sig"}
                for kid, key in self.keys.items()]
        return JSONResponse({"keys": keys})

    async def token(self, request: Request) -> Response:
        """Client credentials with a JWT the tool signed, checked with the tool's published keys."""
        if self.down:
            return Response("down", 503)
        form = await request.form()
        assert form["grant_type"] == "client_credentials"
        assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        keys = jwt.PyJWKClient(f"{self.tool}/.well-known/jwks.json")
        assertion = form["client_assertion"]
        try:
            claims = jwt.decode(assertion, keys.get_signing_key_from_jwt(assertion).key, algorithms=["RS256"],
                                audience=f"{self.url}/token", issuer=CLIENT_ID)
        except jwt.PyJWTError as error:
            return JSONResponse({"error": "invalid_client", "error_description": str(error)}, 401)
        assert claims["sub"] == CLIENT_ID and "lti-ags/scope/score" in form["scope"]
        token = f"token-{len(self.tokens)}"
        self.tokens.add(token)
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    async def deep_return(self, request: Request) -> Response:
        """Where a deep linking response comes back: checked with the tool's keys; a line item of a
        content item becomes a column, as an LMS makes it."""
        signed = (await request.form())["JWT"]
        keys = jwt.PyJWKClient(f"{self.tool}/.well-known/jwks.json")
        try:
            claims = jwt.decode(signed, keys.get_signing_key_from_jwt(signed).key, algorithms=["RS256"],
                                audience=self.issuer, issuer=CLIENT_ID)
        except jwt.PyJWTError as error:
            return Response(f"refused: {error}", 400)
        assert claims[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
        self.linked.append(claims)
        for item in claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]:
            if "lineItem" in item:
                self.line_items.append(item["lineItem"] | {"id": f"{self.url}/lineitems/{len(self.line_items) + 1}"})
        return HTMLResponse("linked")

    async def memberships(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response("no token", 401)
        assert request.headers["accept"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        self.pages_read += 1
        page = int(request.query_params.get("page", "0"))
        members = self.members[2 * page: 2 * page + 2]
        headers = {}
        if 2 * page + 2 < len(self.members):
            headers["Link"] = f'<{self.url}/memberships?page={page + 1}>; rel="next"'
        return JSONResponse({"id": f"{self.url}/memberships", "members": members}, headers=headers)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "").removeprefix("Bearer ") in self.tokens

    async def items(self, request: Request) -> Response:
        if self.down:
            return Response("down", 503)
        if not self._authorized(request):
            return Response("no token", 401)
        if request.method == "GET":
            if self.odd:  # an LMS answering in another shape
                return JSONResponse({"lineItems": self.line_items})
            wanted = request.query_params.get("resource_id")
            return JSONResponse([i for i in self.line_items if wanted is None or i["resourceId"] == wanted])
        item = await request.json() | {"id": f"{self.url}/lineitems/{len(self.line_items) + 1}"}
        self.line_items.append(item)
        return JSONResponse(item, 201)

    async def score(self, request: Request) -> Response:
        if self.down:
            return Response("down", 503)
        if not self._authorized(request):
            return Response("no token", 401)
        assert request.headers["content-type"] == "application/vnd.ims.lis.v1.score+json"
        self.scores.append((f"{self.url}/lineitems/{request.path_params['n']}", await request.json()))
        return Response(status_code=204)

    async def auth(self, request: Request) -> Response:
        """The OIDC authorization endpoint: the user (login_hint) signed in here, an id_token posted
        back to the tool's redirect_uri with the tool's state."""
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or not q.get("redirect_uri", "").startswith(self.tool):
            return Response("unknown client or redirect", 400)
        assert q["scope"] == "openid" and q["response_type"] == "id_token" and q["response_mode"] == "form_post"
        linking = {}
        if q.get("lti_message_hint") == "deep-linking":  # the LMS's "add external tool"
            linking = {CLAIM + "message_type": "LtiDeepLinkingRequest", CLAIM + "resource_link": None,
                       LINKING: {"deep_link_return_url": f"{self.url}/deep-return",
                                 "accept_types": ["ltiResourceLink"], "data": "the-lms-own-data"}}
        token = self.id_token(q["login_hint"], q["nonce"], **linking)
        return autopost(q["redirect_uri"], {"id_token": token, "state": q["state"]})

    async def start(self, request: Request) -> Response:
        """A link in the LMS: begins the launch of the tool for `user` (the third-party login)."""
        fields = {"iss": self.issuer, "login_hint": request.query_params["user"], "client_id": CLIENT_ID,
                  "target_link_uri": f"{self.tool}/", "lti_deployment_id": DEPLOYMENT}
        if request.query_params.get("linking"):
            fields["lti_message_hint"] = "deep-linking"
        return autopost(f"{self.tool}/lti/login", fields)

    async def course(self, request: Request) -> HTMLResponse:
        """The LMS's page of the course, the tool in a frame of it. Reached as http://localhost:PORT, it
        is another site than the tool's 127.0.0.1, as an LMS's page is."""
        start = f"/start?{urlencode(request.query_params)}"
        return HTMLResponse(f'<!doctype html><link rel="icon" href="data:,"><h1>Neural networks</h1><iframe name="tool" src="{html.escape(start)}"'
                            ' width="900" height="600"></iframe>')

    @property
    def page(self) -> str:
        """Where the LMS's own pages are (the site that frames the tool)."""
        return f"http://localhost:{self.port}"

    # -- tokens --------------------------------------------------------------------------------------

    def claims(self, user: str, nonce: str, **changes) -> dict:
        now = int(time.time())
        who = USERS[user]
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": who["sub"], "exp": now + 300, "iat": now,
            "nonce": nonce, "email": who["email"], "given_name": who.get("given_name", ""),
            CLAIM + "deployment_id": DEPLOYMENT, CLAIM + "version": "1.3.0",
            CLAIM + "message_type": "LtiResourceLinkRequest", CLAIM + "roles": who["roles"],
            CLAIM + "resource_link": {"id": "link-1"}, CLAIM + "target_link_uri": f"{self.tool}/",
            CLAIM + "context": {"id": "course-1", "title": "Neural networks"},
            CLAIM + "launch_presentation": {"document_target": "iframe", "return_url": f"{self.page}/course"},
            CLAIM + "lis": {"person_sourcedid": who.get("sis")},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                          "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": f"{self.url}/lineitems"},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{self.url}/memberships", "service_versions": ["2.0"]},
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def id_token(self, user: str, nonce: str, key=None, kid: str | None = None, algorithm: str = "RS256",
                 **changes) -> str:
        key = key if key is not None else self.keys[self.kid]
        return jwt.encode(self.claims(user, nonce, **changes), key, algorithm=algorithm,
                          headers={"kid": kid or self.kid})


def autopost(url: str, fields: dict) -> HTMLResponse:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    form = f'<form id="f" method="post" action="{html.escape(url)}">{inputs}</form>'
    return HTMLResponse(f"<!doctype html><html><body>{form}<script>document.getElementById('f').submit()"
                        f"</script></body></html>")


def form_fields(page: str) -> dict:
    """The hidden fields of an auto-posting page."""
    import re

    return {html.unescape(k): html.unescape(v)
            for k, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)}


def login_query(platform: Platform, user: str) -> str:
    return urlencode({"iss": platform.issuer, "login_hint": user, "client_id": CLIENT_ID,
                      "target_link_uri": f"{platform.tool}/"})

