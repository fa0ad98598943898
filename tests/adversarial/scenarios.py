"""Hostile and broken submissions of the toy course, one per threat in docs/SECURITY.md.

Each scenario is the released toy notebook with the `square` answer replaced and extra cells
appended. Cells that observe the sandbox end with `raise RuntimeError("REPORT {json}")`, so what
they saw reaches the test through the grader's own cell-error report.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from autograder.running import protocol
from autograder.results import SubmissionResult
from autograder.running.launch import package_dir

MARKER = "adversarial-marker-7f3c"  # in the argv of every process a submission starts

GOOD_SQUARE = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
GOOD_CUBE = "def cube(x):\n    return np.asarray(x, dtype=float) ** 3"
ZERO_SQUARE = "def square(x):\n    return np.zeros_like(np.asarray(x, dtype=float))"

CUBE_REFERENCE = '''

def cube(x):
    return np.asarray(x, dtype=float) ** 3
'''

CUBE_SUITE = '''\
import numpy as np


def test_cube(student, reference, check):
    """cube of an array"""
    x = np.array([1.0, -2.0, 0.5])
    check.close(student.cube(x), reference.cube(x), "cube([1, -2, 0.5])")
'''

TOML = """\
[assignment]
notebook = "toy.ipynb"
reference = "toy"

[parts]
square = 3
cube = 2

[limits]
timeout = 20
cell_timeout = 2
call_timeout = 2
memory_mb = 256
max_processes = 32
scratch_mb = 32
scratch_files = 2000
"""


def report(body: str) -> str:
    """A cell that runs `body` (which fills the dict `seen`) and reports it as a cell error."""
    return "import json, os\nseen = {}\n" + textwrap.dedent(body) + \
        "\nraise RuntimeError('REPORT ' + json.dumps(seen, default=str))"


def reported(result: SubmissionResult) -> dict:
    """What a REPORT cell saw (see scenarios.report)."""
    for error in result.cell_errors:
        if error.get("message", "").startswith("REPORT "):
            return json.loads(error["message"][len("REPORT "):])
    raise AssertionError(f"no REPORT cell error in {result.cell_errors} ({result.status}: {result.message})")


def graded_fully(result: SubmissionResult) -> None:
    assert (result.status, result.score) == ("graded", 5.0), (result.status, result.message, result.parts)


def _secrets_cell(paths: list[str]) -> str:
    return report(f"""
        seen["uid"] = os.getuid()
        seen["read"] = []
        for path in {paths!r}:
            try:
                if os.path.isdir(path):
                    os.listdir(path)
                else:
                    open(path, "rb").read(1)
                seen["read"].append(path)
            except OSError:
                pass
    """)


def _writes_cell(paths: list[str], removable: list[str]) -> str:
    """Open for appending (changes no content even if it worked); remove only throwaway files."""
    return report(f"""
        seen["written"] = []
        for path in {paths + removable!r}:
            for attempt in ("append", "remove") if path in {removable!r} else ("append",):
                try:
                    if attempt == "append":
                        open(path, "a").close()
                    else:
                        os.remove(path)
                    seen["written"].append(attempt + " " + path)
                except OSError:
                    pass
    """)


def _network_cell(port: int) -> str:
    return report(f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
            seen["connected"] = True
        except OSError as error:
            seen["connected"] = False
            seen["error"] = type(error).__name__
    """)


ZYGOTE_CELL = report("""
    seen["opened"] = []
    for what in ("mem", "environ", "maps"):
        try:
            with open(f"/proc/{os.getppid()}/{what}", "rb") as handle:
                handle.read(1)
            seen["opened"].append(what)
        except OSError:
            pass
""")

def _environment_cell(secrets: list[str]) -> str:
    """Reports the environment's names, and which of `secrets` its values or the command line hold
    (judged in the cell: a report is one cell error, capped at 500 characters)."""
    return report(f"""
        everything = json.dumps(dict(os.environ)) + open("/proc/self/cmdline", "rb").read().decode(errors="replace")
        seen["environ"] = sorted(os.environ)
        seen["named"] = [secret for secret in {secrets!r} if secret in everything]
    """)

