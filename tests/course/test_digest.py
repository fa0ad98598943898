"""Fingerprints of what results depend on: a folder's files (or one file), and the reference's, without NumPy."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

from autograder.course.digest import files_digest, reference_fingerprint


def test_a_folders_digest_changes_with_a_name_or_a_content_not_with_caches_or_checkpoints(tmp_path):
    (tmp_path / "test_a.py").write_text("x = 1\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("a\n1\n")
    before = files_digest(tmp_path)
    for leftover in ("__pycache__/test_a.cpython-311.pyc", ".ipynb_checkpoints/test_a-checkpoint.py", ".hidden"):
        (tmp_path / leftover).parent.mkdir(exist_ok=True)
        (tmp_path / leftover).write_text("left by Python or Jupyter")
    assert files_digest(tmp_path) == before
    (tmp_path / "data" / "t.csv").write_text("a\n2\n")
    assert files_digest(tmp_path) != before
    changed = files_digest(tmp_path)
    (tmp_path / "data" / "t.csv").rename(tmp_path / "data" / "u.csv")
    assert files_digest(tmp_path) != changed
    assert files_digest(tmp_path, "*.py") == files_digest(tmp_path / "test_a.py", "*.py") != files_digest(tmp_path)


def test_one_file_and_nothing(tmp_path):
    (tmp_path / "m.ipynb").write_text("{}")
    one = files_digest(tmp_path / "m.ipynb")
    (tmp_path / "m.ipynb").write_text("{ }")
    assert files_digest(tmp_path / "m.ipynb") != one
    assert files_digest(tmp_path / "missing") == files_digest(tmp_path / "also-missing")


def test_the_reference_fingerprint_follows_its_sources_and_pandas(tmp_path, monkeypatch):
    (tmp_path / "ref.py").write_text("def f(x):\n    return x\n")
    (tmp_path / "notes.txt").write_text("not code")
    before = reference_fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("still not code")
    assert reference_fingerprint(tmp_path) == before  # only its Python files count
    (tmp_path / "helpers.py").write_text("SCALE = 2\n")
    assert reference_fingerprint(tmp_path) != before
    now = reference_fingerprint(tmp_path)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1" if name == "pandas" else real(name))
    assert reference_fingerprint(tmp_path) != now


def test_fingerprinting_imports_neither_numpy_nor_pandas(tmp_path):
    code = ("import sys; from pathlib import Path; from autograder.course.digest import reference_fingerprint; "
            f"reference_fingerprint(Path({str(tmp_path)!r})); print(sorted({{'numpy', 'pandas'}} & set(sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
