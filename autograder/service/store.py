"""The service's durable queue: a table beside nbgrader's in the course's gradebook
database (SQLite by default; any SQLAlchemy URL, PostgreSQL for several service
instances), with the sign-in tokens beside it (tokens.py).

A submission goes queued -> grading -> a final status (graded, invalid, timeout,
crashed). A grading is claimed by one instance with a conditional UPDATE (only the
instance whose UPDATE changed the row grades it) under a lease that the instance renews
while it grades; a lease that ran out (an instance killed with -9) puts the submission
back in the queue, and after MAX_ATTEMPTS it is crashed with a message.
"""

from __future__ import annotations

import datetime
import secrets

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
    text,
    update,
)

from .tokens import Tokens

MAX_ATTEMPTS = 2  # gradings begun for one submission before it is reported crashed
LEASE_SECONDS = 30.0  # by default; an instance renews its lease 4 times as often
FINAL = ("graded", "invalid", "timeout", "crashed")

metadata = MetaData()
submissions = Table(
    "autograder_submission",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("student", String(128), nullable=False, index=True),
    Column("assignment", String(128), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    # its nbgrader timestamp.txt: the exchange's, or the time it was received
    Column("stamp", String(64), nullable=False, index=True),
    Column("exchange", Boolean, nullable=False, default=False),  # collected from it
    Column("status", String(16), nullable=False, index=True),
    Column("submitted_at", DateTime, nullable=False),
    Column("started_at", DateTime),
    Column("graded_at", DateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64)),
    Column("lease_until", DateTime),
    Column("score", Float),
    Column("max_score", Float),
    Column("message", Text),
)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Store:
    """The queue and the tokens in the database at `url`."""

    def __init__(self, url: str, lease: float = LEASE_SECONDS):
        """`lease`: how long a grading whose instance stopped renewing it (killed, or
        cut off from the database) waits before another instance grades it."""
        self.lease = lease
        # SQLite waits this long for a lock (unless the URL says, ?timeout=SECONDS)
        sqlite = url.startswith("sqlite") and "timeout=" not in url
        options = {"connect_args": {"timeout": 30}} if sqlite else {}
        self.engine = create_engine(url, **options)
        metadata.create_all(self.engine)
        self.tokens = Tokens(self.engine)

    # -- submissions ------------------------------------------------------------------

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(16)

    def add(
        self,
        ident: str,
        student: str,
        assignment: str,
        sha256: str,
        stamp: str | None = None,
        exchange: bool = False,
    ) -> str:
        """Queue submission `ident` (`new_id`; its notebook already on disk), with the
        nbgrader timestamp it was given (default: now)."""
        with self.engine.begin() as db:
            db.execute(_queued(ident, student, assignment, sha256, stamp, exchange))
        return ident

    def add_within(
        self,
        ident: str,
        student: str,
        assignment: str,
        sha256: str,
        limit: tuple[datetime.datetime, int],
        keep,
        **given,
    ) -> bool:
        """Queue submission `ident` as `add` does unless `student` made `limit[1]`
        or more to `assignment` since `limit[0]` (False then): counted and queued in
        one transaction, which on PostgreSQL holds a lock of that student and
        assignment, so that several instances cannot each admit one more. `keep()`
        puts the notebook on disk, once it is admitted and before it is queued;
        `given`: its `stamp` and `exchange`, as `add` takes them."""
        made = select(func.count()).where(  # in the window
            submissions.c.student == student,
            submissions.c.assignment == assignment,
            submissions.c.submitted_at >= limit[0],
        )
        with self.engine.begin() as db:
            if db.dialect.name == "postgresql":  # until this transaction ends
                key = f"autograder-limit/{student}/{assignment}"
                lock = "SELECT pg_advisory_xact_lock(hashtext(:key))"
                db.execute(text(lock), {"key": key})
            if int(db.execute(made).scalar_one()) >= limit[1]:
                return False
            keep()
            db.execute(_queued(ident, student, assignment, sha256, **given))
        return True

    def knows(self, student: str, assignment: str, stamp: str) -> bool:
        """Whether a submission with this nbgrader timestamp is queued or was."""
        query = select(func.count()).where(
            submissions.c.student == student,
            submissions.c.assignment == assignment,
            submissions.c.stamp == stamp,
        )
        with self.engine.connect() as db:
            return bool(db.execute(query).scalar_one())

    def get(self, ident: str) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(select(submissions).where(submissions.c.id == ident))
            found = row.mappings().first()
        return dict(found) if found else None

    def listed(self, student: str | None = None, assignment: str | None = None) -> list:
        query = select(submissions).order_by(submissions.c.submitted_at)
        if student is not None:
            query = query.where(submissions.c.student == student)
        if assignment is not None:
            query = query.where(submissions.c.assignment == assignment)
        with self.engine.connect() as db:
            return [dict(row) for row in db.execute(query).mappings()]

    def position(self, ident: str) -> int | None:
        """How many queued submissions are ahead of this one (None: not queued)."""
        row = self.get(ident)
        if row is None or row["status"] != "queued":
            return None
        query = select(func.count()).where(
            submissions.c.status == "queued",
            submissions.c.submitted_at < row["submitted_at"],
        )
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def claim(self, instance: str) -> dict | None:
        """The next submission to grade, now this instance's: the oldest queued one of
        the student served longest ago, among students with none grading (fair: one
        student's twenty submissions wait behind another's one)."""
        self._recover()
        with self.engine.connect() as db:
            rows = list(db.execute(select(submissions)).mappings())
        busy = {r["student"] for r in rows if r["status"] == "grading"}
        served: dict[str, datetime.datetime] = {}
        for r in rows:
            if r["started_at"] is not None and r["started_at"] > served.get(
                r["student"], datetime.datetime.min
            ):
                served[r["student"]] = r["started_at"]
        waiting = [
            dict(r)
            for r in rows
            if r["status"] == "queued" and r["student"] not in busy
        ]
        waiting.sort(
            key=lambda r: (
                served.get(r["student"], datetime.datetime.min),
                r["submitted_at"],
            )
        )
        for row in waiting:
            if self._take(row, instance):
                return self.get(row["id"])
        return None

    def _take(self, row: dict, instance: str) -> bool:
        started = now()
        grading = submissions.alias("grading")
        busy = (
            select(grading.c.id)
            .where(grading.c.student == row["student"], grading.c.status == "grading")
            .exists()
        )
        change = (
            update(submissions)
            .where(submissions.c.id == row["id"], submissions.c.status == "queued")
            .where(~busy)  # one grading per student, whichever instance claims
            .values(
                status="grading",
                claimed_by=instance,
                started_at=started,
                lease_until=started + datetime.timedelta(seconds=self.lease),
                attempts=submissions.c.attempts + 1,
            )
        )
        with self.engine.begin() as db:
            return db.execute(change).rowcount == 1

    def renew(self, ident: str, instance: str) -> None:
        change = (
            update(submissions)
            .where(submissions.c.id == ident, submissions.c.claimed_by == instance)
            .where(submissions.c.status == "grading")
            .values(lease_until=now() + datetime.timedelta(seconds=self.lease))
        )
        with self.engine.begin() as db:
            db.execute(change)

    def finish(self, ident: str, instance: str, **fields) -> bool:
        """Record the final status and score; False when this instance no longer held
        the submission (its lease ran out and another took it)."""
        change = (
            update(submissions)
            .where(submissions.c.id == ident, submissions.c.claimed_by == instance)
            .where(submissions.c.status == "grading")
            .values(**fields, graded_at=now(), lease_until=None)
        )
        with self.engine.begin() as db:
            return db.execute(change).rowcount == 1

    def requeue(self, ident: str) -> None:
        """Grade a submission again (an instructor's regrade)."""
        change = (
            update(submissions)
            .where(submissions.c.id == ident, submissions.c.status.in_(FINAL))
            .values(status="queued", attempts=0, claimed_by=None, graded_at=None)
        )
        with self.engine.begin() as db:
            db.execute(change)

    def _recover(self) -> None:
        """Gradings whose lease ran out: queued again, or crashed after MAX_ATTEMPTS."""
        expired = (submissions.c.status == "grading") & (
            submissions.c.lease_until < now()
        )
        with self.engine.begin() as db:
            db.execute(
                update(submissions)
                .where(expired, submissions.c.attempts >= MAX_ATTEMPTS)
                .values(
                    status="crashed",
                    score=0.0,
                    graded_at=now(),
                    message="grading stopped twice before it finished (the service "
                    "was stopped or its grader process died); submit it again",
                )
            )
            db.execute(
                update(submissions)
                .where(expired)
                .values(status="queued", claimed_by=None, lease_until=None)
            )


def counted(rows: list[dict], rule: str) -> dict | None:
    """Of one student's submissions to one assignment (oldest first), the graded one
    whose score counts: the latest, or with `rule` "best" the highest (the later of
    equals); None before one is graded."""
    graded = [r for r in rows if r["status"] in FINAL and r["score"] is not None]
    if not graded:
        return None
    if rule == "best":
        return max(reversed(graded), key=lambda r: r["score"])
    return graded[-1]


def _queued(ident, student, assignment, sha256, stamp=None, exchange=False):
    """The row of a submission queued now, with the nbgrader timestamp it was given
    (default: now)."""
    received = now()
    stamp = stamp or received.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC"
    row = {"id": ident, "student": student, "assignment": assignment, "sha256": sha256}
    row |= {"status": "queued", "stamp": stamp, "exchange": exchange}
    return submissions.insert().values(**row, submitted_at=received, attempts=0)
