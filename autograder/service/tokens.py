"""The service's sign-in tokens: a table beside the queue, each token kept as its
SHA-256 only, for a student of the roster or an instructor, revoked for good."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Boolean, Column, MetaData, String, Table, select, update
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
        """Revoke every token of `person`; how many there were."""
        change = update(tokens).where(tokens.c.person == person).values(revoked=True)
        with self.engine.begin() as db:
            return db.execute(change).rowcount
