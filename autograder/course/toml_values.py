"""Values read from a TOML table, each checked: a table, a string, a list of strings, a
dataclass of numeric settings in range. Every error is a ConfigError naming the file and
the key."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError

DAY = 86_400.0  # the longest time limit a setting may give
# the largest size (MB, kB) or count a limit may give: within what the kernel takes
LARGEST = 2.0**20
MAX_TOLERANCE = 1e300  # finite, and a comparison with it stays finite


def table(path: Path, data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a table")
    return value


def string(path: Path, table: dict, key: str, default: str) -> str:
    value = table.get(key.rsplit(".", 1)[-1], default)
    if not isinstance(value, str) or not value:
        raise ConfigError(path, key, f"must be a non-empty string, got {value!r}")
    return value


def finite(path: Path, key: str, value: Any) -> Any:
    """`value` (a free table handed to the tests, say) with every number in it finite:
    TOML's nan and inf are refused wherever they are."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(path, key, f"must be a finite number, got {value!r}")
    if isinstance(value, dict):
        for name, item in value.items():
            finite(path, f"{key}.{name}", item)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            finite(path, f"{key}[{number}]", item)
    return value


def strings(path: Path, table: dict, key: str) -> list[str]:
    value = table.get(key.rsplit(".", 1)[-1], [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, f"must be a list of strings, got {value!r}")
    return value


def settings_table(
    path: Path, data: dict, key: str, kind: type, tolerance: bool = False
) -> Any:
    """The table `key` as the frozen dataclass `kind`: each setting known to it and a
    number in range (`tolerance`: a tolerance, else a limit) or, for a word, one of
    `kind.CHOICES`; the others its defaults."""
    given = table(path, data, key)
    defaults = kind()
    values = {}
    settings = [setting.name for setting in fields(kind)]
    for name, value in given.items():
        if name not in settings:
            known = ", ".join(settings)
            raise ConfigError(
                path, f"{key}.{name}", f"unknown setting (known: {known})"
            )
        default = getattr(defaults, name)
        if isinstance(default, str):  # one of the words the setting knows
            choices = kind.CHOICES[name]  # type: ignore[attr-defined]
            if value not in choices:
                raise ConfigError(
                    path,
                    f"{key}.{name}",
                    f"must be one of {', '.join(map(repr, choices))}, got {value!r}",
                )
            values[name] = value
            continue
        values[name] = _limit(path, f"{key}.{name}", value, type(default), tolerance)
    return kind(**values)


def _limit(
    path: Path, key: str, value: Any, expected: type, tolerance: bool
) -> float | int:
    """A finite number in range: a tolerance 0 or more, a time limit more than 0 and at
    most a day, any other limit more than 0 and at most LARGEST, and a whole number
    where the limit counts (MB, kB, processes)."""
    if tolerance:
        if not number_in(value, None, MAX_TOLERANCE):
            raise ConfigError(
                path, key, f"must be a finite number, 0 or more, got {value!r}"
            )
        return float(value)
    largest = DAY if key.endswith("timeout") else LARGEST
    if not number_in(value, 0.0, largest):
        raise ConfigError(
            path,
            key,
            f"must be a number more than 0 and at most {largest:,.0f}, got {value!r}",
        )
    if expected is int and value != int(value):
        raise ConfigError(path, key, f"must be a whole number, got {value!r}")
    return expected(value)


def number_in(value: Any, above: float | None, most: float) -> bool:
    """`value` is an int or float (not a bool), finite, more than `above` (None: 0 or
    more) and at most `most`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    # an infinite one is out of every range below
    if isinstance(value, float) and math.isnan(value):
        return False
    return (value >= 0 if above is None else value > above) and value <= most
