"""Reference results kept on disk: a costly reference call is computed once per course,
not per process.

A hidden suite asks for a reference result with the `cached` fixture:

    expected = cached(reference.train_network, features, targets, 1000, 0.5, 42)

The first call anywhere computes it and writes it to
`<course>/.autograder/cache/<key>.npz`; every later call, in this grader process,
another `--jobs` process, a Dask worker on the same disk or the next batch, reads it
back. `autograder validate` grades the master, so a validated course grades its first
class without running the reference at all.

The key is a SHA-256 of everything the result depends on: the source of every Python
file in the reference's folder (`solutions/`), the function's file and name, its
arguments (arrays by dtype, shape and bytes; a file, passed as a `pathlib.Path`, by its
name and content, not where it is), the code of the one helper of ours a reference
computes with (`read_table`), and the NumPy, pandas and Python versions. Editing a
solution or the data makes a new key. A path that is not a readable file (a folder, a
missing file) is no key: the function then runs every time and nothing is kept.

Results are plain data (arrays, numbers, strings and tuples, lists or dicts of them),
stored with `np.savez` and read with `allow_pickle=False`: a cache file is never code.
They come back read-only, so a test cannot change what the next submission is compared
with. A cache that cannot be written (a read-only course folder) or read (a damaged
file) only costs the time to compute again. `AUTOGRADER_CACHE=off` turns the disk cache
off (results are then kept per process only).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import settings
from ..course.digest import reference_fingerprint

CACHE_DIR = Path(".autograder") / "cache"  # under the course root
ENV = settings.CACHE


def fingerprint(reference_dir: Path) -> str:
    """What every reference result depends on besides its arguments: the reference
    sources, `read_table`'s code, NumPy, pandas, Python (`course/digest.py`, which the
    batch journal's fingerprints share)."""
    return reference_fingerprint(reference_dir)


class _NotAFile(Exception):
    """A path argument that is not a readable file: it cannot be keyed by its
    content."""


class ReferenceCache:
    """`cache(function, *args, **kwargs)`: the function's result, computed at most once
    per key."""

    def __init__(self, directory: Path | None, fingerprint: str):
        self.directory = directory if settings.reference_cache() else None
        self.fingerprint = fingerprint
        self.memory: dict[str, Any] = {}

    def __call__(self, function: Callable, *args: Any, **kwargs: Any) -> Any:
        try:
            key = self.key(function, args, kwargs)
        # its result could not be told from another's: computed, never kept
        except _NotAFile:
            return function(*args, **kwargs)
        if key in self.memory:
            return self.memory[key]
        value = self._read(key)
        if value is None:
            value = function(*args, **kwargs)
            value = self._write(key, value, function)
        self.memory[key] = value
        return value

    def key(self, function: Callable, args: tuple, kwargs: dict) -> str:
        digest = hashlib.sha256(self.fingerprint.encode())
        # the file's name, not its module's: that names the path
        code = getattr(function, "__code__", None)
        where = (
            Path(code.co_filename).name if code else getattr(function, "__module__", "")
        )
        name = f"{where}:{getattr(function, '__qualname__', repr(function))}"
        digest.update(name.encode() + b"\0")
        _hash_value(digest, (args, kwargs), name)
        return digest.hexdigest()

    def path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.npz"

    def _read(self, key: str) -> Any:
        path = self.path(key)
        if path is None or not path.is_file():
            return None
        try:
            with open(path, "rb") as file, np.load(file, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            layout = json.loads(str(arrays.pop("layout")))
            return _rebuild(layout, arrays)
        except Exception:
            return None

    def _write(self, key: str, value: Any, function: Callable) -> Any:
        arrays: dict[str, np.ndarray] = {}
        layout = _flatten(
            value, arrays, getattr(function, "__qualname__", "the reference function")
        )
        # the same value the next process will read: read-only arrays
        value = _rebuild(layout, arrays)
        path = self.path(key)
        if path is None:
            return value
        temporary = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=path.parent, prefix=".", suffix=".npz", delete=False
            ) as file:
                temporary = Path(file.name)
                # numpy's stub lets a ** argument fill `allow_pickle: bool`; ours are
                # the arrays' own names (a0, a1, ...)
                np.savez(file, layout=np.array(json.dumps(layout)), **arrays)  # type: ignore[arg-type]
            # atomic: a concurrent reader sees the whole file or none
            os.replace(temporary, path)
        # read-only course folder, full disk: keep it for this process only
        except OSError:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
        return value


