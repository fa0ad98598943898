"""Seeded generator of the bundled gradient-descent data set.

The bundled `data.csv` is made here, not copied: 100 points in the plane, 50 with label 1 and 50
with label 0, drawn from two normal clouds that overlap only a little (the shape of the lesson's
points file: no header, columns x1, x2, label, the label-1 rows first). Run
`python solutions/gradient_descent_data.py [PATH]` to rewrite the bundled file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# The first seed from 0 whose sample passes tests/assignments/test_gradient_descent_data.py.
SEED = 0
N_PER_LABEL = 50
BUNDLED_DATA = Path(__file__).resolve().parent.parent / "source" / "gradient-descent" / "data.csv"

# Centre and spread (per coordinate) of each cloud; label 1 sits lower left, label 0 upper right.
CLOUDS = {
    1: ((0.35, 0.34), (0.15, 0.15)),
    0: ((0.68, 0.70), (0.12, 0.13)),
}
DECIMALS = 5


def generate(seed: int = SEED, n_per_label: int = N_PER_LABEL) -> np.ndarray:
    """An array of shape (2 * n_per_label, 3): x1, x2, label; the same seed gives the same array."""
    rng = np.random.default_rng(seed)
    blocks = []
    for label in (1, 0):
        centre, spread = CLOUDS[label]
        points = rng.normal(loc=centre, scale=spread, size=(n_per_label, 2))
        # The lesson's points stay below 1; clipping keeps the far tail of the upper cloud there too
        points = np.round(np.minimum(points, 1.0), DECIMALS)
        blocks.append(np.column_stack([points, np.full(n_per_label, float(label))]))
    return np.vstack(blocks)


def write_csv(path: Path | str = BUNDLED_DATA, seed: int = SEED) -> Path:
    """Write `generate(seed)` to `path` (no header: x1,x2,label) and return the path."""
    path = Path(path)
    rows = generate(seed)
    lines = [f"{x1:.{DECIMALS}f},{x2:.{DECIMALS}f},{int(label)}" for x1, x2, label in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    print(f"wrote {write_csv(sys.argv[1] if len(sys.argv) > 1 else BUNDLED_DATA)}")
