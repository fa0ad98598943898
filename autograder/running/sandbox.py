"""Which launch the worker gets here: the sandbox when bubblewrap works (`probe`), else
a plain process.

`AUTOGRADER_SANDBOX=off|bwrap|auto` picks the mode (default auto). The probe's success
is remembered per bubblewrap, Python, package, kernel and user, with Matplotlib's font
list as made in a sandbox (`font_list`). The command lines themselves are `launch.py`'s.
See `docs/SECURITY.md`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .. import settings
from ..errors import UsageError
from .bwrap import INSIDE_FONTS, WORKER_GID, bwrap_help, bwrap_launch, worker_uid
from .launch import (
    FRESH_TMP_VARIABLE,
    WORKER_MODULE,
    Launch,
    package_dir,
    plain_launch,
    with_files,
)

MODE_VARIABLE = settings.SANDBOX


def build_launch(release_dir: Path, mode: str | None = None) -> Launch:
    """The strongest launch that works here; `missing` says what is off and why. `mode`:
    off, bwrap or auto (default: AUTOGRADER_SANDBOX's, else auto)."""
    mode = settings.sandbox_mode(mode)
    if mode == "off":
        return plain_launch(release_dir, f"turned off by {MODE_VARIABLE}=off")
    problem = probe()
    bwrap = shutil.which("bwrap") if problem is None else None
    if bwrap is not None:
        return bwrap_launch(release_dir, bwrap, font_list(bwrap))
    problem = problem or "bwrap is no longer installed"
    if mode == "bwrap":
        raise UsageError(
            f"{MODE_VARIABLE}=bwrap but the sandbox does not work: {problem}; "
            "run `autograder doctor`"
        )
    return plain_launch(release_dir, problem)


@functools.cache
def probe() -> str | None:
    """None when bubblewrap can start Python as the worker user with every protection;
    else why not. Starting a sandboxed Python to see takes a fifth of a second, on the
    way of every command that grades: a success is remembered for this bubblewrap,
    Python, package, kernel and user (`_verdict`), and forgotten when a worker then
    fails to start (`forget_probe`)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    if "--perms" not in bwrap_help(bwrap):
        return "bubblewrap 0.5 or newer is needed (--perms)"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is needed to drop root inside the sandbox"
    verdict = _verdict(bwrap)
    if verdict is not None and verdict.is_file():
        return None
    launch = bwrap_launch(package_dir(), bwrap)
    try:
        fonts = _run_python(
            _python_command(launch),
            launch.env,
            FONT_LIST_CODE % (worker_uid(), WORKER_GID),
            launch.files,
        )
    except RuntimeError as error:
        return f"bubblewrap does not work here ({error})"
    if verdict is not None:
        with contextlib.suppress(OSError, ValueError):
            verdict.parent.mkdir(parents=True, exist_ok=True)
            verdict.write_text(json.dumps(json.loads(fonts) if fonts else {}))
    return None


# The probe's code: Python, NumPy and the worker user work; Matplotlib's font list, as
# it is in the sandbox.
FONT_LIST_CODE = """import numpy, json, glob
assert os.getuid() == %d and os.getgid() == %d
import matplotlib
matplotlib.use("Agg")
import matplotlib.font_manager
found = sorted(glob.glob(os.path.join(matplotlib.get_cachedir(), "fontlist-v*.json")))
fonts = {os.path.basename(found[-1]): open(found[-1]).read()} if found else {}
print(json.dumps(fonts))"""


def font_list(bwrap: str) -> dict[str, bytes]:
    """Matplotlib's font list as the probe made it in a sandbox, as `Launch.files`:
    without it each worker spends a third of a second looking at every font of the
    system before it is ready."""
    verdict = _verdict(bwrap)
    try:
        made = json.loads(verdict.read_text()) if verdict is not None else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(made, dict):
        return {}
    return {
        f"{INSIDE_FONTS}/{name}": text.encode()
        for name, text in made.items()
        if isinstance(name, str)
        and isinstance(text, str)
        and re.fullmatch(r"fontlist-v[\w.]+\.json", name)
    }


# build_launch asks twice (probe, font_list): the same files, the same answer
@functools.cache
def _verdict(bwrap: str) -> Path | None:
    """The file that says the probe succeeded with these very programs, kernel and
    user."""
    parts = [
        os.uname().release,
        str(os.geteuid() == 0),
        sys.version,
        str(package_dir()),
    ]
    # found, not imported: its files' state is the key
    matplotlib = importlib.util.find_spec("matplotlib")
    optional = [matplotlib.origin] if matplotlib and matplotlib.origin else []
    for program in (
        bwrap,
        shutil.which("setpriv") or "",
        sys.executable,
        str(package_dir() / "__init__.py"),
        *optional,
        "/usr/share/fonts",
        "/etc/fonts",
    ):
        try:
            stat = os.stat(program)
            parts += [
                os.path.realpath(program),
                str(stat.st_mtime_ns),
                str(stat.st_size),
            ]
        except OSError:
            # a system without fonts
            if program.startswith(("/usr/share/fonts", "/etc/fonts")):
                continue
            return None
    digest = hashlib.sha256(
        "\0".join(parts).encode("utf-8", "surrogateescape")
    ).hexdigest()[:24]
    return settings.cache_folder() / f"sandbox-works-{digest}"


def forget_probe() -> None:
    """A worker did not start: the next command probes again (and falls back if the
    sandbox broke)."""
    probe.cache_clear()
    bwrap = shutil.which("bwrap")
    verdict = _verdict(bwrap) if bwrap else None
    if verdict is not None:
        with contextlib.suppress(OSError):
            verdict.unlink()


def fresh_tmp(launch: Launch) -> str | None:
    """None when each submission on this launch gets a /tmp of its own (a new tmpfs in
    namespaces of its own, see worker/scratch.py); else why not (each then works in a
    folder of the shared /tmp)."""
    if "--shared-tmp" in launch.argv:
        return f"turned off by {FRESH_TMP_VARIABLE}=off"
    return _fresh_tmp(
        tuple(_python_command(launch)),
        tuple(sorted(launch.env.items())),
        tuple(sorted(launch.files.items())),
    )


@functools.cache
def _fresh_tmp(
    command: tuple[str, ...],
    env: tuple[tuple[str, str], ...],
    files: tuple[tuple[str, bytes], ...],
) -> str | None:
    code = (
        f"from {WORKER_MODULE} import scratch\n"
        "assert not scratch._python_in_tmp(), 'python'\npid = os.fork()\nif pid == 0:\n"
        "    os._exit(0 if scratch._private_tmp(1 << 20, 100) else 3)\n"
        "assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, 'refused'"
    )
    try:
        _run_python(list(command), dict(env), code, dict(files))
    except RuntimeError as error:
        if "python" in str(error):  # the worker's own rule (scratch.prepare)
            return (
                "Python lies under /tmp and the worker is not sandboxed: a new /tmp "
                "would hide it, so each submission works in a folder of the shared /tmp"
            )
        return f"the kernel refused a user and mount namespace of its own ({error})"
    return None


def _python_command(launch: Launch) -> list[str]:
    """The launch's command up to the worker module: bwrap's arguments and the Python it
    starts."""
    return launch.argv[: launch.argv.index("-m")]


def _run_python(
    command: list[str], env: dict[str, str], code: str, files: dict[str, bytes]
) -> str:
    """Run `code` (after `import os`) with that Python; what it printed; RuntimeError
    saying why it failed."""
    try:
        with with_files([*command, "-c", f"import os\n{code}\nprint('ok')"], files) as (
            argv,
            fds,
        ):
            done = subprocess.run(
                argv, env=env, pass_fds=fds, capture_output=True, text=True, timeout=60
            )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"could not be run: {error}") from None
    if done.returncode != 0 or not done.stdout.strip().endswith("ok"):
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[
            -1
        ]
        raise RuntimeError(detail[:200])
    return done.stdout.strip()[:-2].strip()
