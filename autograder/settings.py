"""Every AUTOGRADER_* environment variable, read here and nowhere else.

A setting comes from the command line's flag when there is one, else from its variable,
else from its default: `--course` beats AUTOGRADER_COURSE, which beats the working
folder. The variables are read when a setting is asked for (a test, or a grader process
started with another environment, sees its own), and a value that is not one of a
setting's choices is a UsageError naming the variable. `VARIABLES` is the table the
README shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

COURSE = "AUTOGRADER_COURSE"
SANDBOX = "AUTOGRADER_SANDBOX"
FRESH_TMP = "AUTOGRADER_FRESH_TMP"
CACHE = "AUTOGRADER_CACHE"
BUNDLES = "AUTOGRADER_BUNDLES"
DEBUG = "AUTOGRADER_DEBUG"


@dataclass(frozen=True)
class Variable:
    name: str
    does: str
    default: str


VARIABLES = (
    Variable(
        COURSE,
        "the course folder, when no `--course` is given",
        "found from the working folder up",
    ),
    Variable(
        SANDBOX,
        "`auto`: the bubblewrap sandbox when it works here, else a plain process (with "
        "a warning); `bwrap`: refuse to grade without it; `off`: never use it",
        "`auto` (the Gradescope runner: `bwrap`)",
    ),
    Variable(
        FRESH_TMP,
        "`off`: each submission works in a folder of the worker's /tmp instead of a "
        "new tmpfs in namespaces of its own",
        "`on`",
    ),
    Variable(
        CACHE,
        "`off`: costly reference results are kept per process only, not in the "
        "course's `.autograder/cache/`",
        "`on`",
    ),
    Variable(
        BUNDLES,
        "where a Dask worker unpacks the course bundles it is sent",
        "`$XDG_CACHE_HOME/autograder/bundles` (else `~/.cache/...`)",
    ),
    Variable(DEBUG, "any value: an internal error shows its traceback", "unset"),
)


def _value(name: str) -> str:
    return os.environ.get(name, "").strip()


def _choice(name: str, flag: str | None, choices: tuple[str, ...], default: str) -> str:
    value = (flag if flag is not None else _value(name)).strip().lower() or default
    if value not in choices:
        raise UsageError(
            f"{name}={value!r} is not one of {', '.join(choices)}; set it to one of "
            "them or unset it"
        )
    return value


def course(flag: Path | None = None) -> Path | None:
    """The folder to look for the course from: `--course`, else AUTOGRADER_COURSE, else
    None (the working folder)."""
    if flag is not None:
        return Path(flag)
    value = _value(COURSE)
    return Path(value) if value else None


def sandbox_mode(flag: str | None = None, default: str = "auto") -> str:
    """off, bwrap or auto: how the worker may be started (`running/sandbox.py`)."""
    return _choice(SANDBOX, flag, ("off", "bwrap", "auto"), default)


def fresh_tmp() -> bool:
    """Whether each submission gets a new tmpfs /tmp in namespaces of its own
    (`running/worker/scratch.py`)."""
    return _choice(FRESH_TMP, None, ("on", "off"), "on") == "on"


def reference_cache() -> bool:
    """Whether reference results are kept in the course's `.autograder/cache/`
    (`suite/refcache.py`)."""
    return _choice(CACHE, None, ("on", "off"), "on") == "on"


def debug() -> bool:
    return bool(_value(DEBUG))


def cache_folder() -> Path:
    """This user's cache folder for the autograder: $XDG_CACHE_HOME/autograder, else
    ~/.cache/autograder."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(base) / "autograder"


def bundles_folder() -> Path:
    """Where a Dask worker keeps the course bundles it unpacked (`batch/bundle.py`)."""
    value = _value(BUNDLES)
    return Path(value) if value else cache_folder() / "bundles"
