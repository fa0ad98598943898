"""An assignment's catalogue of known mistakes, `assignments/<name>/misconceptions.py`,
imported once per process and checked: each entry a Misconception with an id
'<function>.<mistake>', functions of the graded function's inputs and a hint in full
sentences (misconceptions.py matches them)."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .misconceptions import Catalogue, Misconception

CATALOGUE_FILE = "misconceptions.py"
HINT_CHARS = 400
ID = re.compile(r"^[A-Za-z_]\w*\.[a-z0-9_]+$")  # "<function>.<mistake>"


def load_catalogue(suite_dir: Path) -> Catalogue:
    """`<suite_dir>/misconceptions.py`'s CATALOGUE, imported once per process; empty
    when there is no such file."""
    path = Path(suite_dir) / CATALOGUE_FILE
    if not path.is_file():
        return Catalogue()
    name = (
        "_autograder_misconceptions_"
        + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    )
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # never for a .py file
            raise ConfigError(path, "CATALOGUE", "the file cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[name]
            raise ConfigError(
                path,
                "CATALOGUE",
                f"the file cannot be imported ({type(error).__name__}: {error})",
            ) from None
    return Catalogue(checked(path, getattr(module, "CATALOGUE", None)))


def checked(path: Path, entries: Any) -> list[Misconception]:
    """The entries, or a ConfigError naming the first one that is not a usable
    Misconception."""
    if not isinstance(entries, (list, tuple)):
        raise ConfigError(
            path,
            "CATALOGUE",
            "define CATALOGUE as a list of Misconception(id, formula, hint)",
        )
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"CATALOGUE[{index}]"
        if not isinstance(entry, Misconception):
            raise ConfigError(
                path, where, f"is {type(entry).__name__}, not a Misconception"
            )
        if not ID.match(entry.id) or entry.id in seen:
            raise ConfigError(
                path,
                where,
                f"id {entry.id!r} must be '<function>.<mistake>' and unique",
            )
        if not callable(entry.formula) or not (
            entry.leaves_inputs is None or callable(entry.leaves_inputs)
        ):
            raise ConfigError(
                path,
                where,
                "formula and leaves_inputs must be functions of the graded function's "
                "inputs",
            )
        if not _sentences(entry.hint):
            raise ConfigError(
                path,
                where,
                f"the hint must be full sentences on one line: a capital letter "
                f"first, a full stop last, at most {HINT_CHARS} characters",
            )
        seen.add(entry.id)
    return list(entries)


def _sentences(hint: Any) -> bool:
    return (
        isinstance(hint, str)
        and hint[:1].isupper()
        and hint.endswith(".")
        and len(hint) <= HINT_CHARS
        and "\n" not in hint
    )
