"""Notebook files with one hostile value: shared by the tests of notebook files and of `autograder check`."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell

from toycourse import notebook


def good_json() -> dict:
    return json.loads(nbformat.writes(notebook([new_code_cell("x = 1")])))


def hostile(where: str, raw: str) -> bytes:
    """A good notebook with the value at `where` (dotted keys, list indexes) replaced by the JSON text `raw`."""
    data = good_json()
    *parents, last = [int(key) if key.isdigit() else key for key in where.split(".")]
    node = data
    for key in parents:
        node = node[key] if isinstance(node, list) else node.setdefault(key, {})
    node[last] = "@HOSTILE@"
    return json.dumps(data).replace('"@HOSTILE@"', raw).encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth
