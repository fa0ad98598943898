"""The course's nbgrader_config.py, as nbgrader's converter reads it: a broken one is the course's to fix, said in one
line naming the file and its line, by every command that reads it (the release and the gradebook's verbs alike).
(The release itself is tested in verbs/test_release.py, the gradebook's record in outputs/test_gradebook.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course.generate import nbgrader_config
from autograder.errors import ConfigError, ExitCode

from toybatch import set_grade_cell_points
from toycourse import make_course

BROKEN = {
    "a syntax error": ('c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = ("course101"\n',
                       "line 2: SyntaxError: '(' was never closed"),
    "an exception": ('c = get_config()  # noqa: F821\nimport course_settings\n',
                     "line 2: ModuleNotFoundError: No module named 'course_settings'"),
    "an exit": ("import sys\nsys.exit('no config here')\n", "line 2: SystemExit: no config here"),
}
ADVICE = ("fix nbgrader_config.py in the course folder (nbgrader runs the same file: `nbgrader db assignment list` "
          "shows the same error)")


@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_nbgrader_config_is_a_config_error_naming_its_line(tmp_path, broken):
    text, problem = BROKEN[broken]
    (tmp_path / "nbgrader_config.py").write_text(text)
    with pytest.raises(ConfigError) as caught:
        nbgrader_config(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'nbgrader_config.py'}: {problem}; {ADVICE}"


def test_a_working_nbgrader_config_is_read_with_the_course_root(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "c1"\n')
    config = nbgrader_config(tmp_path)
    assert (config.CourseDirectory.course_id, config.CourseDirectory.root) == ("c1", str(tmp_path))


@pytest.mark.parametrize("command", [["release", "toy"], ["grade", "toy", "submissions", "--gradebook"]])
def test_the_commands_that_read_it_say_so_in_one_line(tmp_path, command):
    course = make_course(tmp_path)
    set_grade_cell_points(course, 3)  # the gradebook's grade cell holds the part's points
    course.released_with("ada", "def square(x):\n    return x * x")
    (course.root / "nbgrader_config.py").write_text(BROKEN["an exception"][0])
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    done = subprocess.run([sys.executable, "-m", "autograder", *command], cwd=course.root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == ExitCode.CONFIG, done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("warning: ")]
    assert errors == [f"error: {Path(course.root) / 'nbgrader_config.py'}: {BROKEN['an exception'][1]}; {ADVICE}"]
