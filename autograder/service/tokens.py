"""The service's sign-in tokens and sessions: two tables beside the queue, each secret
kept as its SHA-256 only.

A token (`autograder token`) is for one student of the roster or an instructor, kept
until revoked: sent as `Authorization: Bearer`, or opened once as a sign-in link. A
sign-in (by link or through JupyterHub) starts a session, whose secret is the browser's
cookie: it ends at sign-out, after SESSION_HOURS, or when the person's tokens are
revoked.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.engine import Engine

metadata = MetaData()
tokens = Table(
    "autograder_token",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("person", String(128), nullable=False, index=True),
    Column("instructor", Boolean, nullable=False, default=False),
    Column("revoked", Boolean, nullable=False, default=False),
)
sessions = Table(
    "autograder_session",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("person", String(128), nullable=False, index=True),
    Column("instructor", Boolean, nullable=False, default=False),
    Column("expires", DateTime, nullable=False),
)
SESSION_HOURS = 12


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    """Who a token signs in: a student of the roster, or an instructor."""

    name: str
    instructor: bool = False


class Tokens:
    """The tokens in the database of `engine`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        metadata.create_all(engine)

    # -- tokens -----------------------------------------------------------------------

    def new_token(self, person: str, instructor: bool = False) -> str:
        token = secrets.token_urlsafe(32)
        row = {"digest": digest(token), "person": person, "instructor": instructor}
        with self.engine.begin() as db:
            db.execute(tokens.insert().values(**row, revoked=False))
        return token

    def person(self, token: str) -> Person | None:
        query = select(tokens).where(tokens.c.digest == digest(token))
        with self.engine.connect() as db:
            row = db.execute(query).mappings().first()
        if row is None or row["revoked"]:
            return None
        return Person(row["person"], bool(row["instructor"]))

    def revoke(self, person: str) -> int:
        """Revoke every token of `person`, and end their sessions; how many tokens
        there were."""
        change = update(tokens).where(tokens.c.person == person).values(revoked=True)
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.person == person))
            return db.execute(change).rowcount

    # -- sessions ---------------------------------------------------------------------

    def new_session(self, who: Person) -> str:
        """A browser's session for `who`: its secret (the cookie)."""
        secret = secrets.token_urlsafe(32)
        expires = _now() + datetime.timedelta(hours=SESSION_HOURS)
        row = {"digest": digest(secret), "person": who.name, "expires": expires}
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.expires < _now()))
            db.execute(sessions.insert().values(**row, instructor=who.instructor))
        return secret

    def session(self, secret: str) -> Person | None:
        query = select(sessions).where(sessions.c.digest == digest(secret))
        with self.engine.connect() as db:
            row = db.execute(query).mappings().first()
        if row is None or row["expires"] < _now():
            return None
        return Person(row["person"], bool(row["instructor"]))

    def end_session(self, secret: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.digest == digest(secret)))
