"""What a notebook sees as IPython while it is graded: magics and `!` lines turn into
harmless calls.

IPython's own transformer rewrites `%magic` and `!cmd` into `get_ipython()...` calls;
this module provides a small `get_ipython()` that runs the few magics that execute code
(`%time`, `%%capture`, ...) and skips everything else with a note, as "Restart & Run
All" would without side effects.
"""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.inputtransformer2 import TransformerManager

_transformer = TransformerManager()

# Magics whose body is ordinary code that should run; the rest (matplotlib, pip,
# load_ext, ...) are skipped.
_RUN_BODY = {"time", "timeit", "capture", "prun", "%time", "%timeit"}


def to_python(source: str) -> str:
    """Cell source with IPython syntax turned into plain Python."""
    return _transformer.transform_cell(source)


class GradingShell:
    """Stands in for IPython's InteractiveShell inside the worker."""

    def __init__(self, namespace: dict[str, Any], run_source):
        self.user_ns = namespace
        self._run_source = run_source  # executes code as part of the current cell

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> Any:
        if name.lstrip("%") in _RUN_BODY and line.strip():
            self._run_source(line)
        else:
            self._note(f"%{name.lstrip('%')}")
        return None

    def run_cell_magic(self, name: str, line: str, cell: str) -> Any:
        if name in _RUN_BODY:
            self._run_source(cell)
        elif name == "writefile" and line.strip():
            # relative to the scratch folder
            with open(line.split()[-1], "w") as handle:
                handle.write(cell)
        else:
            self._note(f"%%{name}")
        return None

    def system(self, command: str) -> None:
        self._note(f"!{command.split()[0] if command.split() else ''}")

    def getoutput(self, command: str) -> list[str]:
        self.system(command)
        return []

    def _note(self, what: str) -> None:
        print(f"[autograder] skipped {what} while grading", file=sys.stderr)
