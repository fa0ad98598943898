"""nbgrader's timestamp.txt and submission_secret.txt, read together with the notebook beside them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from autograder.errors import InvalidSubmission
from autograder.results import NbgraderFiles
from autograder.running.nbgrader_files import read_files, read_together
from autograder.running.notebook_file import read_bytes

OLD = {"toy.ipynb": b'{"old": 1}', "timestamp.txt": b"2026-11-20 09:15:00.000000 UTC",
       "submission_secret.txt": b"aa" * 64}
NEW = {"toy.ipynb": b'{"new": 2}', "timestamp.txt": b"2026-11-21 10:00:00.000000 UTC",
       "submission_secret.txt": b"bb" * 64}


def folder_with(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def collect_update(submitted: Path, newer: Path) -> None:
    """What `nbgrader collect --update` does to the student's folder: remove it, copy the newer submission in."""
    shutil.rmtree(submitted)
    shutil.copytree(newer, submitted)


def test_the_files_are_their_text_or_none_unless_short_ascii_regular_files(tmp_path):
    folder = folder_with(tmp_path / "s", OLD)
    assert read_files(folder) == NbgraderFiles(OLD["timestamp.txt"].decode(), OLD["submission_secret.txt"].decode())
    (folder / "timestamp.txt").write_bytes(b"2026-11-20 \xe9")  # not ASCII
    os.remove(folder / "submission_secret.txt")
    os.symlink(tmp_path / "elsewhere", folder / "submission_secret.txt")
    assert read_files(folder) == NbgraderFiles(None, None)
    (folder / "timestamp.txt").write_bytes(b"0" * 5000)  # larger than a line
    os.remove(folder / "submission_secret.txt")
    os.mkfifo(folder / "submission_secret.txt")  # never waited on
    assert read_files(folder) == NbgraderFiles(None, None)
    assert read_files(tmp_path / "missing") == NbgraderFiles(None, None)


def test_a_collect_that_replaces_the_folder_while_the_notebook_is_read_never_mixes_two_submissions(tmp_path):
    submitted = folder_with(tmp_path / "submitted" / "alice" / "toy", OLD)
    newer = folder_with(tmp_path / "exchange" / "alice+toy+2", NEW)
    notebook = submitted / "toy.ipynb"
    loads = []

    def load() -> bytes:  # the old notebook is read, then the newer submission replaces the folder
        loads.append(read_bytes(notebook, 1))
        if len(loads) == 1:
            collect_update(submitted, newer)
        return loads[-1]

    read = read_together(notebook, load)
    assert loads == [OLD["toy.ipynb"], NEW["toy.ipynb"]]  # read again: the files had changed around the first read
    assert (read.get(), read.files) == (NEW["toy.ipynb"], read_files(newer))


def test_a_folder_that_changes_at_every_read_gives_no_files_and_a_failed_read_its_error(tmp_path):
    submitted = folder_with(tmp_path / "submitted", OLD)
    stamps = iter(range(10))

    def load() -> bytes:
        (submitted / "timestamp.txt").write_text(f"2026-11-2{next(stamps)} 10:00:00 UTC")
        return read_bytes(submitted / "toy.ipynb", 1)

    read = read_together(submitted / "toy.ipynb", load)
    assert read.value == OLD["toy.ipynb"] and read.files is None
    missing = read_together(submitted / "gone.ipynb", lambda: read_bytes(submitted / "gone.ipynb", 1))
    assert missing.files == read_files(submitted) and missing.value is None
    with pytest.raises(InvalidSubmission, match="cannot read gone.ipynb"):
        missing.get()
