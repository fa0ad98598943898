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
