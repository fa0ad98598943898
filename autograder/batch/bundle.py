"""The course as a grader elsewhere needs it, for a cluster with no shared filesystem.

A bundle is one assignment's course files as a tar.gz, built the same way from the same
files every time, and named by its SHA-256:

    assignments/<name>/          assignment.toml and the hidden suite
    solutions/<reference>.py     the reference module
    release/<name>/              what the student's code sees (the release's notebook
                                 and data)
    source/<name>/<notebook>     the released notebook in the master's place: its
                                 read-only cells and nbgrader metadata are the
                                 master's, and it holds no solution

A Dask worker unpacks a bundle once, under its own cache folder (`bundles_folder`), and
keeps it for later batches of the same course files; a batch sends it only to the
workers that lack it.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import settings
from ..course.config import Assignment
from ..errors import UsageError
from ..names import assignment_name

# where a worker keeps unpacked bundles (default: its user cache)
BUNDLES_VARIABLE = settings.BUNDLES
SKIPPED = (".ipynb_checkpoints", "__pycache__", ".autograder")


@dataclass(frozen=True)
class Bundle:
    name: str  # the assignment
    data: bytes  # the tar.gz

    def __post_init__(self):
        # one plain folder name: it names folders where the bundle is unpacked
        assignment_name(self.name)

    @property
    def key(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


def make_bundle(assignment: Assignment) -> Bundle:
    """The bundle of `assignment`'s course files (UsageError naming a file that is
    missing)."""
    files: dict[str, Path] = {}
    for folder in (assignment.suite_dir, assignment.release_dir):
        for path in _files(folder):
            files[path.relative_to(assignment.root).as_posix()] = path
    files[f"solutions/{assignment.reference_file.name}"] = assignment.reference_file
    files[f"source/{assignment.name}/{assignment.notebook}"] = (
        assignment.release_notebook
    )
    for path in files.values():
        if not path.is_file():
            raise UsageError(
                f"{path} is missing: the course cannot be sent to the cluster; run "
                f"`autograder release {assignment.name}` and check "
                f"assignments/{assignment.name}/"
            )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for arcname in sorted(files):
            data = files[arcname].read_bytes()
            # no times, owners or modes of this machine: same files, same key
            info = tarfile.TarInfo(arcname)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return Bundle(assignment.name, _without_gzip_time(buffer.getvalue()))


def _files(folder: Path) -> list[Path]:
    found = []
    for parent, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if f not in SKIPPED)
        found += [
            Path(parent) / name for name in names if not name.endswith((".pyc", ".tmp"))
        ]
    return found


def _without_gzip_time(data: bytes) -> bytes:
    # gzip's header holds the time it was written (bytes 4-7)
    return data[:4] + b"\0\0\0\0" + data[8:]


def bundles_folder() -> Path:
    return settings.bundles_folder()


def bundle_key(key: str) -> str:
    """`key` when it is a bundle's key (32 hexadecimal digits), which names its folder;
    else a UsageError."""
    if not (
        isinstance(key, str)
        and len(key) == 32
        and all(c in "0123456789abcdef" for c in key)
    ):
        raise UsageError(
            f"{str(key)[:40]!r} is not a course bundle's key (32 hexadecimal digits); "
            "grade again"
        )
    return key


def installed(key: str) -> Path | None:
    """The course root of bundle `key` on this machine, if it was unpacked here."""
    root = bundles_folder() / bundle_key(key)
    return root if (root / ".complete").is_file() else None


def install(key: str, data: bytes) -> Path:
    """Unpack the bundle (checked against its key) once; the course root it makes."""
    if hashlib.sha256(data).hexdigest()[:32] != key:
        raise UsageError(f"the course bundle {key} arrived damaged; grade again")
    done = installed(key)
    if done is not None:
        return done
    base = bundles_folder()
    base.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=base))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(scratch, filter="data")
        (scratch / ".complete").write_text(key)
        try:
            # another process of this machine may have done it meanwhile
            os.rename(scratch, base / key)
        except OSError:
            if installed(key) is None:
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return base / key
