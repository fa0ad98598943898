"""The generator of the bundled student-admissions data and the file it wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import load_solutions, shared_data_file

gen = load_solutions("student_admissions_data")


@pytest.fixture(scope="module")
def sample():
    return gen.generate()


@pytest.fixture(scope="module")
def large_sample():
    return gen.generate(seed=123, n=20_000)


def test_schema(sample):
    assert list(sample.columns) == ["admit", "gre", "gpa", "rank"]
    assert len(sample) == 400
    assert set(sample["admit"]) == {0, 1}
    assert set(sample["rank"]) == {1, 2, 3, 4}
    assert (sample["gre"] % 20 == 0).all() and sample["gre"].between(200, 800).all()
    assert sample["gpa"].between(2.26, 4.0).all()
    np.testing.assert_allclose(sample["gpa"], sample["gpa"].round(2), rtol=0, atol=1e-12)


def check_statistics(data, tolerance):
    """Statistics of the original data (admit 0.32; GRE 588 +- 116; GPA 3.39 +- 0.38; r = 0.38)."""
    assert data["admit"].mean() == pytest.approx(0.32, abs=0.05 * tolerance)
    assert data["gre"].mean() == pytest.approx(588, abs=15 * tolerance)
    assert data["gre"].std() == pytest.approx(116, abs=12 * tolerance)
    assert data["gpa"].mean() == pytest.approx(3.39, abs=0.05 * tolerance)
    assert data["gpa"].std() == pytest.approx(0.38, abs=0.04 * tolerance)
    assert data["gre"].corr(data["gpa"]) == pytest.approx(0.38, abs=0.1 * tolerance)
    shares = data["rank"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, [0.15, 0.38, 0.30, 0.17], atol=0.04 * tolerance)


def test_bundled_sample_statistics(sample):
    check_statistics(sample, tolerance=1.0)


def test_generator_statistics_on_a_large_sample(large_sample):
    check_statistics(large_sample, tolerance=0.25)


def test_admission_follows_gre_gpa_and_rank(large_sample):
    by_rank = large_sample.groupby("rank")["admit"].mean().to_numpy()
    assert list(by_rank) == sorted(by_rank, reverse=True)  # better school rank, more admissions
    admitted = large_sample[large_sample["admit"] == 1]
    rejected = large_sample[large_sample["admit"] == 0]
    assert admitted["gre"].mean() > rejected["gre"].mean()
    assert admitted["gpa"].mean() > rejected["gpa"].mean()


def test_same_seed_same_frame_other_seed_differs():
    pd.testing.assert_frame_equal(gen.generate(seed=5), gen.generate(seed=5))
    assert not gen.generate(seed=5).equals(gen.generate(seed=6))


def test_write_csv_round_trips(tmp_path):
    path = gen.write_csv(tmp_path / "data.csv", seed=3)
    pd.testing.assert_frame_equal(pd.read_csv(path), gen.generate(seed=3))


def test_committed_file_is_the_generated_one():
    pd.testing.assert_frame_equal(pd.read_csv(gen.BUNDLED_DATA), gen.generate(seed=gen.SEED))


def test_committed_file_is_not_the_original_data():
    original = pd.read_csv(shared_data_file("student_data.csv"))
    bundled = pd.read_csv(gen.BUNDLED_DATA)
    assert gen.BUNDLED_DATA.read_bytes() != shared_data_file("student_data.csv").read_bytes()
    same_rows = (original.to_numpy() == bundled.to_numpy()).all(axis=1).mean()
    assert same_rows < 0.05
