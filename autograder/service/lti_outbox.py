"""Grades back to the LMS (LTI Assignment and Grade Services): an outbox in the
database, sent in the background with retries.

A launch records where its course's line items are (`remember`); each time a student's
score that counts changes, `enqueue` keeps it in the outbox, and `Sender` posts it to
the assignment's line item (looked up by the assignment's name before one is made, so an
assignment never gets two columns) with the fields the specification requires. An LMS
that is down or slow costs time only: a row is sent until the LMS takes it (waiting
longer after each failure), survives a restart, and says what the LMS answered.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)
from sqlalchemy.engine import Engine

from .lti_keys import access_token
from .lti_store import LtiStore, Platform

log = logging.getLogger("autograder.service")
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LONGEST_WAIT = 300.0  # seconds between tries, at most
metadata = MetaData()
members = Table(  # where each student's grades go: their last launch's course
    "autograder_lti_member",
    metadata,
    Column("student", String(128), primary_key=True),
    Column("sub", String(255), nullable=False),
    Column("issuer", String(255), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("lineitems", Text, nullable=False),
)
outbox = Table(
    "autograder_lti_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("student", String(128), nullable=False, index=True),
    Column("assignment", String(128), nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("timestamp", String(40), nullable=False),
    Column("status", String(16), nullable=False, index=True),  # pending, sent
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try", DateTime, nullable=False),
    Column("answer", Text),  # what the LMS said last
)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Outbox:
    def __init__(self, engine: Engine):
        self.engine = engine
        metadata.create_all(engine)

    def remember(self, student: str, platform: Platform, claims: dict) -> None:
        """Where `student`'s grades go, from their launch (when it offers grades)."""
        endpoint = claims.get(AGS)
        lineitems = endpoint.get("lineitems") if isinstance(endpoint, dict) else None
        if not isinstance(lineitems, str) or not lineitems.startswith("http"):
            return
        row = {"sub": str(claims["sub"]), "issuer": platform.issuer}
        row |= {"client_id": platform.client_id, "lineitems": lineitems}
        with self.engine.begin() as db:
            db.execute(members.delete().where(members.c.student == student))
            db.execute(members.insert().values(student=student, **row))

    def enqueue(self, student: str, assignment: str, score: float, top: float) -> bool:
        """Keep the new score that counts for sending; False when the student has no
        LMS to send it to."""
        with self.engine.begin() as db:
            if db.execute(select(members).where(members.c.student == student)).first():
                stamp = datetime.datetime.now(datetime.UTC).isoformat()
                older = (outbox.c.student == student) & (
                    outbox.c.assignment == assignment
                )  # a score not sent yet is replaced by the new one, never sent after
                db.execute(
                    update(outbox)
                    .where(older, outbox.c.status == "pending")
                    .values(status="superseded")
                )
                db.execute(
                    outbox.insert().values(
                        id=uuid.uuid4().hex,
                        student=student,
                        assignment=assignment,
                        score=score,
                        max_score=top,
                        timestamp=stamp,
                        status="pending",
                        attempts=0,
                        next_try=_now(),
                    )
                )
                return True
        return False

    def states(self) -> dict[tuple[str, str], dict]:
        """(student, assignment) -> the latest row: what reached the LMS."""
        with self.engine.connect() as db:
            rows = db.execute(select(outbox).order_by(outbox.c.timestamp)).mappings()
            return {(r["student"], r["assignment"]): dict(r) for r in rows}

    def latest(self, student: str, assignment: str) -> dict | None:
        """The last score kept for the student's assignment, sent or not."""
        query = (
            select(outbox)
            .where(outbox.c.student == student, outbox.c.assignment == assignment)
            .order_by(outbox.c.timestamp.desc())
        )
        with self.engine.connect() as db:
            row = db.execute(query.limit(1)).mappings().first()
        return dict(row) if row else None

    def due(self) -> list[dict]:
        query = (
            select(outbox)
            .where(outbox.c.status == "pending", outbox.c.next_try <= _now())
            .order_by(outbox.c.timestamp)
        )
        with self.engine.connect() as db:
            return [dict(r) for r in db.execute(query.limit(50)).mappings()]

    def take(self, row: dict, seconds: float) -> bool:
        """Claim `row` for `seconds` (one instance sends it)."""
        change = (
            update(outbox)
            .where(outbox.c.id == row["id"], outbox.c.next_try == row["next_try"])
            .where(outbox.c.status == "pending")
            .values(next_try=_now() + datetime.timedelta(seconds=seconds))
        )
        with self.engine.begin() as db:
            return db.execute(change).rowcount == 1

    def done(self, row: dict, sent: bool, answer: str) -> None:
        attempts = row["attempts"] + 1
        wait = min(LONGEST_WAIT, 2.0**attempts)
        values = {"attempts": attempts, "answer": answer[:500]}
        if sent:
            values["status"] = "sent"
        else:
            values["next_try"] = _now() + datetime.timedelta(seconds=wait)
        with self.engine.begin() as db:
            db.execute(update(outbox).where(outbox.c.id == row["id"]).values(**values))

    def member(self, student: str) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(select(members).where(members.c.student == student))
            found = row.mappings().first()
        return dict(found) if found else None


