"""What the service keeps for LTI 1.3, beside the queue in the gradebook database: the
platforms registered (`autograder lti register`), keyed by issuer and client id since
every hosted Canvas shares one issuer, and the logins begun and not yet finished (a
state and a nonce each, used once, kept ten minutes, at most MAX_PENDING), and who each
LMS user is here (by issuer and user id, as the platform names them); and, in the
course folder, the tool's own key pair (`lti_keys.py`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()
platforms = Table(
    "autograder_lti_platform",
    metadata,
    Column("issuer", String(255), primary_key=True),
    Column("client_id", String(255), primary_key=True),
    Column("auth_url", Text, nullable=False),
    Column("jwks_url", Text, nullable=False),
    Column("token_url", Text, nullable=False),
    Column("deployments", Text, nullable=False),  # a JSON list of ids
    Column("contexts", Text, nullable=False, default="[]"),  # LMS courses, if given
)
logins = Table(
    "autograder_lti_login",
    metadata,
    Column("state", String(64), primary_key=True),  # its SHA-256
    Column("issuer", String(255), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("expires", DateTime, nullable=False),
)
people = Table(  # who an LMS user is here: the platform's user id within its issuer
    "autograder_lti_person",
    metadata,
    Column("issuer", String(255), primary_key=True),
    Column("sub", String(255), primary_key=True),
    Column("student", String(128), nullable=False, index=True),
)
origins = Table(  # the LMS's own pages, as verified launches named them (embedding.py)
    "autograder_lti_origin",
    metadata,
    Column("issuer", String(255), primary_key=True),
    Column("client_id", String(255), primary_key=True),
    Column("origin", String(255), primary_key=True),
)
LOGIN_MINUTES = 10
MAX_ORIGINS = 32  # learned per platform; past it, none more
MAX_PENDING = 10_000  # logins begun and not finished; past it, new ones wait


@dataclass(frozen=True)
class Platform:
    issuer: str
    client_id: str
    auth_url: str
    jwks_url: str
    token_url: str
    deployments: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)  # none: any of its courses


@dataclass(frozen=True)
class Login:
    """A login this service began: for which platform, with which nonce."""

    issuer: str
    client_id: str
    nonce: str


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class LtiStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        metadata.create_all(engine)

    # -- platforms ------------------------------------------------------------------

    def register(self, platform: Platform) -> None:
        """Add the platform, or replace what was registered for its issuer and client
        id (its deployments joined to those known)."""
        known = self.platform(platform.issuer, platform.client_id)
        deployments = list(known.deployments if known else [])
        deployments += [d for d in platform.deployments if d not in deployments]
        contexts = list(known.contexts if known else [])
        contexts += [c for c in platform.contexts if c not in contexts]
        row = {
            "auth_url": platform.auth_url,
            "jwks_url": platform.jwks_url,
            "token_url": platform.token_url,
            "deployments": json.dumps(deployments),
            "contexts": json.dumps(contexts),
        }
        key = (platforms.c.issuer == platform.issuer) & (
            platforms.c.client_id == platform.client_id
        )
        with self.engine.begin() as db:
            db.execute(delete(platforms).where(key))
            db.execute(
                platforms.insert().values(
                    issuer=platform.issuer, client_id=platform.client_id, **row
                )
            )

    def remove(self, issuer: str, client_id: str) -> bool:
        key = (platforms.c.issuer == issuer) & (platforms.c.client_id == client_id)
        learned = (origins.c.issuer == issuer) & (origins.c.client_id == client_id)
        with self.engine.begin() as db:
            db.execute(delete(origins).where(learned))
            return db.execute(delete(platforms).where(key)).rowcount > 0

    def learn_origin(self, platform: Platform, origin: str) -> bool:
        """Keep `origin` as one of the platform's own (at most MAX_ORIGINS each)."""
        key = (origins.c.issuer == platform.issuer) & (
            origins.c.client_id == platform.client_id
        )
        with self.engine.connect() as db:
            known = set(db.execute(select(origins.c.origin).where(key)).scalars())
        if origin in known or len(known) >= MAX_ORIGINS:
            return False
        try:
            with self.engine.begin() as db:
                db.execute(
                    origins.insert().values(
                        issuer=platform.issuer,
                        client_id=platform.client_id,
                        origin=origin,
                    )
                )
        except IntegrityError:  # learned at this moment by another request
            return False
        return True

    def learned_origins(self, platform: Platform | None = None) -> set[str]:
        """The origins of LMS pages known (of `platform`'s alone, if given)."""
        query = select(origins.c.origin)
        if platform is not None:
            query = query.where(
                (origins.c.issuer == platform.issuer)
                & (origins.c.client_id == platform.client_id)
            )
        with self.engine.connect() as db:
            return set(db.execute(query).scalars())

    def platforms(self, issuer: str | None = None) -> list[Platform]:
        query = select(platforms).order_by(platforms.c.issuer, platforms.c.client_id)
        if issuer is not None:
            query = query.where(platforms.c.issuer == issuer)
        with self.engine.connect() as db:
            rows = list(db.execute(query).mappings())
        return [
            Platform(
                r["issuer"],
                r["client_id"],
                r["auth_url"],
                r["jwks_url"],
                r["token_url"],
                json.loads(r["deployments"]),
                json.loads(r["contexts"] or "[]"),
            )
            for r in rows
        ]

    def platform(self, issuer: str, client_id: str) -> Platform | None:
        found = [p for p in self.platforms(issuer) if p.client_id == client_id]
        return found[0] if found else None

    # -- people -----------------------------------------------------------------------

    def linked(self, issuer: str, sub: str) -> str | None:
        key = (people.c.issuer == issuer) & (people.c.sub == sub)
        with self.engine.connect() as db:
            return db.execute(select(people.c.student).where(key)).scalar()

    def link(self, issuer: str, sub: str, student: str) -> None:
        with self.engine.begin() as db:
            db.execute(people.insert().values(issuer=issuer, sub=sub, student=student))

    def linked_students(self) -> set[str]:
        with self.engine.connect() as db:
            return set(db.execute(select(people.c.student)).scalars())

    # -- logins -----------------------------------------------------------------------

    def begin(self, platform: Platform) -> tuple[str, str]:
        """A new login with `platform`: its state and nonce. Past MAX_PENDING logins
        begun and not finished, the oldest is forgotten (a flood of logins delays no
        real one, which finishes in seconds)."""
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = _now() + datetime.timedelta(minutes=LOGIN_MINUTES)
        with self.engine.begin() as db:
            db.execute(delete(logins).where(logins.c.expires < _now()))
            pending = db.execute(select(func.count()).select_from(logins)).scalar_one()
            if pending >= MAX_PENDING:  # a flood of logins: the oldest go first
                oldest = select(logins.c.state).order_by(logins.c.expires)
                gone = oldest.limit(pending - MAX_PENDING + 1).scalar_subquery()
                db.execute(delete(logins).where(logins.c.state.in_(gone)))
            db.execute(
                logins.insert().values(
                    state=_digest(state),
                    issuer=platform.issuer,
                    client_id=platform.client_id,
                    nonce=nonce,
                    expires=expires,
                )
            )
        return state, nonce

    def finish(self, state: str) -> Login | None:
        """The login `state` began, now finished for good (a second finish of it is
        None), or None when there is none or it expired."""
        key = logins.c.state == _digest(state)
        with self.engine.begin() as db:
            row = db.execute(select(logins).where(key)).mappings().first()
            if row is None or db.execute(delete(logins).where(key)).rowcount != 1:
                return None  # none, or finished at this moment by another request
        if row["expires"] < _now():
            return None
        return Login(row["issuer"], row["client_id"], row["nonce"])
