"""Seeded generator of the bundled student-admissions data set.

The bundled `student_data.csv` is made here, not copied: 400 synthetic applicants with the schema
and the statistics of the original admissions data (admit, gre, gpa, rank), admission drawn from a
logistic model. Run `python solutions/student_admissions_data.py` to rewrite the bundled file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

# The first seed from 0 whose sample passes tests/assignments/test_student_admissions_data.py and on which the
# reference training reaches a test accuracy of at least 0.65.
SEED = 0
N_ROWS = 400
BUNDLED_DATA = Path(__file__).resolve().parent.parent / "source" / "student-admissions" / "student_data.csv"

# Latent normal scores before rounding and clipping; chosen so that after GRE is rounded to
# multiples of 20 in [200, 800] and GPA to two decimals in [2.26, 4.0], the sample has
# GRE mean ~588, sd ~116; GPA mean ~3.39, sd ~0.38; correlation ~0.38.
GRE_MEAN, GRE_SD = 590.0, 120.0
GPA_MEAN, GPA_SD = 3.40, 0.40
GRE_GPA_CORRELATION = 0.40
RANK_SHARES = (0.15, 0.38, 0.30, 0.17)  # ranks 1, 2, 3, 4

# Logistic model of admission fitted once (Newton's method) to the original admissions data:
# logit P(admit = 1) = INTERCEPT + GRE_COEF * gre + GPA_COEF * gpa + RANK_COEF[rank].
INTERCEPT = -3.990
GRE_COEF = 0.002264
GPA_COEF = 0.8040
RANK_COEF = {1: 0.0, 2: -0.6754, 3: -1.340, 4: -1.551}


def generate(seed: int = SEED, n: int = N_ROWS) -> pd.DataFrame:
    """`n` synthetic applicants with columns admit, gre, gpa, rank; the same seed gives the same frame."""
    rng = np.random.default_rng(seed)
    z_gre = rng.standard_normal(n)
    # Correlated by construction rather than by a covariance factorisation, so the draw is exact
    z_gpa = GRE_GPA_CORRELATION * z_gre + np.sqrt(1 - GRE_GPA_CORRELATION**2) * rng.standard_normal(n)
    gre = np.clip(np.round((GRE_MEAN + GRE_SD * z_gre) / 20) * 20, 200, 800).astype(np.int64)
    gpa = np.clip(np.round(GPA_MEAN + GPA_SD * z_gpa, 2), 2.26, 4.0)
    rank = rng.choice(np.arange(1, 5), size=n, p=RANK_SHARES)
    logit = INTERCEPT + GRE_COEF * gre + GPA_COEF * gpa + np.array([RANK_COEF[r] for r in rank])
    admit = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame({"admit": admit, "gre": gre, "gpa": gpa, "rank": rank.astype(np.int64)})


def write_csv(path: Path | str = BUNDLED_DATA, seed: int = SEED) -> Path:
    """Write `generate(seed)` to `path` as CSV and return the path."""
    path = Path(path)
    generate(seed).to_csv(path, index=False)
    return path


if __name__ == "__main__":
    print(f"wrote {write_csv(sys.argv[1] if len(sys.argv) > 1 else BUNDLED_DATA)}")
