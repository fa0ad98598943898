"""The batch journal: every result is appended and fsynced as it finishes, so a killed batch loses nothing.

`<results>.json.partial.jsonl` holds one JSON object per line: a header naming the assignment,
then one line per finished submission with the notebook's SHA-256. `--resume` keeps the results
whose student, notebook path and content are unchanged and regrades the rest. A line cut short by
a kill is dropped. The journal is removed once the final JSON is written.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import InvalidSubmission, UsageError
from ..results import SubmissionResult
from ..running.notebook_file import read_bytes

VERSION = 1


def journal_path(json_path: Path) -> Path:
    json_path = Path(json_path)
    return json_path.with_name(json_path.name + ".partial.jsonl")


def fingerprint(notebook: Path, max_mb: float) -> str:
    """SHA-256 of the notebook's bytes, read as grading reads them (never through a link, a regular file
    of at most `max_mb`); '' when it cannot be read: such a result is always regraded."""
    try:
        return hashlib.sha256(read_bytes(Path(notebook), max_mb)).hexdigest()
    except InvalidSubmission:
        return ""


def submission_key(student: str, notebook: Path) -> str:
    return f"{student}\0{os.path.abspath(notebook)}"  # not resolve(): a link (to itself) is not followed


class Journal:
    """Append-only record of finished submissions of one batch."""

    def __init__(self, path: Path, assignment: str, resume: bool = False, max_mb: float = 20.0):
        self.path = Path(path)
        self.assignment = assignment
        self.max_mb = max_mb  # notebooks larger than this are not read to be fingerprinted
        self.finished: dict[str, tuple[str, SubmissionResult]] = {}  # key -> (sha256, result)
        if resume and self.path.is_file():
            self._load()
        else:
            self._start()
        self._handle = open(self.path, "a", encoding="utf-8")

    def _start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = json.dumps({"journal": VERSION, "assignment": self.assignment}) + "\n"
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(header)
            handle.flush()
            os.fsync(handle.fileno())

    def _load(self) -> None:
        raw = self.path.read_bytes()
        good = 0  # bytes up to the end of the last complete, readable line
        for number, line in enumerate(raw.splitlines(keepends=True), start=1):
            try:
                record = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                record = None
            if not isinstance(record, dict):
                break  # a line cut short by a kill: it and anything after it are dropped
            if number == 1:
                self._check_header(record)
            elif "key" in record and "result" in record:
                self.finished[record["key"]] = (record.get("sha256", ""),
                                                SubmissionResult.from_dict(record["result"]))
            good += len(line)
        if good == 0:
            self._start()
        elif good < len(raw):
            os.truncate(self.path, good)

    def _check_header(self, header: dict) -> None:
        if header.get("journal") != VERSION or header.get("assignment") != self.assignment:
            raise UsageError(f"{self.path} is not a journal of a '{self.assignment}' batch "
                             f"(it names {header.get('assignment')!r}); delete it or pass another --json")

    def result_for(self, student: str, notebook: Path) -> SubmissionResult | None:
        """The finished result of this submission, if its notebook is unchanged since it was graded."""
        entry = self.finished.get(submission_key(student, notebook))
        if entry is None or not entry[0] or entry[0] != fingerprint(notebook, self.max_mb):
            return None
        return entry[1]

    def record(self, result: SubmissionResult, notebook: Path) -> None:
        """Append a finished result; its fingerprint is that of the bytes graded (none: regraded on --resume)."""
        line = {"key": submission_key(result.student, notebook), "sha256": result.sha256, "result": result.to_dict()}
        self._handle.write(json.dumps(line) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()

    def remove(self) -> None:
        """The batch is complete and its JSON written: the journal has done its job."""
        self.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