PROCESS_BOMB = f"""
import os, subprocess, time
started, refused = [], None
if os.fork() == 0:  # a daemon: new session, double fork, parent gone
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["{MARKER}", "60"])
    os._exit(0)
try:
    for _ in range(500):
        started.append(subprocess.Popen(["{MARKER}", "60"], executable="/bin/sleep"))
except OSError as error:
    refused = error
for _ in range(200):
    try:
        if os.fork() == 0:
            os.execv("/bin/sleep", ["{MARKER}", "60"])
    except OSError:
        break
"""
PROCESS_BOMB = report(PROCESS_BOMB + """
seen["started"] = len(started)
seen["refused"] = repr(refused)
""")

TAMPER_CELLS = [
    "import builtins, numpy\n"
    "numpy.allclose = lambda *a, **k: True\nnumpy.isclose = lambda *a, **k: True\n"
    "numpy.testing.assert_allclose = lambda *a, **k: None\nbuiltins.abs = lambda x: 0\n"
    "builtins.all = lambda x: True\nbuiltins.round = lambda *a: 0",
    "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: float",
    f"import {protocol.__name__} as protocol\n"
    "protocol.encode = lambda value, _depth=0: {'__pickle__': 'gASVCAAAAAAAAACMBG5vcGWULg=='}",
]

# Left behind for the next submission: modules that patch numpy when imported, on every path a later
# notebook could import from, and files it could read.
PLANT = report("""
    import sys, tempfile
    patch = "import numpy\\nnumpy.asarray = lambda *a, **k: numpy.zeros(3)\\n"
    places = {"/tmp", os.getcwd(), os.path.expanduser("~"), tempfile.gettempdir(), "/tmp/work", *sys.path}
    seen["planted"] = []
    for place in sorted(p for p in places if p):
        for name, text in (("statistics.py", patch), ("colorsys.py", patch), ("leftover.txt", "secret")):
            try:
                with open(os.path.join(place, name), "w") as handle:
                    handle.write(text)
                seen["planted"].append(os.path.join(place, name))
            except OSError:
                pass
""")

# The next submission: imports the planted names, and says what it can see.
LOOK_AROUND = report("""
    import sys, statistics, colorsys
    seen["cwd"] = os.getcwd()
    seen["tmp"] = sorted(os.listdir("/tmp"))
    seen["here"] = sorted(os.listdir("."))
    seen["writable_on_path"] = [p for p in sys.path if p and os.access(p, os.W_OK)]
    seen["leftovers"] = [os.path.join(p, "leftover.txt") for p in {"/tmp", ".", *sys.path}
                         if p and os.path.exists(os.path.join(p, "leftover.txt"))]
""")

FILL_BYTES = report("""
    seen["written"] = 0
    try:
        with open("/tmp/fill", "wb") as handle:
            while True:
                handle.write(b"x" * (1 << 20))
                handle.flush()
                seen["written"] += 1 << 20
    except OSError as error:
        seen["error"] = error.strerror
""")

FILL_FILES = report("""
    seen["made"] = 0
    try:
        for number in range(200_000):
            open(f"/tmp/f{number}", "w").close()
            seen["made"] += 1
    except OSError as error:
        seen["error"] = error.strerror
""")

