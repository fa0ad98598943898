"""Student ids and the folder names made of them: the one place that makes names safe.

A student id comes from a file or folder name, which a student controls and which on
Linux is bytes, not text. `student_id` turns it into valid, printable, bounded text by a
fixed rule, so the same name always gives the same id; `unique` gives every submission
of a batch its own id, never one another submission has; `folder_name` turns an id into
one folder name, and no two ids into the same one (`plain_id`: a name that is both its
own id and its own folder name). `text` caps any other text a submission controls (an
error message, a class name), for the worker and the grader alike. `assignment_name`
accepts a name from outside (a notebook's metadata, the command line, a Dask task) only
when it is one plain folder name.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

# characters of student-controlled text (an error message, a class name) the grader
# keeps
MAX_TEXT = 500
# characters of an id; longer names keep their start and a digest of the whole
MAX_ID = 100
MAX_ID_BYTES = 200  # and bytes of it in UTF-8 (a folder named after it must fit in 255)
# kept as they are in folder names, with letters and digits
SAFE_IN_FOLDER = frozenset("._@+-")
# spelled out in ids: nbgrader's formgrader prints ids unescaped
MARKUP = frozenset('<>&"')
FORMULA = frozenset("=+-@")  # spelled out at the start of an id
# a folder name longer than this keeps its start and a digest (limit: 255)
MAX_FOLDER_BYTES = 200
# characters of an assignment name: assignments/<name>/ and the like must fit anywhere
MAX_ASSIGNMENT = 100
# one folder name: no separator, no leading dot or dash
ASSIGNMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 are read as Windows-1252 (a zip made on Windows),
    Latin-1 where it has none."""
    if not isinstance(error, UnicodeDecodeError):  # registered for decoding only
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(_byte_text(byte) for byte in chunk), error.end


def _byte_text(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


codecs.register_error("autograder-1252", _windows_1252)


def student_id(name: str) -> str:
    """A file or folder name as an id: UTF-8 where it is (Windows-1252 where not), every
    character that is not printable spelled out (\\x1b, \\u202e), and so are the
    characters that are markup in HTML (`<>&"`, which nbgrader's own pages print as they
    are) and a first character that starts a spreadsheet formula (`=+-@`, for `nbgrader
    export`); at most MAX_ID characters."""
    text = os.fsencode(name).decode("utf-8", "autograder-1252")
    text = "".join(
        c if c.isprintable() and c not in MARKUP else _spelled(c) for c in text
    )
    if text[:1] in FORMULA:
        text = _spelled(text[0]) + text[1:]
    if not text:
        return "unnamed"
    if len(text) > MAX_ID or len(text.encode("utf-8")) > MAX_ID_BYTES:
        start = text[: MAX_ID - 13]
        while len(start.encode("utf-8")) > MAX_ID_BYTES - 13:
            start = start[:-1]
        text = f"{start}~{_digest(text)}"
    return text


def _spelled(character: str) -> str:
    if character.isprintable():
        return f"\\x{ord(character):02x}"
    return character.encode("unicode_escape").decode("ascii")


def path_text(path: Path | str) -> str:
    """A path as text to show (its bytes read as `student_id` reads them), for messages
    and notes."""
    return os.fsencode(str(path)).decode("utf-8", "autograder-1252")


def _digest(text: str, length: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def folder_name(student: str) -> str:
    """One folder name per id, never the same for two ids: letters, digits and ._@+-
    stay, every other character (and a leading dot) is %XX of its UTF-8 bytes, as in a
    URL."""
    parts = []
    for position, character in enumerate(student):
        if (character.isalnum() or character in SAFE_IN_FOLDER) and not (
            position == 0 and character == "."
        ):
            parts.append(character)
        else:
            parts.append(
                "".join(
                    f"%{byte:02X}"
                    for byte in character.encode("utf-8", "surrogatepass")
                )
            )
    # no id spells %00: control characters were written out
    name = "".join(parts) or "%00"
    # "~" is never kept as is, so this cannot collide
    if len(name.encode("utf-8")) > MAX_FOLDER_BYTES:
        kept = name.encode("utf-8")[: MAX_FOLDER_BYTES - 20].decode("utf-8", "ignore")
        name = f"{kept}~{_digest(student, 16)}"
    return name


def plain_id(name: str) -> bool:
    """Whether `name` is its own id and its own folder name, as the service requires of
    anyone it signs in: what a token, the Hub or the exchange names is then written
    as it is (submitted/<name>/), and no id of another spells it."""
    return student_id(name) == name and folder_name(name) == name


@dataclass(frozen=True)
class Found:
    """One submission of a batch: its id (unique in the batch), its notebook, and a note
    when the id is not the one its name gives (another submission has that one)."""

    student: str
    notebook: Path
    note: str = ""


def unique(found: list[tuple[str, Path]]) -> list[Found]:
    """Every submission its own id: the first (in discovery order) with an id keeps it,
    the others get `<id>-N` with the smallest N that no submission's own id and no id
    given before is."""
    taken = {student for student, _ in found}
    seen: dict[str, Path] = {}
    result = []
    for student, notebook in found:
        if student not in seen:
            seen[student] = notebook
            result.append(Found(student, notebook))
            continue
        number = 2
        while f"{student}-{number}" in taken:
            number += 1
        renamed = f"{student}-{number}"
        taken.add(renamed)
        note = (
            f"the student id '{student}' is also that of {path_text(seen[student])}; "
            f"this submission ({path_text(notebook)}) is graded as '{renamed}'"
        )
        result.append(Found(renamed, notebook, note))
    return result


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """Student-controlled text as the grader keeps it: a string (anything else is
    empty), at most `limit` characters, encodable as UTF-8 (lone surrogates, which JSON
    allows, become '?')."""
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        value = value[:limit] + f"... [{len(value) - limit} more characters]"
    return value.encode("utf-8", "replace").decode("utf-8")


def assignment_name(name: Any) -> str:
    """`name` when it is one plain folder name (ASCII letters, digits, `-`, `_` and `.`,
    starting with a letter or digit, at most MAX_ASSIGNMENT characters); else a
    UsageError saying what is allowed. Every name that comes from outside passes here
    before it becomes a path: an absolute name or `..` would make any folder the hidden
    suite, whose conftest.py runs in the grader."""
    if (
        isinstance(name, str)
        and len(name) <= MAX_ASSIGNMENT
        and ASSIGNMENT.fullmatch(name)
    ):
        return name
    shown = f"<{type(name).__name__}>"
    if isinstance(name, str):
        shown = "".join(c if c.isprintable() else _spelled(c) for c in name[:40])
        shown += f"... ({len(name)} characters)" if len(name) > 40 else ""
    raise UsageError(
        f"'{shown}' is not an assignment name: use ASCII letters, digits, '-', '_' and "
        f"'.', starting with a letter or digit, at most {MAX_ASSIGNMENT} characters "
        "(the name of a folder in the course's assignments/)"
    )
