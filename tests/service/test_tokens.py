"""Sign-in tokens in a real SQLite file: kept as hashes only, each for one person, revoked for good."""

from __future__ import annotations

import sqlite3

import pytest

from autograder.service.store import Store


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'gradebook.db'}")


def test_tokens_are_stored_hashed_and_revoked_for_good(store, tmp_path):
    token = store.tokens.new_token("amy")
    teacher = store.tokens.new_token("prof", instructor=True)
    assert store.tokens.person(token).name == "amy" and not store.tokens.person(token).instructor
    assert store.tokens.person(teacher).instructor
    assert store.tokens.person("guess") is None
    raw = sqlite3.connect(tmp_path / "gradebook.db").execute("select * from autograder_token").fetchall()
    assert token not in repr(raw) and teacher not in repr(raw)
    assert store.tokens.revoke("amy") == 1
    assert store.tokens.person(token) is None


def test_a_session_is_its_own_secret_and_ends_at_sign_out_expiry_or_revocation(store, tmp_path):
    from autograder.service import tokens
    from autograder.service.tokens import Person

    token = store.tokens.new_token("amy")
    first, second = (store.tokens.new_session(Person("amy")) for _ in range(2))
    teacher = store.tokens.new_session(Person("prof", instructor=True))
    assert store.tokens.session(first) == Person("amy") and store.tokens.session(teacher).instructor
    assert store.tokens.session(token) is None and store.tokens.person(first) is None  # two kinds
    raw = sqlite3.connect(tmp_path / "gradebook.db").execute("select * from autograder_session").fetchall()
    assert first not in repr(raw) and teacher not in repr(raw)
    store.tokens.end_session(first)
    assert store.tokens.session(first) is None and store.tokens.session(second) == Person("amy")
    store.tokens.revoke("amy")  # revoking a person ends every session of theirs
    assert store.tokens.session(second) is None and store.tokens.session(teacher) is not None
    db = sqlite3.connect(tmp_path / "gradebook.db")
    db.execute("update autograder_session set expires = '2000-01-01 00:00:00.000000'")
    db.commit()
    assert store.tokens.session(teacher) is None  # expired
    store.tokens.new_session(Person("bob"))  # a new sign-in clears the expired ones
    assert len(db.execute("select * from autograder_session").fetchall()) == 1
    assert tokens.SESSION_HOURS <= 24
