"""The reference cache: a costly reference result is computed once per course, kept on disk as .npz."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_on
from autograder.suite.refcache import CACHE_DIR, ReferenceCache, fingerprint

from toycourse import REFERENCE, make_course


class Counted:
    """A reference function that counts its calls."""

    def __init__(self, result):
        self.result, self.calls = result, 0
        self.__qualname__ = "train"
        self.__module__ = "reference"

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.result() if callable(self.result) else self.result


def result():
    return (np.arange(6.0).reshape(2, 3), np.float32(0.5), 0.25, 3, True, "done", None,
            [np.array([1, 2], dtype=np.int16)], {"losses": np.linspace(0.0, 1.0, 4)})


@pytest.fixture
def solutions(tmp_path):
    folder = tmp_path / "solutions"
    folder.mkdir()
    (folder / "ref.py").write_text("def train(x):\n    return x\n")
    return folder


def new_cache(tmp_path, solutions) -> ReferenceCache:
    """A cache as a fresh grader process has it: nothing in memory, the same folder on disk."""
    return ReferenceCache(tmp_path / "cache", fingerprint(solutions))


def test_a_result_computed_once_is_read_back_by_another_process_with_its_types(tmp_path, solutions):
    train = Counted(result)
    x = np.linspace(-1.0, 1.0, 5)
    first = new_cache(tmp_path, solutions)(train, x, 1000, learnrate=0.5)
    again = new_cache(tmp_path, solutions)(train, x.copy(), 1000, learnrate=0.5)
    assert train.calls == 1
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    for value in (first, again):
        arrays, f32, number, count, flag, text, nothing, listed, named = value
        np.testing.assert_array_equal(arrays, np.arange(6.0).reshape(2, 3))
        assert type(f32) is np.float32 and f32 == np.float32(0.5)
        assert type(number) is float and number == 0.25
        assert type(count) is int and count == 3
        assert flag is True and text == "done" and nothing is None
        assert isinstance(listed, list) and listed[0].dtype == np.int16
        np.testing.assert_array_equal(named["losses"], np.linspace(0.0, 1.0, 4))


def test_results_are_read_only_so_a_test_cannot_change_the_next_comparison(tmp_path, solutions):
    cache = new_cache(tmp_path, solutions)
    weights = cache(Counted(lambda: np.zeros(3)), 1)
    with pytest.raises(ValueError, match="read-only"):
        weights[0] = 1.0
    assert not new_cache(tmp_path, solutions)(Counted(None), 1).flags.writeable


def test_same_process_reuses_the_value_without_reading_the_disk(tmp_path, solutions):
    cache, train = new_cache(tmp_path, solutions), Counted(result)
    assert cache(train, 1) is cache(train, 1)
    assert train.calls == 1


@pytest.mark.parametrize("other", [
    ((np.array([1.0, 2.0]),), {}),                      # other values
    ((np.array([1.0, 2.5], dtype=np.float32),), {}),    # same numbers, other dtype
    ((np.array([[1.0, 2.5]]),), {}),                    # other shape
    ((np.array([1.0, 2.5]), 1.0), {}),                  # one more argument
    ((np.array([1.0, 2.5]),), {"seed": 1}),             # a keyword
    (([1.0, 2.5],), {}),                                # a list, not an array
])
def test_other_arguments_make_another_key(tmp_path, solutions, other):
    train = Counted(result)
    cache = new_cache(tmp_path, solutions)
    cache(train, np.array([1.0, 2.5]))
    args, kwargs = other
    cache(train, *args, **kwargs)
    assert train.calls == 2


def test_int_and_float_arguments_are_different_keys(tmp_path, solutions):
    cache, train = new_cache(tmp_path, solutions), Counted(result)
    cache(train, 1)
    cache(train, 1.0)
    cache(train, True)
    assert train.calls == 3


def test_a_data_file_is_keyed_by_its_name_and_content_not_by_where_it_is(tmp_path, solutions):
    train = Counted(result)
    here, there = tmp_path / "here" / "data.csv", tmp_path / "there" / "data.csv"
    for path in (here, there):
        path.parent.mkdir()
        path.write_text("a\n1\n")
    cache = new_cache(tmp_path, solutions)
    assert cache.key(train, (here,), {}) == cache.key(train, (there,), {})
    cache(train, here)
    new_cache(tmp_path, solutions)(train, there)  # the same data in another place: read back
    assert train.calls == 1
    there.write_text("a\n2\n")  # the data edited: computed again
    new_cache(tmp_path, solutions)(train, there)
    other = tmp_path / "there" / "other.csv"
    other.write_text("a\n1\n")  # another file with the same bytes is another input
    new_cache(tmp_path, solutions)(train, other)
    assert train.calls == 3


def test_a_missing_data_file_is_left_to_the_function_to_report(tmp_path, solutions):
    def read(path):
        return np.loadtxt(path)

    read.__qualname__ = "read"
    with pytest.raises(OSError):
        new_cache(tmp_path, solutions)(read, tmp_path / "missing.csv")
    assert not list((tmp_path / "cache").glob("*.npz"))


def test_a_folder_or_a_missing_file_is_never_kept_under_a_key_that_ignores_its_data(tmp_path, solutions):
    """A function that reads a folder, or falls back to defaults when its file is missing, runs every time."""
    def total(path):
        return float(sum(len(p.read_bytes()) for p in path.iterdir())) if path.is_dir() else -1.0

    total.__qualname__ = "total"
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text("1\n")
    assert new_cache(tmp_path, solutions)(total, folder) == 2.0
    (folder / "b.csv").write_text("22\n")
    assert new_cache(tmp_path, solutions)(total, folder) == 5.0
    assert new_cache(tmp_path, solutions)(total, tmp_path / "missing") == -1.0
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").glob("*.npz"))


def test_another_pandas_makes_another_fingerprint(solutions, monkeypatch):
    """A reference that reads its data with read_table computes with pandas: another version, another key."""
    import importlib.metadata

    before = fingerprint(solutions)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1" if name == "pandas" else real(name))
    assert fingerprint(solutions) != before


def test_editing_the_reference_solutions_computes_again(tmp_path, solutions):
    train = Counted(result)
    new_cache(tmp_path, solutions)(train, 1)
    (solutions / "helpers.py").write_text("SCALE = 2\n")  # any file of the folder counts
    new_cache(tmp_path, solutions)(train, 1)
    (solutions / "ref.py").write_text("def train(x):\n    return 2 * x\n")
    new_cache(tmp_path, solutions)(train, 1)
    assert train.calls == 3


def test_a_damaged_cache_file_is_computed_again_and_replaced(tmp_path, solutions):
    train = Counted(lambda: np.ones(2))
    new_cache(tmp_path, solutions)(train, 1)
    (stored,) = (tmp_path / "cache").glob("*.npz")
    stored.write_bytes(stored.read_bytes()[:40])
    np.testing.assert_array_equal(new_cache(tmp_path, solutions)(train, 1), np.ones(2))
    assert train.calls == 2
    np.testing.assert_array_equal(new_cache(tmp_path, solutions)(train, 1), np.ones(2))
    assert train.calls == 2


def test_a_cache_folder_that_cannot_be_written_only_costs_the_time_to_compute_again(tmp_path, solutions):
    (tmp_path / "cache").write_text("a file where the folder should be")  # fails even for root
    train = Counted(lambda: np.ones(2))
    np.testing.assert_array_equal(new_cache(tmp_path, solutions)(train, 1), np.ones(2))
    np.testing.assert_array_equal(new_cache(tmp_path, solutions)(train, 1), np.ones(2))
    assert train.calls == 2


def test_the_disk_cache_can_be_turned_off(tmp_path, solutions, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CACHE", "off")
    train = Counted(result)
    new_cache(tmp_path, solutions)(train, 1)
    new_cache(tmp_path, solutions)(train, 1)
    assert train.calls == 2 and not (tmp_path / "cache").exists()


def test_what_cannot_be_kept_as_plain_data_is_refused_with_what_to_pass(tmp_path, solutions):
    cache = new_cache(tmp_path, solutions)
    with pytest.raises(TypeError, match="cannot key an argument of type object"):
        cache(Counted(result), object())
    with pytest.raises(TypeError, match="returned a set; only arrays, numbers"):
        cache(Counted({1, 2}), 1)
    with pytest.raises(TypeError, match="array of Python objects"):
        cache(Counted(lambda: np.array([1, "a"], dtype=object)), 1)


# A toy course whose hidden suite asks `cached` for a reference result; the reference writes a line
# into calls.txt (beside the course) each time it really computes it.
COUNTING_REFERENCE = REFERENCE + '''

def slow_square(x):
    from pathlib import Path
    with open(Path(__file__).resolve().parent.parent / "calls.txt", "a") as log:
        log.write("computed\\n")
    return np.asarray(x, dtype=float) ** 2
'''

CACHED_SUITE = '''\
import numpy as np


def test_square(student, reference, check, cached):
    """square of an array, against a cached reference result"""
    x = np.array([1.0, -2.0, 0.5])
    check.close(student.square(x), cached(reference.slow_square, x), "square([1, -2, 0.5])")
'''


@pytest.mark.slow
def test_batches_and_grader_processes_share_one_reference_computation(tmp_path):
    course = make_course(tmp_path, suite=CACHED_SUITE, reference=COUNTING_REFERENCE)
    course.released_with("a-right", "def square(x):\n    return np.asarray(x, dtype=float) ** 2")
    first = run_on(course.assignment(), [course.submissions], jobs=1)
    assert [s.score for s in first.report.submissions] == [3.0]
    assert (tmp_path / "calls.txt").read_text() == "computed\n"
    assert len(list((tmp_path / CACHE_DIR).glob("*.npz"))) == 1

    course.released_with("b-wrong", "def square(x):\n    return x * 2")
    course.released_with("c-right", "def square(x):\n    return x * x")
    second = run_on(course.assignment(), [course.submissions], jobs=2)  # two new grader processes
    assert [s.score for s in second.report.submissions] == [3.0, 0.0, 3.0]
    assert (tmp_path / "calls.txt").read_text() == "computed\n"


def test_the_key_does_not_depend_on_where_the_course_is(tmp_path):
    """A course moved or copied (the Gradescope image, another machine) keeps its cache."""
    from autograder.suite.runner import load_reference

    keys = []
    for place in ("here", "there"):
        course = make_course(tmp_path / place, reference=COUNTING_REFERENCE)
        reference = load_reference(course.assignment())
        cache = ReferenceCache(course.root / CACHE_DIR, fingerprint(course.root / "solutions"))
        keys.append(cache.key(reference.slow_square, (np.arange(3.0),), {}))
    assert keys[0] == keys[1]
