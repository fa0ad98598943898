"""The batch journal: every result is appended and fsynced as it finishes, so a killed
batch loses nothing.

`<results>.json.partial.jsonl` holds one JSON object per line: a header naming the
assignment and what its results depend on besides the notebooks (`dependencies`: the
hidden suite's folder with its assignment.toml, the reference solutions, the master and
the release, the engine), then one line per finished submission with the notebook's
SHA-256. `--resume` keeps the results whose student, notebook path and content are
unchanged, when the header's dependencies are the course's now; otherwise it drops them
all, and says how many and why. A line cut short by a kill is dropped; a line that is
not a result is left out, and said.

A batch holds a lock on its journal (`flock`): a second batch with the same --json is
refused while the first runs, and the first, once its JSON is written, removes the
journal only if no other batch has taken it since. A write the disk refuses (full, over
quota, failing) costs that line only: the journal is cut back to its last whole line,
`unsaved` names the student and the result stays in the batch for its final JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import __version__
from ..course.config import Assignment
from ..course.digest import files_digest, reference_fingerprint
from ..errors import InvalidSubmission, StorageError, UsageError
from ..results import SubmissionResult
from ..running.notebook_file import read_bytes
from .journal_file import open_locked, read_all, write_all
from .journal_lines import json_object, result_entry

VERSION = 2  # 2: the header records what the results depend on
ENGINE = Path(__file__).resolve().parent.parent  # the autograder package


def journal_path(json_path: Path) -> Path:
    json_path = Path(json_path)
    return json_path.with_name(json_path.name + ".partial.jsonl")


def fingerprint(notebook: Path, max_mb: float) -> str:
    """SHA-256 of the notebook's bytes, read as grading reads them (never through a
    link, a regular file of at most `max_mb`); '' when it cannot be read: such a result
    is always regraded."""
    try:
        return hashlib.sha256(read_bytes(Path(notebook), max_mb)).hexdigest()
    except InvalidSubmission:
        return ""


def dependencies(assignment: Assignment) -> dict[str, str]:
    """What every result of a batch depends on besides its notebook (`WHAT`), each
    fingerprinted as the reference cache fingerprints its own (`course/digest.py`)."""
    return {
        "suite": files_digest(assignment.suite_dir),
        "reference": reference_fingerprint(assignment.reference_file.parent),
        "release": files_digest(assignment.master_notebook)
        + files_digest(assignment.release_dir),
        "engine": f"{__version__} {files_digest(ENGINE, '*.py')}",
    }


WHAT = {  # how each dependency is named when the journal's results are dropped for it
    "suite": "hidden suite (assignments/{name}/, assignment.toml included)",
    "reference": "reference (solutions/, or NumPy, pandas, Python)",
    "release": "master or release (source/{name}/, release/{name}/)",
    "engine": "engine (another version or code of the autograder)",
}


def submission_key(student: str, notebook: Path) -> str:
    # not resolve(): a link (to itself) is not followed
    return f"{student}\0{os.path.abspath(notebook)}"


class Journal:
    """Append-only record of finished submissions of one batch, locked for that batch
    while open."""

    def __init__(
        self,
        path: Path,
        assignment: str,
        resume: bool = False,
        max_mb: float = 20.0,
        depends: dict[str, str] | None = None,
    ):
        self.path = Path(path)
        self.assignment = assignment
        # notebooks larger than this are not read to be fingerprinted
        self.max_mb = max_mb
        self.depends = dict(depends or {})
        # key -> (sha256, result)
        self.finished: dict[str, tuple[str, SubmissionResult]] = {}
        self.notes: list[str] = []  # what --resume left out of the journal, and why
        self.unsaved: list[str] = []  # students whose result the disk refused
        self.failure: OSError | None = None  # the first write the disk refused
        self.added = 0  # results appended by this batch
        self._fd = open_locked(self.path)
        try:
            self._size = self._load() if resume else 0
            if self._size == 0:
                self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        header = {
            "journal": VERSION,
            "assignment": self.assignment,
            "depends": self.depends,
        }
        data = (json.dumps(header) + "\n").encode()
        try:
            os.ftruncate(self._fd, 0)
            write_all(self._fd, data)
            os.fsync(self._fd)
        except OSError as error:
            raise StorageError(
                self.path,
                error,
                "nothing was graded: free some space, or pass another --json",
            ) from None
        self._size = len(data)

    def _load(self) -> int:
        """Read the journal: keep its results if they were graded as this batch grades;
        return the length of what is kept (0: start afresh)."""
        raw = read_all(self._fd)
        lines = raw.splitlines(keepends=True)
        # a line cut short by a kill: dropped
        if lines and not lines[-1].endswith(b"\n"):
            raw, lines = raw[: len(raw) - len(lines[-1])], lines[:-1]
            os.ftruncate(self._fd, len(raw))
        if not lines:
            return 0
        entries = [result_entry(line) for line in lines[1:]]
        changed = self._changed(json_object(lines[0]))
        if changed:
            count = sum(entry is not None for entry in entries)
            self.notes.append(
                f"{count} finished result(s) of {self.path} were dropped: {changed}; "
                "they are graded again"
            )
            return 0
        self.finished = dict(entry for entry in entries if entry is not None)
        skipped = [
            number for number, entry in enumerate(entries, start=2) if entry is None
        ]
        if skipped:
            shown = ", ".join(map(str, skipped[:10])) + (
                " ..." if len(skipped) > 10 else ""
            )
            self.notes.append(
                f"{len(skipped)} line(s) of {self.path} are not results this journal "
                f"wrote (line {shown}): left out, their submissions are graded again"
            )
        return len(raw)

    def _changed(self, header: dict | None) -> str:
        """Why the journal's results cannot be kept ('' when they can); UsageError when
        it is no journal of this assignment's batches."""
        if (
            header is None
            or "journal" not in header
            or header.get("assignment") != self.assignment
        ):
            named = header.get("assignment") if header else None
            raise UsageError(
                f"{self.path} is not a journal of a '{self.assignment}' batch (it "
                f"names {named!r}); delete it or pass another --json"
            )
        if header.get("journal") != VERSION or not isinstance(
            header.get("depends"), dict
        ):
            return (
                "another version of the autograder wrote them, without what they "
                "depend on"
            )
        recorded = header["depends"]
        differ = [
            what
            for what in {**recorded, **self.depends}
            if recorded.get(what) != self.depends.get(what)
        ]
        named = [WHAT.get(what, what).format(name=self.assignment) for what in differ]
        return (
            "they were graded with another " + ", another ".join(named) if named else ""
        )

    def result_for(self, student: str, notebook: Path) -> SubmissionResult | None:
        """The finished result of this submission, if its notebook is unchanged since it
        was graded."""
        entry = self.finished.get(submission_key(student, notebook))
        if (
            entry is None
            or not entry[0]
            or entry[0] != fingerprint(notebook, self.max_mb)
        ):
            return None
        return entry[1]

    def record(self, result: SubmissionResult, notebook: Path) -> bool:
        """Append a finished result, fsynced; its fingerprint is that of the bytes
        graded (none: regraded on --resume). False when the disk refused it: the journal
        is cut back to its last whole line."""
        line = {
            "key": submission_key(result.student, notebook),
            "sha256": result.sha256,
            "result": result.to_dict(),
        }
        data = (json.dumps(line) + "\n").encode()
        try:
            write_all(self._fd, data)
            os.fsync(self._fd)
        except OSError as error:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:
                # the next line is then read as one that is not a result: that
                # submission is regraded
                pass
            self.unsaved.append(result.student)
            self.failure = self.failure or error
            return False
        self._size += len(data)
        self.added += 1
        return True

    def close(self) -> None:
        """Close the journal and release its lock (the file stays, for --resume)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
