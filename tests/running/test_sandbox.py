"""How the worker is launched: modes, the fallback and its warning, what the sandbox binds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.running import sandbox
from autograder.running import bwrap
from autograder.running import launch as launches
from autograder.errors import UsageError
from autograder.running.pythonview import INSIDE_VENV

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_probe():
    sandbox.probe.cache_clear()
    yield
    sandbox.probe.cache_clear()


def test_off_is_a_plain_process_that_says_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "off")
    launch = sandbox.build_launch(tmp_path)
    assert launch.argv[0] == sys.executable
    assert "turned off by AUTOGRADER_SANDBOX=off" in launch.missing[0]


def test_unknown_mode_is_a_usage_error(monkeypatch, tmp_path):
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "maybe")
    with pytest.raises(UsageError, match="off, bwrap, auto"):
        sandbox.build_launch(tmp_path)


def test_without_bwrap_auto_falls_back_and_bwrap_mode_refuses(monkeypatch, tmp_path, fresh_probe):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "auto")
    assert "bubblewrap is not installed" in sandbox.build_launch(tmp_path).missing[0]
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "bwrap")
    with pytest.raises(UsageError, match="autograder doctor"):
        sandbox.build_launch(tmp_path)


def test_doctor_reports_and_exits_0(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "bubblewrap usable" in out and "worker: " in out


def test_doctor_says_what_grading_gets_with_the_sandbox_turned_off(monkeypatch, capsys):
    """Turned off, the worker runs as this user with no process limit of its own: doctor must not
    report the sandbox's protections as on because bubblewrap itself would work."""
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "off")
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "NO  unprivileged worker user: worker runs as this user" in out
    assert "worker: plain process" in out


def test_grade_warns_when_not_sandboxed(monkeypatch, tmp_path, capsys):
    from toycourse import make_course

    course = make_course(tmp_path)
    notebook = course.released_with("student", "def square(x):\n    return x * x")
    monkeypatch.setenv(sandbox.MODE_VARIABLE, "off")
    assert cli.main(["--course", str(course.root), "grade", "toy", str(notebook)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "NOT sandboxed" in line]
    assert len(warnings) == 1 and "autograder doctor" in warnings[0]


# Run inside the sandbox: what the worker can read of its Python, as JSON.
WHAT_PYTHON_SHOWS = r'''
import glob, json, os, sys
import numpy, pandas, matplotlib
cfg = "/opt/python/pyvenv.cfg"
shown = {"pyvenv.cfg": open(cfg).read() if os.path.exists(cfg) else None, "sys.path": sys.path,
         "sys.prefix": sys.prefix, "sys.executable": sys.executable, "sys.argv": sys.argv,
         "os.environ": dict(os.environ), "cmdline": open("/proc/self/cmdline").read()}
for entry in os.scandir("/opt/python/bin") if os.path.isdir("/opt/python/bin") else ():
    if not entry.is_symlink():  # scripts (their #! line); the interpreter links to the base one
        shown[entry.path] = open(entry.path, "rb").read().decode("latin-1")
for site in glob.glob("/opt/python/lib/python3*/site-packages"):
    for folder, _, names in os.walk(site):
        for name in names:
            if name.endswith(".pth") or name == "direct_url.json" or name.startswith("__editable__"):
                with open(os.path.join(folder, name), "rb") as file:
                    shown[os.path.join(folder, name)] = file.read().decode("latin-1")
print(json.dumps(shown))
'''


def test_python_in_the_sandbox_names_neither_the_repository_nor_the_venv(tmp_path):
    launch = sandbox.build_launch(tmp_path)
    if launch.missing:
        pytest.skip(f"needs the bubblewrap sandbox ({'; '.join(launch.missing)})")
    python = launch.argv[:launch.argv.index("-m")]
    with launches.with_files([*python, "-c", WHAT_PYTHON_SHOWS], launch.files) as (argv, fds):
        done = subprocess.run(argv, env=launch.env, pass_fds=fds, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]  # numpy, pandas and matplotlib import
    shown = json.loads(done.stdout)
    secrets = [str(REPO)]
    if sys.prefix != sys.base_prefix:  # a venv: it is seen only as /opt/python, with a pyvenv.cfg of its own
        assert "home = " in shown["pyvenv.cfg"] and shown["sys.prefix"] == INSIDE_VENV
        secrets.append(str(Path(sys.prefix).resolve()))
    leaks = {(key, secret) for key, value in shown.items() for secret in secrets if secret in json.dumps(value)}
    assert not leaks
    worker_argv = launch.argv[launch.argv.index(launches.WORKER_ARGS[0]) - 1:]  # the interpreter onwards
    assert not [arg for arg in worker_argv if any(secret in arg for secret in secrets)]


def test_a_worker_starts_from_a_font_list_made_in_a_sandbox_that_names_no_host_folder(tmp_path, fresh_probe):
    sandbox.forget_probe()  # the next probe runs a sandboxed Python again, and keeps what it found
    launch = sandbox.build_launch(tmp_path)
    if launch.missing:
        pytest.skip(f"needs the bubblewrap sandbox ({'; '.join(launch.missing)})")
    fonts = {path: content.decode() for path, content in launch.files.items() if path.startswith(bwrap.INSIDE_FONTS)}
    assert fonts and all(json.loads(text)["ttflist"] for text in fonts.values())  # Matplotlib's own format
    assert not [path for path in fonts.values() if str(REPO) in path or str(Path(sys.prefix).resolve()) in path]
    code = (f"from {launches.WORKER_MODULE}.preload import preload; import time; started = time.perf_counter(); preload()\n"
            "import matplotlib; print(matplotlib.get_cachedir())")
    python = launch.argv[:launch.argv.index("-m")]
    with launches.with_files([*python, "-c", code], launch.files) as (argv, fds):
        done = subprocess.run(argv, env=launch.env, pass_fds=fds, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "/tmp/matplotlib"  # the worker's own cache folder, started from the list
    sandbox.probe.cache_clear()
    assert sandbox.probe() is None  # the verdict kept: no sandboxed Python is started to see again
