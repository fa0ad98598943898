"""The course's late-submission plugin is checked before any score is stored: a wrong one is the course's
configuration to fix, said at once, never a gradebook failure after the scores were committed."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins import BasePlugin, LateSubmissionPlugin
from traitlets.config import Config

from autograder.course.generate import alembic_on_path
from autograder.errors import ConfigError, ExitCode
from autograder.outputs.late_policy import check_late_plugin

from toybatch import set_grade_cell_points
from toycourse import make_course

RIGHT = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
KEY = "[AssignLatePenalties.plugin_class]"


class HalfOff(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return score / 2


class NoPenaltyMethod(BasePlugin):
    pass


class TwoArguments(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score):
        return 0


class FailsToStart(LateSubmissionPlugin):
    def __init__(self, **kwargs):
        raise RuntimeError("the extensions table is missing")


def config_with(plugin) -> Config:
    config = Config()
    if plugin is not None:
        config.AssignLatePenalties.plugin_class = plugin
    return config


@pytest.mark.parametrize("plugin", [None, HalfOff, f"{LateSubmissionPlugin.__module__}.LateSubmissionPlugin"])
def test_nbgraders_own_plugin_and_a_course_plugin_pass(plugin, tmp_path):
    check_late_plugin(config_with(plugin), tmp_path / "nbgrader_config.py")


@pytest.mark.parametrize("plugin, cause", [
    ("course_policies.PointPerHour", "'course_policies.PointPerHour' could not be imported"),
    (dict, "TraitError"),
    (NoPenaltyMethod, "NoPenaltyMethod has no late_submission_penalty method"),
    (TwoArguments, "TypeError: too many positional arguments"),
    (FailsToStart, "RuntimeError: the extensions table is missing"),
])
def test_a_plugin_nbgrader_cannot_use_is_a_config_error_naming_file_and_key(plugin, cause, tmp_path):
    with pytest.raises(ConfigError) as caught:
        check_late_plugin(config_with(plugin), tmp_path / "nbgrader_config.py")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'nbgrader_config.py'}: {KEY} nbgrader cannot use this late-submission "
                              "plugin (")
    assert cause in message and " at 0x" not in message
    assert message.endswith("returns the penalty, or remove the setting. Nothing was stored")


def test_a_wrong_plugin_stops_grading_before_any_score_is_stored(tmp_path):
    course = make_course(tmp_path)
    set_grade_cell_points(course, 3)  # nbgrader's max = ours
    (course.root / "nbgrader_config.py").write_text('c = get_config()  # noqa: F821\n'
                                                    'c.AssignLatePenalties.plugin_class = "policies.OnePointLate"\n')
    folder = course.root / "submitted" / "alice" / "toy"
    course.released_with("toy", RIGHT, folder)
    (folder / "timestamp.txt").write_text("2026-03-01 13:30:00.000000 UTC")  # late
    url = f"sqlite:///{course.root / 'gradebook.db'}"
    with alembic_on_path(), Gradebook(url) as gb:  # as `nbgrader db assignment add toy --duedate=...`
        gb.update_or_create_assignment("toy", duedate=datetime.datetime(2026, 3, 1, 12, 0))
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    done = subprocess.run([str(Path(sys.executable).parent / "autograder"), "grade", "toy", "submitted", "--gradebook",
                           "--json", "results.json"], cwd=course.root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == ExitCode.CONFIG, done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {course.root / 'nbgrader_config.py'}: {KEY} nbgrader "
                                                     "cannot use this late-submission plugin (")
    assert "'policies.OnePointLate' could not be imported" in errors[0]
    with Gradebook(url) as gb:
        assert gb.assignment_submissions("toy") == []
    assert not (course.root / "results.json").exists()
