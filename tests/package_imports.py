"""What a Python file imports, read with `ast`: for the tests of the package's layout and of its public module."""

from __future__ import annotations

import ast


def imports(source: str, package: str = "") -> list[tuple[str, list[str]]]:
    """(module, names) for every import in `source`, at any depth of its code (lazy imports too):
    `import a.b` gives ("a.b", []), `from a import b, c` gives ("a", ["b", "c"]). A relative import is
    resolved against `package` (dotted), or keeps its dots when there is none."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level and package:
                parts = package.split(".")
                module = ".".join(parts[:len(parts) - node.level + 1] + ([module] if module else []))
            elif node.level:
                module = "." * node.level + module
            found.append((module, [alias.name for alias in node.names]))
    return found
