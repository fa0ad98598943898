"""The one public module for course authors: what it offers, and that courses import nothing else of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import autograder.authoring as authoring
from autograder.suite import assertions, misconceptions
from autograder import errors, mismatch
from autograder.verbs import new
from autograder.course import datafile
from conftest import REPO

PACKAGE = REPO / "autograder"


def imported_modules(source: str) -> set[str]:
    """Every module an import in `source` names (relative imports as written, with their dots)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def ours(modules: set[str]) -> set[str]:
    return {name for name in modules if name == "autograder" or name.startswith(("autograder.", "."))}


def course_files() -> list[Path]:
    return sorted([*(REPO / "assignments").rglob("*.py"), *(REPO / "solutions").glob("*.py")])


def test_every_public_name_is_the_package_s_own_object():
    homes = [mismatch, assertions, misconceptions, errors]
    for name in authoring.__all__:
        public = getattr(authoring, name)
        if name == "read_table":
            assert public is datafile.read_table
            continue
        assert any(getattr(home, name, None) is public for home in homes), name
    with pytest.raises(AttributeError):
        authoring.no_such_name  # noqa: B018


@pytest.mark.parametrize("path", course_files(), ids=lambda path: str(path.relative_to(REPO)))
def test_the_courses_import_only_the_public_module(path):
    assert ours(imported_modules(path.read_text())) <= {"autograder.authoring"}


def test_the_files_autograder_new_writes_import_only_the_public_module():
    for template in (new.SUITE, new.REFERENCE):
        assert ours(imported_modules(template)) <= {"autograder.authoring"}
    assert "autograder.authoring" in imported_modules(new.SUITE)


def test_a_course_file_importing_an_internal_module_is_caught():
    assert ours(imported_modules("from autograder.checks import Checker\nimport autograder.session")) == {
        "autograder.checks", "autograder.session"}


def test_no_module_of_the_package_imports_the_public_one():
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "authoring.py":
            continue
        package = path.relative_to(REPO).parent.parts  # a module's package, or an __init__'s own
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = list(package[:len(package) - node.level + 1]) if node.level else []
                base += (node.module or "").split(".") if node.module else []
                named = [".".join([*base, alias.name]) for alias in node.names] + [".".join(base)]
            elif isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                continue
            assert "autograder.authoring" not in named, f"{path}:{node.lineno}"
