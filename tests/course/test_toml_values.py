"""Values read from a TOML table: numeric settings finite and in range, whole where they
count, of the type their dataclass gives, and every error naming the file and the key."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from autograder.course.config import Limits, Tolerance
from autograder.course.toml_values import settings_table, string, strings, table
from autograder.errors import ConfigError

PATH = Path("assignments/toy/assignment.toml")


def refused(data: dict, key: str, kind: type = Limits, tolerance: bool = False) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        settings_table(PATH, data, key, kind, tolerance)
    assert caught.value.path == str(PATH)
    return caught.value


def test_limits_keep_their_types():
    limits = settings_table(PATH, {"limits": {"memory_mb": 512.0, "timeout": 5}}, "limits", Limits)
    assert limits.memory_mb == 512 and type(limits.memory_mb) is int
    assert limits.timeout == 5.0 and type(limits.timeout) is float
    assert settings_table(PATH, {}, "limits", Limits) == Limits()


def test_an_unknown_limit_names_the_known_ones():
    error = refused({"limits": {"cell_timout": 3}}, "limits")
    assert error.key == "limits.cell_timout"
    assert "unknown setting" in error.problem and "cell_timeout" in error.problem


@pytest.mark.parametrize("setting", ["timeout", "part_timeout", "cell_timeout", "call_timeout", "max_notebook_mb",
                                     "scratch_mb", "max_reply_mb", "memory_mb", "max_processes"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 0, -1, 1e300, True, "fast"])
def test_limits_are_finite_and_in_range(setting, value):
    error = refused({"limits": {setting: value}}, "limits")
    assert error.key == f"limits.{setting}" and "at most" in error.problem and "more than 0" in error.problem


@pytest.mark.parametrize("setting", ["memory_mb", "max_output_kb", "max_processes", "max_file_mb", "scratch_files"])
def test_whole_number_limits_take_whole_numbers_only(setting):
    error = refused({"limits": {setting: 0.5}}, "limits")
    assert error.key == f"limits.{setting}" and "whole number" in error.problem


@pytest.mark.parametrize("setting", ["rtol", "atol"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1e-9])
def test_tolerances_are_finite_and_not_negative(setting, value):
    error = refused({"tolerance": {setting: value}}, "tolerance", Tolerance, tolerance=True)
    assert error.key == f"tolerance.{setting}" and "0 or more" in error.problem


def test_a_tolerance_of_zero_is_an_exact_comparison():
    data = {"tolerance": {"atol": 0, "rtol": 0}}
    assert settings_table(PATH, data, "tolerance", Tolerance, tolerance=True) == Tolerance(rtol=0.0, atol=0.0)


def test_tables_strings_and_lists_of_strings_name_the_key():
    assert table(PATH, {}, "limits") == {}
    assert string(PATH, {}, "assignment.notebook", default="toy.ipynb") == "toy.ipynb"
    assert strings(PATH, {"skip_cells": ["plot"]}, "execution.skip_cells") == ["plot"]
    for call, key in [(lambda: table(PATH, {"limits": 3}, "limits"), "limits"),
                      (lambda: string(PATH, {"notebook": ""}, "assignment.notebook", "x"), "assignment.notebook"),
                      (lambda: strings(PATH, {"skip_cells": [1]}, "execution.skip_cells"), "execution.skip_cells")]:
        with pytest.raises(ConfigError) as caught:
            call()
        assert caught.value.key == key
