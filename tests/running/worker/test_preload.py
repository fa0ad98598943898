"""The worker's imports, done once before any fork: every submission's process starts with them loaded."""

from __future__ import annotations

import json
import subprocess
import sys

from autograder.running.launch import WORKER_MODULE


def test_preload_loads_numpy_pandas_and_matplotlib_without_a_display(tmp_path):
    code = (f"from {WORKER_MODULE}.preload import preload\nimport sys, json\npreload()\n"
            "import matplotlib\n"
            "print(json.dumps([matplotlib.get_backend().lower(), "
            "[m in sys.modules for m in ('numpy', 'pandas', 'matplotlib.pyplot')]]))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PATH": "/usr/bin:/bin", "MPLCONFIGDIR": str(tmp_path)}, timeout=120)
    assert json.loads(shown.stdout.splitlines()[-1]) == ["agg", [True, True, True]]
