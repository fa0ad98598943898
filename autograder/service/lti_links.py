"""Linking an assignment from the LMS (LTI Deep Linking 2.0): an instructor adding this
tool in the LMS gets a page of the course's released assignments; each button posts
back to the LMS a response signed with the tool's key whose content item is a link to
the service and a line item (the LMS's gradebook column) with the assignment's name as
its resource id and its maximum score, where grades then go (`lti_outbox`).
"""

from __future__ import annotations

import html
import time
import uuid

from starlette.responses import HTMLResponse

from .embedding import origin_of
from .inbox import Refused
from .lti import CLAIM
from .lti_keys import signed_by_tool
from .lti_store import Platform

SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


def linking_page(course, platform: Platform, claims: dict, home: str) -> HTMLResponse:
    """The page of assignments to link, each its own signed response to the LMS."""
    settings = claims.get(SETTINGS)
    if not isinstance(settings, dict):
        settings = {}
    back = settings.get("deep_link_return_url")
    origin = origin_of(back)  # https (or this machine's), a plain host: for the CSP
    if origin is None or not isinstance(back, str):
        raise Refused(400, "The LMS sent no https address to return the link to.")
    accepted = settings.get("accept_types", ["ltiResourceLink"])
    if not isinstance(accepted, list) or "ltiResourceLink" not in accepted:
        raise Refused(400, "The LMS takes no link to a tool here.")
    forms = []
    for assignment in course.assignments:
        signed = _response(course, platform, claims, settings, assignment, home)
        forms.append(
            f'<form method="post" action="{html.escape(back)}">'
            f'<input type="hidden" name="JWT" value="{html.escape(signed)}">'
            f"<button>Add {html.escape(assignment.name)} "
            f"({assignment.max_score:g} points)</button></form>"
        )
    page = HTMLResponse(
        "<!doctype html><title>Add an assignment</title>"
        "<h1>Add an assignment of this course to the LMS</h1>"
        + ("".join(forms) or "<p>No assignment is released yet.</p>")
    )
    page.headers["Content-Security-Policy"] = (  # framing: the middleware's
        f"default-src 'none'; base-uri 'none'; form-action {origin}"
    )
    return page


def _response(course, platform, claims, settings, assignment, home: str) -> str:
    now = int(time.time())
    item = {
        "type": "ltiResourceLink",
        "title": assignment.name,
        "url": f"{home}/",
        "custom": {"assignment": assignment.name},
        "lineItem": {
            "scoreMaximum": assignment.max_score,
            "label": assignment.name,
            "resourceId": assignment.name,
        },
    }
    message = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 600,
        "nonce": uuid.uuid4().hex,
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": claims[CLAIM + "deployment_id"],
        ITEMS: [item],
    }
    if "data" in settings:  # the LMS's own, given back as it came
        message[DATA] = settings["data"]
    return signed_by_tool(course.root, message)