class Sender:
    """The thread that sends the outbox: every second, what is due."""

    def __init__(self, outbox_: Outbox, store: LtiStore, root: Path):
        """`root`: the course, whose folder keeps the tool's key."""
        self.outbox, self.store, self.root = outbox_, store, root
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self.thread = threading.Thread(target=self._run, name="lti-sender", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(30)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                for row in self.outbox.due():
                    if self.stopping.is_set():
                        return
                    if self.outbox.take(row, 180):  # longer than a send can take
                        sent, answer = self._send(row)
                        self.outbox.done(row, sent, answer)
            except Exception:  # the database away for a moment: the next round
                log.exception("the LMS outbox could not be read")
            self.wake.wait(1.0)
            self.wake.clear()

    def _send(self, row: dict) -> tuple[bool, str]:
        import httpx

        member = self.outbox.member(row["student"])
        platform = (
            self.store.platform(member["issuer"], member["client_id"])
            if member
            else None
        )
        if member is None or platform is None:
            return False, "no LMS registered for this student any more"
        try:
            with httpx.Client(timeout=20, follow_redirects=False) as client:
                token = self._token(client, platform)
                headers = {"Authorization": f"Bearer {token}"}
                item = self._line_item(client, headers, member["lineitems"], row)
                score = {
                    "userId": member["sub"],
                    "scoreGiven": row["score"],
                    "scoreMaximum": row["max_score"],
                    "timestamp": row["timestamp"],
                    "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded",
                }
                url = _under(item, "scores")
                answer = client.post(
                    url,
                    json=score,
                    headers=headers
                    | {"Content-Type": "application/vnd.ims.lis.v1.score+json"},
                )
                answer.raise_for_status()
                return True, f"HTTP {answer.status_code}"
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            return False, f"HTTP {status}: {error.response.text[:300]}"
        except (
            Exception
        ) as error:  # an LMS's answer of another shape: said, tried later
            return False, f"{type(error).__name__}: {str(error)[:300]}"

    def _token(self, client, platform: Platform) -> str:
        """An access token, kept until a minute before it expires."""
        key = (platform.issuer, platform.client_id)
        cached = self._tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        token, seconds = access_token(client, platform, self.root)
        self._tokens[key] = (token, time.monotonic() + max(0.0, seconds - 60))
        return token

    def _line_item(self, client, headers: dict, lineitems: str, row: dict) -> str:
        """The assignment's line item: the one with its name as resource id, else a
        new one with its maximum score."""
        kind = "application/vnd.ims.lis.v2.lineitemcontainer+json"
        found = client.get(
            lineitems,
            params={"resource_id": row["assignment"]},
            headers=headers | {"Accept": kind},
        )
        found.raise_for_status()
        items = found.json()
        if not isinstance(items, list):
            raise ValueError("the LMS's line items are not a list")
        for item in items:
            if (
                isinstance(item, dict)
                and item.get("resourceId") == row["assignment"]
                and isinstance(item.get("id"), str)
            ):
                return item["id"]
        made = client.post(
            lineitems,
            json={
                "label": row["assignment"],
                "resourceId": row["assignment"],
                "scoreMaximum": row["max_score"],
            },
            headers=headers
            | {"Content-Type": "application/vnd.ims.lis.v2.lineitem+json"},
        )
        made.raise_for_status()
        return str(made.json()["id"])


def _under(url: str, part: str) -> str:
    """`url`/`part`, its query kept after (line item URLs may carry one)."""
    path, _, query = url.partition("?")
    return f"{path.rstrip('/')}/{part}" + (f"?{query}" if query else "")
