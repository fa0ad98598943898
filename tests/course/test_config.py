"""assignment.toml loading: a valid file, and errors that name the file and the key."""

from __future__ import annotations

import pytest

from autograder.course.config import Limits, Tolerance, find_course_root, list_assignments, load_assignment
from autograder.errors import ConfigError, ExitCode, UsageError
from toycourse import TOML, make_course


def write_toml(tmp_path, text: str, name: str = "toy"):
    folder = tmp_path / "assignments" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "assignment.toml"
    path.write_text(text)
    return path


def config_error(tmp_path, text: str) -> ConfigError:
    path = write_toml(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_assignment("toy", tmp_path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: [")
    assert caught.value.exit_code == ExitCode.CONFIG
    return caught.value


def test_the_toy_course_loads(tmp_path):
    course = make_course(tmp_path, toml_extra='[tolerance]\nrtol = 1e-3\n[execution]\nskip_cells = ["slow"]\n'
                                              '[suite]\nepochs = 5\ndata = "d.csv"\n')
    assignment = load_assignment("toy", course.root)
    assert assignment.name == "toy" and assignment.root == course.root.resolve()
    assert assignment.notebook == "toy.ipynb" and assignment.reference == "toy"
    assert assignment.parts == {"square": 3.0} and assignment.max_score == 3.0
    assert assignment.limits == Limits(timeout=20.0, cell_timeout=2.0, call_timeout=2.0)
    assert assignment.tolerance == Tolerance(rtol=1e-3, atol=Tolerance().atol)
    assert assignment.skip_cells == ("slow",)
    assert assignment.settings == {"epochs": 5, "data": "d.csv"}
    assert assignment.master_notebook == course.master.resolve()
    assert assignment.release_notebook == course.release.resolve()
    assert assignment.reference_file == (course.root / "solutions" / "toy.py").resolve()
    assert assignment.suite_dir == course.suite_dir.resolve()


def test_defaults_come_from_the_assignment_name(tmp_path):
    write_toml(tmp_path, "[parts]\nfirst = 1\nsecond = 2.5\n", name="my-task")
    assignment = load_assignment("my-task", tmp_path)
    assert assignment.notebook == "my-task.ipynb" and assignment.reference == "my_task"
    assert list(assignment.parts) == ["first", "second"]  # report order is the file's order
    assert assignment.limits == Limits() and assignment.skip_cells == ()


@pytest.mark.parametrize("points", ["0", "-1", '"two"', "true", "nan", "inf", "-inf", "1e300"])
def test_parts_need_positive_points(tmp_path, points):
    error = config_error(tmp_path, f"[parts]\nsquare = {points}\n")
    assert error.key == "parts.square" and "positive" in error.problem


def test_no_parts_at_all(tmp_path):
    error = config_error(tmp_path, '[assignment]\nnotebook = "toy.ipynb"\n')
    assert error.key == "parts"


@pytest.mark.parametrize("text, key", [
    ('[parts]\na = 1\n[limits]\ntimeout = "fast"\n', "limits.timeout"),
    ("[parts]\na = 1\n[limits]\nmemory_mb = true\n", "limits.memory_mb"),
    ("[parts]\na = 1\n[limits]\ncall_timeout = 0\n", "limits.call_timeout"),
    ("[parts]\na = 1\n[tolerance]\nrtol = -1e-6\n", "tolerance.rtol"),
    ("[parts]\na = 1\n[assignment]\nnotebook = 3\n", "assignment.notebook"),
    ('[parts]\na = 1\n[assignment]\nreference = ""\n', "assignment.reference"),
    ('[parts]\na = 1\n[execution]\nskip_cells = "plot"\n', "execution.skip_cells"),
    ("[parts]\na = 1\n[execution]\nskip_cells = [1]\n", "execution.skip_cells"),
    ('parts = "a"\n', "parts"),
    ("limits = 3\n[parts]\na = 1\n", "limits"),
    ('[parts]\na = 1\n[service]\ncounts = "highest"\n', "service.counts"),
    ("[parts]\na = 1\n[service]\ncounts = 1\n", "service.counts"),
    ("[parts]\na = 1\n[service]\nCHOICES = 1\n", "service.CHOICES"),
], ids=lambda v: v if isinstance(v, str) and "\n" not in v else None)
def test_wrong_types_name_the_key(tmp_path, text, key):
    assert config_error(tmp_path, text).key == key


FUNCTIONS = '[parts]\na = 1\n[functions]\ngraded = ["sigmoid", "sigmoid_prime"]\n'


def test_declared_uses_are_read_and_default_to_none(tmp_path):
    write_toml(tmp_path, FUNCTIONS + 'uses = { sigmoid_prime = ["sigmoid"] }\n')
    assert load_assignment("toy", tmp_path).uses == {"sigmoid_prime": ("sigmoid",)}
    write_toml(tmp_path, FUNCTIONS)
    assert load_assignment("toy", tmp_path).uses is None  # read from the reference when the suite is loaded


@pytest.mark.parametrize("uses, key, problem", [
    ('uses = { sigmoid_prime = ["sigmoid", "np"] }', "functions.uses.sigmoid_prime", "'np' is not a graded function"),
    ('uses = { slope = ["sigmoid"] }', "functions.uses.slope", "'slope' is not a graded function"),
    ('uses = { sigmoid_prime = "sigmoid" }', "functions.uses.sigmoid_prime", "must be a list of strings"),
    ('uses = ["sigmoid"]', "functions.uses", "must be a table"),
])
def test_declared_uses_name_graded_functions_only(tmp_path, uses, key, problem):
    error = config_error(tmp_path, FUNCTIONS + uses + "\n")
    assert error.key == key and problem in error.problem


def test_invalid_toml(tmp_path):
    error = config_error(tmp_path, "[parts\nsquare = 1\n")
    assert error.key == "toml" and "not valid TOML" in error.problem


def test_unknown_assignment_lists_the_known_ones(tmp_path):
    write_toml(tmp_path, TOML, name="toy")
    write_toml(tmp_path, TOML, name="other")
    with pytest.raises(UsageError) as caught:
        load_assignment("toys", tmp_path)
    message = str(caught.value)
    assert "unknown assignment 'toys'" in message and "known: other, toy" in message
    assert caught.value.exit_code == ExitCode.USAGE
    assert list_assignments(tmp_path) == ["other", "toy"]


def test_unknown_assignment_in_an_empty_course(tmp_path):
    (tmp_path / "assignments").mkdir()
    with pytest.raises(UsageError, match=r"known: none"):
        load_assignment("toy", tmp_path)


def test_the_course_root_is_found_from_a_subfolder(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    course = make_course(tmp_path)
    assert find_course_root(course.suite_dir) == tmp_path.resolve()
    monkeypatch.chdir(course.master.parent)
    assert load_assignment("toy").root == tmp_path.resolve()


def test_no_course_found(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    with pytest.raises(UsageError, match="--course"):
        find_course_root(tmp_path)


def test_the_environment_names_the_course_when_no_flag_does(tmp_path, monkeypatch):
    make_course(tmp_path / "one")
    make_course(tmp_path / "two")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOGRADER_COURSE", str(tmp_path / "one"))
    assert find_course_root() == (tmp_path / "one").resolve()
    assert find_course_root(tmp_path / "two") == (tmp_path / "two").resolve()  # --course beats the environment


@pytest.mark.parametrize("name", ["../toy", "/etc", "toy/../toy", ".toy", "a" * 300])
def test_an_assignment_name_is_one_plain_folder_name(tmp_path, name):
    write_toml(tmp_path, TOML, name="toy")
    with pytest.raises(UsageError, match="is not an assignment name"):
        load_assignment(name, tmp_path)


def test_an_assignment_folder_that_leads_out_of_the_course_is_refused(tmp_path):
    outside = write_toml(tmp_path / "elsewhere", TOML, name="toy").parent
    (tmp_path / "course" / "assignments").mkdir(parents=True)
    (tmp_path / "course" / "assignments" / "toy").symlink_to(outside)
    with pytest.raises(UsageError, match=r"assignments/toy leads out of the course's assignments/ folder"):
        load_assignment("toy", tmp_path / "course")


@pytest.mark.parametrize("change", [("", "[tolerance]\nrtol = nan\n", "tolerance.rtol"),
                                    ("square = 3", "square = nan", "parts.square"),
                                    ("timeout = 20", "timeout = inf", "limits.timeout"),
                                    ("", "[suite]\nepochs = nan\n", "suite.epochs"),
                                    ("", "[suite]\nrates = [0.1, -inf]\n", "suite.rates[1]"),
                                    ("", "[suite.training]\nlearnrate = inf\n", "suite.training.learnrate")])
def test_a_command_refuses_a_course_with_nan_before_grading_anything(tmp_path, capsys, change):
    from autograder.cli import main

    old, new, key = change
    course = make_course(tmp_path, toml=TOML.replace(old, new) if old else TOML + new)
    assert main(["--course", str(course.root), "validate", "toy"]) == ExitCode.CONFIG
    assert f"assignment.toml: [{key}]" in capsys.readouterr().err


def test_the_score_that_counts_is_the_latest_unless_best_is_asked_for(tmp_path):
    write_toml(tmp_path, '[parts]\na = 1\n[assignment]\nnotebook = "toy.ipynb"\n')
    assert load_assignment("toy", tmp_path).service.counts == "latest"
    write_toml(tmp_path, '[parts]\na = 1\n[assignment]\nnotebook = "toy.ipynb"\n[service]\ncounts = "best"\n')
    assert load_assignment("toy", tmp_path).service.counts == "best"
    error = config_error(tmp_path, '[parts]\na = 1\n[service]\ncounts = "highest"\n')
    assert "must be one of 'latest', 'best'" in str(error)
