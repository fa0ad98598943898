"""Running an assignment's hidden pytest suite in the grader process."""

from __future__ import annotations

import os

import pytest

from autograder.errors import ConfigError
from autograder.suite.runner import Suite, load_reference, master_sources, suite_files
from toycourse import make_course


def suite_of(course) -> Suite:
    return Suite(course.assignment(), course.master_node())


def test_the_toy_suite_collects_its_two_tests(tmp_path):
    course = make_course(tmp_path)
    assert [o.name for o in suite_of(course).collect()] == ["test_number", "test_array"]
    assert suite_files(course.assignment()) == [course.suite_dir.resolve() / "test_square.py"]


def test_master_sources_by_grade_id(tmp_path):
    course = make_course(tmp_path)
    sources = master_sources(course.master_node())
    assert list(sources) == ["intro", "provided", "square", "test_square"]
    assert sources["provided"] == "import numpy as np\nSIDE = 3.0"


def test_two_assignments_with_the_same_test_file_names_run_their_own_tests(tmp_path):
    first = make_course(tmp_path / "a", suite="def test_alpha():\n    assert True\n")
    second = make_course(tmp_path / "b", suite="def test_beta():\n    raise AssertionError('beta fails')\n")
    suites = [suite_of(first), suite_of(second)]
    for _ in range(2):  # and again, in turn
        alpha, beta = (suite.run(None) for suite in suites)
        assert [(o.name, o.outcome) for o in alpha] == [("test_alpha", "passed")]
        assert [(o.name, o.outcome, o.feedback) for o in beta] == [("test_beta", "failed", "beta fails")]


@pytest.mark.parametrize("route", ["entry point", "PYTEST_PLUGINS", "PYTEST_ADDOPTS"])
def test_pytest_plugins_and_options_of_the_grader_s_environment_do_not_join_the_hidden_suite(tmp_path, monkeypatch,
                                                                                            route):
    """A plugin pip installed for something else (one that shuffles tests, reseeds, times out, or as here fails
    every test), or pytest settings in the environment of whoever runs the grader, must not change a grade:
    the suite runs with our plugin and pytest's own, and our options only."""
    site = tmp_path / "site"
    (site / "failing_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "failing_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: failing-plugin\nVersion: 1.0\n")
    (site / "failing_plugin-1.0.dist-info" / "entry_points.txt").write_text("[pytest11]\nfailing = failing_plugin\n")
    (site / "failing_plugin.py").write_text(
        "def pytest_runtest_call(item):\n    raise AssertionError('failed by a plugin of the environment')\n")
    monkeypatch.syspath_prepend(str(site))
    if route == "PYTEST_PLUGINS":
        monkeypatch.setenv("PYTEST_PLUGINS", "failing_plugin")
    elif route == "PYTEST_ADDOPTS":
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p failing_plugin -k no_such_test")
    before = {name: os.environ.get(name) for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    course = make_course(tmp_path / "course", suite="def test_alpha():\n    assert True\n")
    assert [(o.name, o.outcome) for o in suite_of(course).run(None)] == [("test_alpha", "passed")]
    assert [o.name for o in suite_of(course).collect()] == ["test_alpha"]
    assert {name: os.environ.get(name) for name in before} == before  # the grader's own is as it was


def test_a_plugin_a_suite_names_in_its_conftest_is_loaded(tmp_path):
    """With no plugin loaded from the environment, a suite that needs one says so: pytest_plugins = ["anyio"]."""
    pytest.importorskip("anyio", reason="anyio (a Jupyter dependency) is not installed")
    suite = {
        "conftest.py": "import pytest\npytest_plugins = ['anyio']\n\n\n@pytest.fixture\ndef anyio_backend():\n"
                       "    return 'asyncio'\n",
        "test_square.py": "import pytest\n\n\n@pytest.mark.anyio\nasync def test_async():\n    assert True\n",
    }
    course = make_course(tmp_path, suite=suite)
    assert [(o.name, o.outcome) for o in suite_of(course).run(None)] == [("test_async", "passed")]


@pytest.mark.parametrize("step", ["run", "collect"])
def test_a_hidden_suite_that_does_not_import_is_a_config_error(tmp_path, step):
    course = make_course(tmp_path, suite="def test_broken(:\n    pass\n")
    suite = suite_of(course)
    with pytest.raises(ConfigError) as caught:
        suite.run(None) if step == "run" else suite.collect()
    assert caught.value.key == "tests" and caught.value.path == str(course.suite_dir.resolve())
    assert ("could not be run" if step == "run" else "collecting the hidden suite failed") in str(caught.value)


def test_ctrl_c_while_the_suite_runs_stays_ctrl_c_not_a_broken_suite(tmp_path):
    """pytest answers an interrupt with the exit code of a suite that cannot run; the batch must see
    the interrupt (and keep its results), not a configuration error."""
    course = make_course(tmp_path, suite="def test_square():\n    raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt) as raised:
        suite_of(course).run(None)
    assert raised.type is KeyboardInterrupt  # not pytest's own Interrupted


def test_missing_reference_solutions(tmp_path):
    course = make_course(tmp_path)
    (course.root / "solutions" / "toy.py").unlink()
    with pytest.raises(ConfigError) as caught:
        load_reference(course.assignment())
    assert caught.value.key == "assignment.reference" and "toy.py not found" in caught.value.problem


def test_the_reference_is_imported_by_path(tmp_path):
    reference = load_reference(make_course(tmp_path).assignment())
    assert reference.square(3.0) == 9.0 and reference.__name__ == "_autograder_reference_toy"


def test_a_reference_of_the_same_name_from_another_course_or_edited_is_imported_again(tmp_path):
    first = make_course(tmp_path / "one")
    assert load_reference(first.assignment()) is load_reference(first.assignment())
    other = make_course(tmp_path / "two", reference="def square(x):\n    return 'the other course'\n")
    assert load_reference(other.assignment()).square(3.0) == "the other course"
    assert load_reference(first.assignment()).square(3.0) == 9.0
    (first.root / "solutions" / "toy.py").write_text("def square(x):\n    return 'edited, longer file'\n")
    assert load_reference(first.assignment()).square(3.0) == "edited, longer file"


def test_an_edited_hidden_test_file_is_read_again_by_a_long_lived_grader(tmp_path):
    """A Dask worker or grader process lives across batches: it must grade with the tests as they are now."""
    course = make_course(tmp_path, suite="def test_alpha():\n    assert True\n")
    suite = suite_of(course)
    assert [(o.name, o.outcome) for o in suite.run(None)] == [("test_alpha", "passed")]
    (course.suite_dir / "test_square.py").write_text("def test_alpha():\n    raise AssertionError('edited')\n")
    assert [(o.name, o.outcome) for o in suite_of(course).run(None)] == [("test_alpha", "failed")]


def test_a_hidden_test_file_fixed_after_it_failed_to_import_is_imported_again(tmp_path):
    course = make_course(tmp_path, suite="def test_alpha(:\n    pass\n")
    with pytest.raises(ConfigError):
        suite_of(course).run(None)
    (course.suite_dir / "test_square.py").write_text("def test_alpha():\n    assert True\n")
    assert [(o.name, o.outcome) for o in suite_of(course).run(None)] == [("test_alpha", "passed")]
