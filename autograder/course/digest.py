"""Fingerprints of what grading results depend on: the files of a folder (or one file),
and the reference's.

The reference cache keys its results with `reference_fingerprint` (`suite/refcache.py`),
and the batch journal records, with the same functions, what its results were graded
with (`batch/resume.py`): one way to tell that an input changed. Nothing here imports
NumPy or pandas (their versions are read from their metadata): a command that only hands
out work never pays for them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from pathlib import Path
from typing import Any

# the code of ours a reference computes with (read_table)
READ_TABLE = Path(__file__).with_name("datafile.py")


def files_digest(where: Path, pattern: str = "*", digest: Any = None) -> str:
    """SHA-256 of the names and contents of the files matching `pattern` in the folder
    `where` (at any depth, left out: __pycache__ and hidden files or folders such as
    .ipynb_checkpoints), or of the file `where` itself (none: nothing); fed into
    `digest` when given."""
    digest = hashlib.sha256() if digest is None else digest
    if where.is_file():
        digest.update(where.name.encode() + b"\0" + where.read_bytes() + b"\0")
    for path in sorted(where.rglob(pattern)) if where.is_dir() else []:
        inside = path.relative_to(where)
        if path.is_file() and not any(
            part == "__pycache__" or part.startswith(".") for part in inside.parts
        ):
            digest.update(str(inside).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def reference_fingerprint(reference_dir: Path) -> str:
    """What every reference result depends on besides its arguments: the reference
    sources, `read_table`'s code, NumPy, pandas, Python."""
    versions = (
        f"numpy {_version('numpy')} pandas {_version('pandas')} "
        f"python {platform.python_version()}"
    )
    digest = hashlib.sha256(versions.encode())
    digest.update(READ_TABLE.read_bytes() + b"\0")
    return files_digest(reference_dir, "*.py", digest)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "none"
