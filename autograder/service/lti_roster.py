"""The LMS's roster into nbgrader's (LTI Names and Role Provisioning Services): the
members of the course the LMS lists, students who never launched the tool included, as
students of nbgrader's gradebook keyed by their LMS id, as a launch would add them.

An instructor's launch remembers where the course's members are listed and brings them
in the background; `autograder lti roster` brings them now. The list is read page by
page (`Link: <...>; rel="next"`), at most MAX_PAGES.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, Text, select

from .lti import CLAIM, Launches
from .lti_keys import access_token
from .lti_store import LtiStore, Platform

log = logging.getLogger("autograder.service")
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MEMBERS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 200
metadata = MetaData()
rosters = Table(
    "autograder_lti_roster",
    metadata,
    Column("issuer", String(255), primary_key=True),
    Column("client_id", String(255), primary_key=True),
    Column("url", Text, nullable=False),
)


class Rosters:
    def __init__(self, store: LtiStore, root: Path, gradebook_url: str):
        self.store, self.root = store, root
        self.launches = Launches(store, gradebook_url)
        metadata.create_all(store.engine)

    def remember(self, platform: Platform, claims: dict) -> bool:
        """Where the course's members are listed, from an instructor's launch."""
        service = claims.get(NRPS)
        url = (
            service.get("context_memberships_url")
            if isinstance(service, dict)
            else None
        )
        if not isinstance(url, str) or not url.startswith("http"):
            return False
        key = (rosters.c.issuer == platform.issuer) & (
            rosters.c.client_id == platform.client_id
        )
        with self.store.engine.begin() as db:
            db.execute(rosters.delete().where(key))
            db.execute(
                rosters.insert().values(
                    issuer=platform.issuer, client_id=platform.client_id, url=url
                )
            )
        return True

    def bring_in_background(self) -> None:
        threading.Thread(target=self._quietly, name="lti-roster", daemon=True).start()

    def _quietly(self) -> None:
        try:
            self.bring()
        except Exception:
            log.exception("the LMS's roster could not be brought in")

    def bring(self) -> list[str]:
        """Every roster remembered, brought in now: a line for each."""
        import httpx

        with self.store.engine.connect() as db:
            known = list(db.execute(select(rosters)).mappings())
        lines = []
        for row in known:
            platform = self.store.platform(row["issuer"], row["client_id"])
            if platform is None:
                continue
            with httpx.Client(timeout=30, follow_redirects=False) as client:
                token, _ = access_token(client, platform, self.root)
                students = self._members(client, token, row["url"], platform.issuer)
            lines.append(
                f"{platform.issuer}: {len(students)} students on nbgrader's roster "
                "by their LMS id"
            )
        return lines

    def _members(self, client, token: str, url: str | None, issuer: str) -> list[str]:
        students = []
        headers = {"Authorization": f"Bearer {token}", "Accept": MEMBERS}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            answer = client.get(url, headers=headers)
            answer.raise_for_status()
            for member in answer.json().get("members", []):
                if _learner(member):
                    claims = _claims(member) | {"iss": issuer}
                    students.append(self.launches.student_of(claims, True))
            url = answer.links.get("next", {}).get("url")
        return students


def _learner(member) -> bool:
    if not isinstance(member, dict) or member.get("status", "Active") != "Active":
        return False
    roles = member.get("roles")
    return (
        isinstance(roles, list)
        and any(str(role).endswith(("#Learner", "Learner")) for role in roles)
        and isinstance(member.get("user_id"), str)
        and 0 < len(member["user_id"]) <= 255
    )


def _claims(member: dict) -> dict:
    """A member as the claims of a launch would say who they are."""
    return {
        "sub": member["user_id"],
        "email": member.get("email"),
        "given_name": member.get("given_name"),
        "family_name": member.get("family_name"),
        CLAIM + "lis": {"person_sourcedid": member.get("lis_person_sourcedid")},
    }