# The worker's own parent is stopped (SIGSTOP, same user) while it relays a large answer.
STOP_WORKER = '''
import os, signal, time
def square(x):
    zygote = os.getppid()
    if os.fork() == 0:
        time.sleep(0.3)
        os.kill(zygote, signal.SIGSTOP)
        os._exit(0)
    return np.zeros(1_000_000)
'''
LIARS = """
class Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = float.__hash__
    def __float__(self): return 9.0
    def __array__(self, *a, **k): return np.array(9.0)
    def __len__(self): return 3
    def __reduce__(self): return (os.system, ("touch /tmp/pwned",))

class LiarArray(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)

class Anything:
    def __eq__(self, other): return True
    def __array__(self, *a, **k): return np.array([1.0, 4.0, 0.25])
    def __float__(self): return 9.0

import os

def square(x):
    x = np.asarray(x, dtype=float)
    return Liar(0.0) if x.ndim == 0 else np.zeros_like(x).view(LiarArray)

def cube(x):
    return Anything()
"""


# Every process it can find (its worker among them, same user): lower their limits, priority and CPUs,
# which the worker's later children would inherit.
RENICE = report("""
    import resource
    seen["changed"] = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        pid = int(entry)
        if pid in (0, os.getpid()):
            continue
        for what, change in (("fsize", lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, 0))),
                             ("nice", lambda: os.setpriority(os.PRIO_PROCESS, pid, 19)),
                             ("cpus", lambda: os.sched_setaffinity(pid, {0}))):
            try:
                change()
                seen["changed"].append(f"{what} {pid}")
            except OSError:
                pass
""")

LOOK_AT_SELF = report("""
    import resource
    seen["fsize"] = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    seen["nice"] = os.getpriority(os.PRIO_PROCESS, 0)
    seen["cpus"] = len(os.sched_getaffinity(0))
""")

# In this order on one worker: each attack, then a submission that looks at what it left.
LEFT_BEHIND = {
    "plant-modules": (GOOD_SQUARE, [GOOD_CUBE, PLANT]),
    "after-plant": (GOOD_SQUARE, [GOOD_CUBE, LOOK_AROUND]),
    "fill-tmp-bytes": (GOOD_SQUARE, [GOOD_CUBE, FILL_BYTES]),
    "after-fill-bytes": (GOOD_SQUARE, [GOOD_CUBE, LOOK_AROUND]),
    "fill-tmp-files": (GOOD_SQUARE, [GOOD_CUBE, FILL_FILES]),
    "after-fill-files": (GOOD_SQUARE, [GOOD_CUBE, LOOK_AROUND]),
    "renice-worker": (GOOD_SQUARE, [GOOD_CUBE, RENICE]),
    "after-renice": (GOOD_SQUARE, [GOOD_CUBE, LOOK_AT_SELF]),
}


