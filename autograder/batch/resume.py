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

import errno
import fcntl
import hashlib
import json
import os
from dataclasses import fields
from pathlib import Path

from .. import __version__
from ..course.config import Assignment
from ..course.digest import files_digest, reference_fingerprint
from ..errors import InvalidSubmission, StorageError, UsageError
from ..results import OUTCOMES, STATUSES, PartResult, SubmissionResult, TestResult
from ..running.notebook_file import read_bytes

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
        self._fd = _open_locked(self.path)
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
            _write_all(self._fd, data)
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
        raw = _read_all(self._fd)
        lines = raw.splitlines(keepends=True)
        # a line cut short by a kill: dropped
        if lines and not lines[-1].endswith(b"\n"):
            raw, lines = raw[: len(raw) - len(lines[-1])], lines[:-1]
            os.ftruncate(self._fd, len(raw))
        if not lines:
            return 0
        entries = [_entry(line) for line in lines[1:]]
        changed = self._changed(_record(lines[0]))
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
            _write_all(self._fd, data)
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


def discard(path: Path) -> bool:
    """Remove the journal at `path` once its batch's JSON is written, unless another
    batch has taken it over since (it holds the lock). False when the disk refused to
    remove it."""
    try:
        fd = _open_locked(path, create=False)
    except (UsageError, FileNotFoundError):
        return True  # another batch's now, or already gone
    except OSError:
        return False
    try:
        # still locked: no batch can take it between this check and its removal
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _open_locked(path: Path, create: bool = True) -> int:
    """The journal's descriptor (appending), locked for this batch; UsageError when
    another batch holds it."""
    while True:
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                path,
                os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0),
                0o644,
            )
        except OSError as error:
            if not create and error.errno == errno.ENOENT:
                raise
            raise StorageError(
                path,
                error,
                "nothing was graded: free some space, or pass another --json",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(
                "another batch is writing its results with the same --json (its "
                f"journal {path} is locked); wait until it ends, or pass another --json"
            ) from None
        opened = os.fstat(fd)
        try:
            now = os.stat(path, follow_symlinks=True)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (
            opened.st_dev,
            opened.st_ino,
        ):
            return fd
        # the batch that held it removed it as it finished: open the file that is there
        # now
        os.close(fd)
        if not create:
            raise FileNotFoundError(path)


def _read_all(fd: int) -> bytes:
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _record(line: bytes) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _entry(line: bytes) -> tuple[str, tuple[str, SubmissionResult]] | None:
    """(key, (sha256, result)) of a result line; None for a line that is not one the
    journal wrote."""
    record = _record(line)
    if (
        record is None
        or not isinstance(record.get("key"), str)
        or not isinstance(record.get("sha256", ""), str)
    ):
        return None
    data = record.get("result")
    if not isinstance(data, dict):
        return None
    try:
        result = SubmissionResult.from_dict(data)
        if (
            result.to_dict() != data
            or not _typed(result)
            or result.status not in STATUSES
        ):
            return None
    # missing fields, text where numbers go
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return record["key"], (record.get("sha256", ""), result)


KINDS: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "float": (int, float),
    "list": list,
    "dict": dict,
}


def _typed(value: SubmissionResult | PartResult | TestResult) -> bool:
    """Every field of the type its class declares (the first level of it: a str, a
    number, a list, a dict)."""
    for field in fields(value):
        item = getattr(value, field.name)
        kind = KINDS.get(str(field.type).split("[")[0].split(" |")[0])
        if (item is None and "None" in str(field.type)) or kind is None:
            continue
        if not isinstance(item, kind) or isinstance(item, bool):
            return False
    if isinstance(value, TestResult):
        return value.outcome in OUTCOMES
    inner = value.parts if isinstance(value, SubmissionResult) else value.tests
    listed = [*getattr(value, "notes", []), *getattr(value, "cell_errors", [])]
    return all(_typed(item) for item in inner) and all(
        isinstance(item, (str, dict)) for item in listed
    )
