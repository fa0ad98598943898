"""The generator of the bundled gradient-descent points and the file it wrote."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO, load_solutions, shared_data_file

gen = load_solutions("gradient_descent_data")
ref = load_solutions("gradient_descent")
BUNDLED = REPO / "source" / "gradient-descent" / "data.csv"


@pytest.fixture(scope="module")
def sample():
    return gen.generate()


def test_shape_and_labels(sample):
    assert sample.shape == (100, 3)
    assert np.array_equal(sample[:50, 2], np.ones(50)) and np.array_equal(sample[50:, 2], np.zeros(50))
    assert np.all(sample[:, :2] <= 1.0)
    np.testing.assert_array_equal(sample[:, :2], np.round(sample[:, :2], 5))


def test_same_seed_same_points_other_seed_other_points(sample):
    np.testing.assert_array_equal(gen.generate(), sample)
    assert not np.array_equal(gen.generate(seed=1), sample)


def test_bundled_file_is_the_generated_one(sample, tmp_path):
    written = gen.write_csv(tmp_path / "data.csv")
    assert written.read_text() == BUNDLED.read_text()
    assert not BUNDLED.read_text().startswith("x1")  # no header, as the lesson's file
    features, targets = ref.load_data(BUNDLED)
    np.testing.assert_array_equal(features, sample[:, :2])
    np.testing.assert_array_equal(targets, sample[:, 2])


def test_roughly_separable(sample):
    """The reference training finds a line with most but not all points on the right side."""
    _, _, losses, accuracies = ref.train(sample[:, :2], sample[:, 2])
    assert 0.85 <= accuracies[-1] < 1.0
    assert np.all(np.diff(losses) < 0)


def test_like_the_lessons_points(sample):
    original = np.loadtxt(shared_data_file("gradient_descent_points.csv"), delimiter=",")
    assert original.shape == sample.shape
    for label in (0, 1):
        ours, theirs = sample[sample[:, 2] == label, :2], original[original[:, 2] == label, :2]
        np.testing.assert_allclose(ours.mean(axis=0), theirs.mean(axis=0), atol=0.05)
        np.testing.assert_allclose(ours.std(axis=0), theirs.std(axis=0), atol=0.05)
    final = {name: ref.train(data[:, :2], data[:, 2])[3][-1] for name, data in (("ours", sample), ("theirs", original))}
    assert final["ours"] == pytest.approx(final["theirs"], abs=0.05)