def scenarios(repo: str, course: str, port: int, sandboxed: bool) -> dict[str, tuple[str, list[str]]]:
    """name -> (square answer, extra cells). `repo`/`course` are absolute paths to protect."""
    home = os.path.expanduser("~")
    secrets = [f"{repo}/solutions", f"{repo}/solutions/student_admissions.py", f"{repo}/assignments",
               f"{repo}/source", f"{repo}/gradebook.db", f"{repo}/README.md", f"{repo}/.git/config",
               f"{course}/solutions/toy.py", f"{course}/assignments/toy/test_square.py",
               f"{course}/source/toy/toy.ipynb", f"{course}/submissions/correct-1.ipynb", f"{home}/.bashrc",
               f"{home}/.gitconfig", "/etc/shadow", "/etc/hostname", "/work", "/home"]
    found = {
        "correct-1": (GOOD_SQUARE, [GOOD_CUBE]),
        "infinite-loop-top": (GOOD_SQUARE, [GOOD_CUBE, "while True:\n    pass"]),
        "infinite-loop-in-function": ("def square(x):\n    while True:\n        pass", [GOOD_CUBE]),
        "catch-timeout": (GOOD_SQUARE, [GOOD_CUBE, "while True:\n    try:\n        while True:\n"
                                                   "            pass\n    except BaseException:\n        pass"]),
        "memory-bomb": (GOOD_SQUARE, [GOOD_CUBE, "big = np.ones(10**10)",
                                      "grow = []\nwhile True:\n    grow.append(' ' * 10**7)"]),
        "memory-bomb-in-function": ("def square(x):\n    return np.ones(10**10)", [GOOD_CUBE]),
        "process-bomb": (GOOD_SQUARE, [GOOD_CUBE, PROCESS_BOMB]),
        "sys-exit": (GOOD_SQUARE, [GOOD_CUBE, "import sys\nsys.exit()", "raise SystemExit(3)",
                                   "raise KeyboardInterrupt"]),
        "exit-in-function": ("def square(x):\n    import sys\n    sys.exit(1)", [GOOD_CUBE]),
        "os-exit": (GOOD_SQUARE, [GOOD_CUBE, "import os\nos._exit(0)"]),
        "kill-worker": (GOOD_SQUARE, [GOOD_CUBE, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"]),
        "after-kill": (GOOD_SQUARE, [GOOD_CUBE]),
        "inspect-worker": (GOOD_SQUARE, [GOOD_CUBE, ZYGOTE_CELL]),
        "tamper-numpy-builtins": (ZERO_SQUARE, [GOOD_CUBE, TAMPER_CELLS[0]]),
        "tamper-isinstance": (ZERO_SQUARE, [GOOD_CUBE, TAMPER_CELLS[1]]),
        "tamper-protocol": (GOOD_SQUARE, [GOOD_CUBE, TAMPER_CELLS[2]]),
        "lying-objects": (LIARS, []),
        "read-secrets": (GOOD_SQUARE, [GOOD_CUBE, _secrets_cell(secrets)]),
        "network": (GOOD_SQUARE, [GOOD_CUBE, _network_cell(port)]),
        "output-flood": (GOOD_SQUARE, [GOOD_CUBE,
                                       "for _ in range(3000):\n    print('x' * 100_000)",
                                       "import matplotlib.pyplot as plt\nplt.imshow(np.random.rand(3000, 3000))\n"
                                       "plt.show()\nfrom IPython.display import display\ndisplay(np.ones((2000, 2000)))"]),
        "fake-results": (ZERO_SQUARE, [GOOD_CUBE,
                                       "import json\nprint(json.dumps({'ok': True, 'value': 9.0}))\n"
                                       "print(json.dumps({'score': 5, 'status': 'graded'}))\n"
                                       "open('results.json', 'w').write(json.dumps({'correct-1': 0, 'score': 5}))\n"
                                       "import os\nos.write(1, b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x0b{\"ok\":true}')"]),
        "environment": (GOOD_SQUARE, [GOOD_CUBE, _environment_cell([repo, course])]),
        "correct-2": (GOOD_SQUARE, [GOOD_CUBE]),
    }
    if sandboxed:  # in a plain process these would really change files: only run them sandboxed
        targets = [f"{repo}/README.md", f"{repo}/.gitignore", f"{repo}/nbgrader_config.py",
                   f"{repo}/solutions/student_admissions_data.py", f"{repo}/.git/HEAD",
                   f"/opt/autograder/autograder/{Path(protocol.__file__).resolve().relative_to(package_dir()).as_posix()}", "/assignment/toy.ipynb", "/usr/bin/sleep"]
        removable = [f"{course}/solutions/toy.py", f"{course}/assignments/toy/test_square.py"]
        found["write-repo"] = (GOOD_SQUARE, [GOOD_CUBE, _writes_cell(targets, removable)])
    return found


BROKEN_FILES = {
    "not-json": b"this is not a notebook\n",
    "truncated-json": b'{"cells": [{"cell_type": "code", "source": "def square(x',
    "nbformat-3": b'{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}], "cells": []}',
    "missing-cells": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
    "not-utf8": b'{"cells": [], "nbformat": 4, "metadata": {"x": "\xff\xfe"}}',
    "r-kernel": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "ir", '
                b'"language": "R", "display_name": "R"}}, "cells": [{"cell_type": "code", "id": "a1", "metadata": {}, '
                b'"source": "square <- function(x) x^2", "outputs": [], "execution_count": null}]}',
}
