"""What the worker imports once, before it forks any submission's process: NumPy,
pandas, Matplotlib."""

from __future__ import annotations

import os
import shutil
import tempfile

# bwrap.INSIDE_FONTS: Matplotlib's font list, when the grader has one
FONTS = "/opt/fonts"


def preload() -> None:
    """The heavy imports every notebook needs, done once before any fork; Matplotlib
    starts from the font list the grader hands the sandbox (copied to a cache folder it
    can write), if any."""
    if os.path.isdir(FONTS):
        cache = os.path.join(tempfile.gettempdir(), "matplotlib")
        os.makedirs(cache, mode=0o700, exist_ok=True)
        for name in os.listdir(FONTS):
            shutil.copyfile(os.path.join(FONTS, name), os.path.join(cache, name))
        os.environ["MPLCONFIGDIR"] = cache
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    from . import child  # noqa: F401  (imports IPython's transformer)
