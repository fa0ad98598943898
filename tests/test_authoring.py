"""The one public module for course authors: what it offers, and that courses import nothing else of ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import autograder.authoring as authoring
import package_imports
from autograder import errors, mismatch
from autograder.course import datafile
from autograder.suite import assertions, catalogue, misconceptions
from autograder.verbs import new
from conftest import REPO

PACKAGE = REPO / "autograder"


def imported_modules(source: str) -> set[str]:
    """Every module an import in `source` names (relative imports as written, with their dots)."""
    return {module for module, _ in package_imports.imports(source)}


def ours(modules: set[str]) -> set[str]:
    return {name for name in modules if name == "autograder" or name.startswith(("autograder.", "."))}


def course_files() -> list[Path]:
    return sorted([*(REPO / "assignments").rglob("*.py"), *(REPO / "solutions").glob("*.py")])


def test_every_public_name_is_the_package_s_own_object():
    homes = [mismatch, assertions, misconceptions, catalogue, errors]
    for name in authoring.__all__:
        public = getattr(authoring, name)
        if name == "read_table":  # a function of its own, so that importing it costs no pandas
            continue
        assert any(getattr(home, name, None) is public for home in homes), name
    with pytest.raises(AttributeError):
        authoring.no_such_name  # noqa: B018


def test_read_table_reads_as_the_data_file_module_does(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2.5\n3,4\n")
    assert authoring.read_table(path, {"a": int, "b": float}).equals(datafile.read_table(path, {"a": int, "b": float}))
    with pytest.raises(errors.DataFileError, match="not a number"):
        path.write_text("a\nx\n")
        authoring.read_table(path, {"a": int})


def test_importing_the_public_module_and_the_references_costs_no_pandas():
    """pandas takes 0.2 s of CPU to import; a grader process with the reference cache warm never reads a
    table, so it must not pay for it (a `from autograder.authoring import read_table` used to import it)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from autograder.authoring import *; "
            "from autograder.authoring import read_table; import solutions.student_admissions, "
            "solutions.gradient_descent; print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas'))")
    out = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
        package = ".".join(path.relative_to(REPO).parent.parts)  # a module's package, or an __init__'s own
        for module, names in package_imports.imports(path.read_text(), package):
            assert "autograder.authoring" not in [module, *(f"{module}.{name}" for name in names)], path
