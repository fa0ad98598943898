"""The course files a Gradescope grading reads, copied read-only before any student code
runs into a folder the sandbox does not show, and checked after the notebook ran: a
file that changed voids the grading."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..course.config import Assignment, load_assignment
from ..suite.refcache import CACHE_DIR
from .gradescope_zip import SKIPPED


@dataclass
class CourseCopy:
    """The course files grading reads, copied before any student code runs into a folder
    of the grader's own (under the system's temporary folder: the sandbox gives the
    worker a /tmp of its own), every file read-only; `changed` lists those that differ
    afterwards. Without the sandbox, as root, nothing on this machine is out of the
    notebook's reach: the copy and its check then catch a notebook that rewrites the
    hidden tests, they do not stop one that also hides it."""

    assignment: Assignment  # loaded from the copy
    folder: Path
    before: dict[str, str]

    @classmethod
    def make(cls, assignment: Assignment) -> CourseCopy:
        folder = Path(tempfile.mkdtemp(prefix="autograder-course-"))
        root = assignment.root
        for source in (
            assignment.suite_dir,
            assignment.source_dir,
            assignment.release_dir,
            assignment.reference_file.parent,
            root / CACHE_DIR,
        ):
            if source.is_dir():
                shutil.copytree(
                    source,
                    folder / source.relative_to(root),
                    ignore=shutil.ignore_patterns(*SKIPPED),
                )
        copy = load_assignment(assignment.name, folder)
        # files before their folders
        for path in sorted(folder.rglob("*"), reverse=True):
            path.chmod(0o555 if path.is_dir() else 0o444)
        folder.chmod(0o500)
        return cls(copy, folder, _fingerprint(folder))

    def changed(self) -> list[str]:
        """Files that changed, went or came since the copy; only the reference cache may
        gain files."""
        after = _fingerprint(self.folder)
        cache = f"{CACHE_DIR.as_posix()}/"
        return [
            path
            for path in sorted(set(self.before) | set(after))
            if self.before.get(path) != after.get(path)
            and not (path not in self.before and path.startswith(cache))
        ]

    def remove(self) -> None:
        """Gone, as far as it can be: nothing here may keep results.json from being
        written."""
        with contextlib.suppress(OSError):
            for folder in [
                self.folder,
                *(
                    p
                    for p in self.folder.rglob("*")
                    if p.is_dir() and not p.is_symlink()
                ),
            ]:
                folder.chmod(0o700)
        shutil.rmtree(self.folder, ignore_errors=True)


def _fingerprint(folder: Path) -> dict[str, str]:
    """Each entry's path in `folder` -> what it holds: a file's SHA-256, a link's
    target, another kind's mode (never opened: a FIFO would block), without following
    links."""
    found = {}
    for parent, folders, names in os.walk(folder):
        for name in names + [
            f for f in folders if os.path.islink(os.path.join(parent, f))
        ]:
            path = Path(parent, name)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                held = f"link to {os.readlink(path)}"
            elif stat.S_ISREG(mode):
                with open(path, "rb") as file:
                    held = hashlib.file_digest(file, "sha256").hexdigest()
            else:
                held = f"mode {mode:o}"
            found[path.relative_to(folder).as_posix()] = held
    return found
