"""A journal's lines read back: a JSON object each, and a result only when it is
exactly what the journal wrote, every field of the type its class declares; any other
line is None, for the journal to leave out."""

from __future__ import annotations

import json
from dataclasses import fields

from ..results import OUTCOMES, STATUSES, PartResult, SubmissionResult, TestResult


def json_object(line: bytes) -> dict | None:
    """The line as a JSON object; None for any other line (one cut short, say)."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def result_entry(line: bytes) -> tuple[str, tuple[str, SubmissionResult]] | None:
    """(key, (sha256, result)) of a result line; None for a line that is not one the
    journal wrote."""
    record = json_object(line)
    if (
        record is None
        or not isinstance(record.get("key"), str)
        or not isinstance(record.get("sha256", ""), str)
    ):
        return None
    data = record.get("result")
    if not isinstance(data, dict):
        return None
    try:
        result = SubmissionResult.from_dict(data)
        if (
            result.to_dict() != data
            or not _typed(result)
            or result.status not in STATUSES
        ):
            return None
    # missing fields, text where numbers go
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return record["key"], (record.get("sha256", ""), result)


KINDS: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "float": (int, float),
    "list": list,
    "dict": dict,
}


def _typed(value: SubmissionResult | PartResult | TestResult) -> bool:
    """Every field of the type its class declares (the first level of it: a str, a
    number, a list, a dict)."""
    for field in fields(value):
        item = getattr(value, field.name)
        kind = KINDS.get(str(field.type).split("[")[0].split(" |")[0])
        if (item is None and "None" in str(field.type)) or kind is None:
            continue
        if not isinstance(item, kind) or isinstance(item, bool):
            return False
    if isinstance(value, TestResult):
        return value.outcome in OUTCOMES
    inner = value.parts if isinstance(value, SubmissionResult) else value.tests
    listed = [*getattr(value, "notes", []), *getattr(value, "cell_errors", [])]
    return all(_typed(item) for item in inner) and all(
        isinstance(item, (str, dict)) for item in listed
    )
