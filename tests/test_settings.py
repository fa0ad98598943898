"""Settings: a flag beats its AUTOGRADER_* variable, which beats the default; every variable is read in
settings.py only, and the README lists each one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder import settings
from autograder.errors import ExitCode, UsageError
from conftest import REPO


@pytest.fixture(autouse=True)
def no_settings(monkeypatch):
    for variable in settings.VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)


def test_the_course_comes_from_the_flag_then_the_environment(monkeypatch, tmp_path):
    assert settings.course() is None
    monkeypatch.setenv("AUTOGRADER_COURSE", str(tmp_path / "env"))
    assert settings.course() == tmp_path / "env"
    assert settings.course(tmp_path / "flag") == tmp_path / "flag"


def test_the_sandbox_mode_flag_environment_default(monkeypatch):
    assert settings.sandbox_mode() == "auto" and settings.sandbox_mode(default="bwrap") == "bwrap"
    monkeypatch.setenv("AUTOGRADER_SANDBOX", " OFF ")
    assert settings.sandbox_mode(default="bwrap") == "off"
    assert settings.sandbox_mode("bwrap") == "bwrap"


@pytest.mark.parametrize("variable, read", [("AUTOGRADER_SANDBOX", settings.sandbox_mode),
                                            ("AUTOGRADER_FRESH_TMP", settings.fresh_tmp),
                                            ("AUTOGRADER_CACHE", settings.reference_cache)])
def test_a_value_that_is_no_choice_names_the_variable(monkeypatch, variable, read):
    monkeypatch.setenv(variable, "maybe")
    with pytest.raises(UsageError, match=rf"{variable}='maybe' is not one of") as caught:
        read()
    assert caught.value.exit_code == ExitCode.USAGE


def test_switches_are_on_unless_turned_off(monkeypatch):
    assert settings.fresh_tmp() and settings.reference_cache() and not settings.debug()
    for variable in ("AUTOGRADER_FRESH_TMP", "AUTOGRADER_CACHE"):
        monkeypatch.setenv(variable, "off")
    monkeypatch.setenv("AUTOGRADER_DEBUG", "1")
    assert not settings.fresh_tmp() and not settings.reference_cache() and settings.debug()


def test_the_cache_folder_rule_is_written_once(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert settings.cache_folder() == tmp_path / "xdg" / "autograder"
    assert settings.bundles_folder() == tmp_path / "xdg" / "autograder" / "bundles"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert settings.cache_folder() == Path.home() / ".cache" / "autograder"
    monkeypatch.setenv("AUTOGRADER_BUNDLES", str(tmp_path / "bundles"))
    assert settings.bundles_folder() == tmp_path / "bundles"


def test_every_variable_is_read_here_only_and_listed_in_the_readme():
    """Other modules may name a variable (in a message, a docstring) but not read one, nor the cache folder's rule."""
    named = set()
    for path in (REPO / "autograder").rglob("*.py"):
        text = path.read_text()
        named.update(re.findall(r"AUTOGRADER_[A-Z_]+", text))
        if path.name != "settings.py":
            reads = re.findall(r"(?:environ|getenv)[^\n]*(?:AUTOGRADER_|VARIABLE\b|\bENV\b)"
                               r"|XDG_CACHE_HOME|= \"AUTOGRADER_", text)
            assert not reads, (path, reads)
    assert named == {variable.name for variable in settings.VARIABLES}
    readme = (REPO / "README.md").read_text()
    for variable in settings.VARIABLES:
        assert re.search(rf"^\| `{variable.name}` \|", readme, re.M), variable.name


def test_the_course_flag_beats_the_environment_on_the_command_line(tmp_path, monkeypatch, capsys):
    from autograder.cli import main

    for course in ("flag", "env"):
        (tmp_path / course / "assignments").mkdir(parents=True)
    monkeypatch.setenv("AUTOGRADER_COURSE", str(tmp_path / "env"))
    assert main(["--course", str(tmp_path / "flag"), "new", "week-one"]) == ExitCode.OK
    assert (tmp_path / "flag" / "assignments" / "week-one").is_dir()
    assert not (tmp_path / "env" / "assignments" / "week-one").exists()
