"""The course bundle a Dask worker unpacks: named by its content, and only ever under the bundles folder."""

from __future__ import annotations

import pytest

from autograder.batch.bundle import Bundle, bundles_folder, install, installed, make_bundle
from autograder.errors import UsageError
from toycourse import make_course


@pytest.fixture
def bundles(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_BUNDLES", str(tmp_path / "bundles"))
    return tmp_path / "bundles"


def test_a_bundle_is_unpacked_once_under_the_bundles_folder(tmp_path, bundles):
    bundle = make_bundle(make_course(tmp_path / "course").assignment())
    assert bundles_folder() == bundles and installed(bundle.key) is None
    root = install(bundle.key, bundle.data)
    assert root == bundles / bundle.key and installed(bundle.key) == root
    assert (root / "assignments" / "toy" / "assignment.toml").is_file()
    assert (root / "source" / "toy" / "toy.ipynb").read_bytes() == (root / "release" / "toy" / "toy.ipynb").read_bytes()


@pytest.mark.parametrize("key", ["../elsewhere", "/tmp", "ABCDEF" * 6, "0" * 31, ""])
def test_a_key_that_is_not_a_digest_names_no_folder(tmp_path, bundles, key):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".complete").write_text("")  # a course someone left there, to be graded from
    with pytest.raises(UsageError, match="is not a course bundle's key"):
        installed(key)


@pytest.mark.parametrize("name", ["../toy", "/tmp/toy", "a" * 300])
def test_a_bundle_names_a_plain_assignment(name):
    with pytest.raises(UsageError, match="is not an assignment name"):
        Bundle(name, b"")
