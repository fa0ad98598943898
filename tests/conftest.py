"""Shared test helpers: the repository root, the reference solutions, data kept outside the repo."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@functools.cache
def load_solutions(name: str) -> ModuleType:
    """The module solutions/<name>.py, loaded by path (solutions/ is not a package)."""
    path = REPO / "solutions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_data_file(name: str) -> Path:
    """A data file kept beside the repository (never committed); skips the test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is not present; the original data set is kept outside the repository")
    return path