def _hash_value(digest: Any, value: Any, where: str) -> None:
    """Feed a plain value into the digest, type by type, so that 1, 1.0 and "1"
    differ."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.ascontiguousarray(value)
        if array.dtype.hasobject:
            raise TypeError(
                f"cached({where}): an argument is an array of Python objects; pass "
                "numbers"
            )
        digest.update(
            f"nd {array.dtype.str} {array.shape} {type(value).__name__}".encode()
            + b"\0"
        )
        digest.update(array.tobytes())
    # a data file: editing it computes again, moving the course does not
    elif isinstance(value, Path):
        try:
            content = value.read_bytes()
        # a folder, a missing file: the function says what is wrong with it, or runs
        except OSError:
            raise _NotAFile(value) from None
        digest.update(
            f"file {value.name!r} {len(content)}".encode()
            + b"\0"
            + hashlib.sha256(content).digest()
        )
    elif value is None or isinstance(value, (bool, int, float, complex, str)):
        digest.update(f"{type(value).__name__} {value!r}".encode() + b"\0")
    elif isinstance(value, (tuple, list)):
        digest.update(f"{type(value).__name__} {len(value)}".encode() + b"\0")
        for item in value:
            _hash_value(digest, item, where)
    elif isinstance(value, dict):
        digest.update(f"dict {len(value)}".encode() + b"\0")
        for name in sorted(value, key=repr):
            _hash_value(digest, name, where)
            _hash_value(digest, value[name], where)
    else:
        raise TypeError(
            f"cached({where}): cannot key an argument of type {type(value).__name__}; "
            "pass arrays, numbers, strings, files (pathlib.Path), or tuples, lists and "
            "dicts of them"
        )


def _flatten(value: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """The JSON layout of a result; its arrays and numbers go into `arrays` as a0, a1,
    ..."""
    if isinstance(value, (tuple, list)):
        return {
            "type": type(value).__name__,
            "items": [_flatten(item, arrays, where) for item in value],
        }
    if isinstance(value, dict) and all(isinstance(name, str) for name in value):
        return {
            "type": "dict",
            "items": {
                name: _flatten(item, arrays, where) for name, item in value.items()
            },
        }
    if value is None or isinstance(value, str):
        return {"type": "json", "value": value}
    if isinstance(value, (bool, int, float, complex, np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(
                f"cached({where}) returned an array of Python objects; only numbers "
                "can be kept"
            )
        name = f"a{len(arrays)}"
        arrays[name] = array
        kind = (
            "array"
            if isinstance(value, np.ndarray)
            else "numpy"
            if isinstance(value, np.generic)
            else type(value).__name__
        )
        return {"type": kind, "name": name}
    raise TypeError(
        f"cached({where}) returned a {type(value).__name__}; only arrays, numbers, "
        "strings, and tuples, lists and dicts of them can be kept"
    )


def _rebuild(layout: Any, arrays: dict[str, np.ndarray]) -> Any:
    kind = layout["type"]
    if kind in ("tuple", "list"):
        items = [_rebuild(item, arrays) for item in layout["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {name: _rebuild(item, arrays) for name, item in layout["items"].items()}
    if kind == "json":
        return layout["value"]
    array = arrays[layout["name"]]
    if kind == "array":
        array.setflags(write=False)
        return array
    if kind == "numpy":
        return array[()]
    return {"bool": bool, "int": int, "float": float, "complex": complex}[kind](
        array[()]
    )
