"""LTI 1.3 launches from an LMS (the 1EdTech Security Framework's OpenID Connect
third-party login): `/lti/login` begins a login with a registered platform,
`/lti/launch` checks what the platform posts back and signs the person in.

Every check of a launch, in `Launches.verify`: the state equals the cookie this browser
got at the login (and is used once); the id_token is RS256 only, verified with the key
its `kid` names in the platform's JWKS (cached, fetched again for an unknown kid); `iss`
and `aud` (`azp` when there are several audiences) are the registration's, `exp` and
`iat` hold within a minute; the nonce is the one this login sent; the deployment is
registered; `version` is 1.3.0 with a known message type and the claims it requires; and
`target_link_uri` is this service's. A failed check is a page that says which (and a log
line), never a session. PyJWT does the JWT and key work; nothing of it is written here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import urlencode

from .. import names
from .inbox import Refused
from .lti_store import Login, LtiStore, Platform
from .tokens import Person

log = logging.getLogger("autograder.service")
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
LEEWAY = 60  # seconds of clock difference allowed for exp and iat
INSTRUCTOR_ROLES = {
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper",
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
}  # of the course (context) only: an institution's administrator is not one


def refused(what: str) -> Refused:
    log.warning("LTI launch refused: %s", what)
    return Refused(403, f"The launch from your LMS was refused: {what}.")


class Launches:
    """The launches of the course whose database `engine` holds."""

    def __init__(self, store: LtiStore, gradebook_url: str):
        self.store, self.gradebook_url = store, gradebook_url
        self._keys: dict[str, object] = {}  # jwks_url -> its PyJWKClient

    def platform_for(self, issuer: str, client_id: str | None) -> Platform:
        found = [
            p
            for p in self.store.platforms(issuer)
            if client_id is None or p.client_id == client_id
        ]
        if len(found) != 1:
            which = f"{issuer} (client {client_id})" if client_id else issuer
            problem = "is not registered" if not found else "has several registrations"
            raise refused(
                f"the platform {names.text(which, 200)} {problem} with this course "
                "(`autograder lti register`)"
            )
        return found[0]

    def login_url(
        self, platform: Platform, state: str, nonce: str, launch: str, params
    ) -> str:
        query = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": platform.client_id,
            "redirect_uri": launch,
            "login_hint": str(params.get("login_hint", "")),
            "state": state,
            "nonce": nonce,
        }
        if params.get("lti_message_hint"):
            query["lti_message_hint"] = str(params["lti_message_hint"])
        separator = "&" if "?" in platform.auth_url else "?"
        return f"{platform.auth_url}{separator}{urlencode(query)}"

    def verify(self, token: str, login: Login, ours: str) -> dict:
        """The id_token's claims, once every check holds; else Refused."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise refused("the id_token is not a JSON Web Token") from None
        if header.get("alg") != "RS256":
            alg = names.text(header.get("alg"), 20)
            raise refused(f"the id_token is signed with {alg}, and only RS256 is taken")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise refused("the id_token names no key (kid)")
        platform = self.store.platform(login.issuer, login.client_id)
        if platform is None:
            raise refused("the platform of this login is no longer registered")
        key = self._signing_key(platform, kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=platform.client_id,
                issuer=platform.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
            )
        except jwt.ExpiredSignatureError:
            raise refused("the id_token has expired") from None
        except jwt.InvalidAudienceError:
            raise refused("the id_token is not for this tool (aud)") from None
        except jwt.InvalidIssuerError:
            raise refused("the id_token is not from the platform (iss)") from None
        except jwt.InvalidSignatureError:
            raise refused("the id_token's signature does not verify") from None
        except jwt.PyJWTError as error:
            raise refused(f"the id_token is not valid ({error})") from None
        self._check_claims(claims, platform, login, ours)
        return claims

    def _signing_key(self, platform: Platform, kid: str):
        from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError

        client = self._keys.get(platform.jwks_url)
        if not isinstance(client, PyJWKClient):
            # an unknown kid fetches the set again, at most every 2 s
            client = PyJWKClient(
                platform.jwks_url, lifespan=3600, timeout=10, cooldown_duration=2
            )
            self._keys[platform.jwks_url] = client
        try:
            return client.get_signing_key(kid).key
        except PyJWKClientConnectionError:
            raise refused("the platform's keys could not be fetched") from None
        except PyJWKClientError:
            key = names.text(kid, 80)
            raise refused(f"the platform's key set has no key {key}") from None

    def _check_claims(
        self, claims: dict, platform: Platform, login: Login, ours: str
    ) -> None:
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if (several or "azp" in claims) and claims.get("azp") != platform.client_id:
            raise refused("the id_token's authorized party (azp) is not this tool")
        if not hmac.compare_digest(str(claims["nonce"]), login.nonce):
            raise refused("the nonce is not the one this login sent (a replay?)")
        if claims.get(CLAIM + "deployment_id") not in platform.deployments:
            raise refused("the deployment is not registered with this course")
        context = claims.get(CLAIM + "context")
        course = context.get("id") if isinstance(context, dict) else None
        if platform.contexts and course not in platform.contexts:
            raise refused("the launch is from another course of the LMS (context)")
        if claims.get(CLAIM + "version") != "1.3.0":
            raise refused("the launch is not LTI version 1.3.0")
        message = claims.get(CLAIM + "message_type")
        if message not in MESSAGE_TYPES:
            raise refused(f"the message type {names.text(message, 60)} is not known")
        if not isinstance(claims.get(CLAIM + "roles"), list):
            raise refused("the launch gives no roles")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not 0 < len(sub) <= 255 or not _utf8(sub):
            raise refused("the launch names no user (sub)")
        link = claims.get(CLAIM + "resource_link")
        if message == "LtiResourceLinkRequest" and not (
            isinstance(link, dict) and link.get("id")
        ):
            raise refused("the launch has no resource link")
        if not is_ours(claims.get(CLAIM + "target_link_uri"), ours):
            raise refused("the launch is for another tool (target_link_uri)")

    def person(self, claims: dict) -> Person:
        """Who the launch signs in: an instructor by the LMS's roles in the course,
        else a student of nbgrader's roster. A student is found by the platform's
        user id (`iss` and `sub`, linked at their first launch); one not linked yet
        is the roster's student with their SIS id or the e-mail the roster holds
        (when no LMS user has that student yet), else a new student named by their
        SIS id, or `lti-` and a digest. Never by a name they can choose."""
        instructor = bool(INSTRUCTOR_ROLES & set(map(str, claims[CLAIM + "roles"])))
        return Person(self.student_of(claims, enrol=not instructor), instructor)

    def student_of(self, claims: dict, enrol: bool) -> str:
        """The roster id of the person `claims` name (see `person`); with `enrol`,
        put on the roster or linked to it."""
        from nbgrader.api import Gradebook, Student

        issuer, sub = str(claims["iss"]), str(claims["sub"])
        known = self.store.linked(issuer, sub)
        if known is not None:
            return known
        digest = hashlib.sha256(f"{issuer} {sub}".encode()).hexdigest()[:12]
        with Gradebook(self.gradebook_url) as gradebook:
            roster = {s.id: s for s in gradebook.students}
            linked = self.store.linked_students()
            sis, email = _sis_id(claims), _email(claims)
            # on the roster before and no LMS user's yet: the one with their SIS id
            # (the institution's, not theirs to choose), or the e-mail the instructor
            # gave the roster
            match = next(
                (
                    s.id
                    for s in roster.values()
                    if s.id not in linked
                    and (s.id == sis or (email and (s.email or "").lower() == email))
                ),
                None,
            )
            name = match or (
                sis if sis and names.plain_id(sis) and sis not in roster else None
            )
            name = name or f"lti-{digest}"
            if not enrol:
                return name
            if match is None and name not in roster:
                gradebook.add_student(
                    name,
                    lms_user_id=sub,
                    first_name=_text(claims.get("given_name")),
                    last_name=_text(claims.get("family_name")),
                    email=_text(claims.get("email")),
                )
            elif not roster[name].lms_user_id:
                student = gradebook.db.query(Student).filter_by(id=name).one()
                student.lms_user_id = sub
                gradebook.db.commit()
        self.store.link(issuer, sub, name)
        return name


def _sis_id(claims: dict) -> str | None:
    lis = claims.get(CLAIM + "lis")
    sourced = lis.get("person_sourcedid") if isinstance(lis, dict) else None
    return sourced if isinstance(sourced, str) and sourced else None


def _email(claims: dict) -> str | None:
    email = claims.get("email")
    return email.lower() if isinstance(email, str) and "@" in email else None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _text(value) -> str | None:
    return names.text(value, 120) if isinstance(value, str) and value else None


def is_ours(url, ours: str) -> bool:
    """Whether `url` is an address of this service (`ours`: its scheme, host and
    prefix)."""
    return isinstance(url, str) and (url == ours or url.startswith(ours + "/"))
