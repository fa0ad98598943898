"""The journal's file: locked for one batch, and removed only by the batch that holds it."""

from __future__ import annotations

import os

import pytest

from autograder.batch.journal_file import discard, open_locked, read_all, write_all
from autograder.batch.resume import Journal
from autograder.errors import UsageError


def test_a_journal_is_held_by_one_batch_and_removed_only_by_it(tmp_path):
    path = tmp_path / "r.json.partial.jsonl"
    first = Journal(path, "toy")
    with pytest.raises(UsageError, match="another batch is writing its results with the same --json"):
        Journal(path, "toy", resume=True)
    with pytest.raises(UsageError, match="another batch"):
        Journal(path, "toy")  # without --resume it would have emptied the first batch's journal
    assert discard(path) and path.is_file()  # the first batch's, in use: left where it is
    first.close()
    assert discard(path) and not path.exists()
    Journal(path, "toy").close()  # the next batch starts a new one


def test_a_locked_file_is_appended_to_and_read_whole(tmp_path):
    path = tmp_path / "deep" / "r.json.partial.jsonl"
    fd = open_locked(path)
    try:
        write_all(fd, b"one\n")
        write_all(fd, b"two\n" * 100_000)
        assert read_all(fd) == b"one\n" + b"two\n" * 100_000
        with pytest.raises(UsageError, match="is locked"):
            open_locked(path)
    finally:
        os.close(fd)


def test_a_journal_already_gone_is_discarded(tmp_path):
    assert discard(tmp_path / "r.json.partial.jsonl")
    with pytest.raises(FileNotFoundError):
        open_locked(tmp_path / "r.json.partial.jsonl", create=False)
