"""The Python installation as the sandbox shows it: the worker runs this Python, and
nothing it can read through it (pyvenv.cfg, .pth files, editable-install finders,
direct_url.json, scripts) names a folder of the grader's. Used by launch.py to build the
bubblewrap command.
"""

from __future__ import annotations

import functools
import os
import re
import site
import sys
from dataclasses import dataclass
from pathlib import Path

INSIDE_VENV = "/opt/python"
# bound by launch.py
SHOWN_SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")


@dataclass(frozen=True)
class PythonView:
    """The Python installation as the sandbox shows it: no path in it names the grader's
    folders."""

    interpreter: str  # what the launch runs, inside
    mounts: list[tuple[str, str, str]]  # (bwrap option, source, target inside)
    # written for the sandbox: the venv's pyvenv.cfg; b"" hides a file
    files: dict[str, bytes]


@functools.cache
def python_view() -> PythonView:
    """The base installation at its own path (it names no repository); a venv only as
    its lib/ at /opt/python, with links to the base interpreter and a pyvenv.cfg of its
    own (the host's names the venv's path). Files in site-packages that name host paths
    are hidden (`_hidden`)."""
    base = Path(sys.base_prefix).resolve()
    mounts = [("--ro-bind", str(base), str(base))]
    if Path(sys.prefix).resolve() == base:  # not a venv
        hidden = _hidden(_site_dirs(base), base, str(base))
        return PythonView(str(Path(sys.executable).resolve()), mounts, hidden)
    venv = Path(sys.prefix).resolve()
    python = _base_interpreter(base, venv)
    lib, lib64 = (venv / "lib").resolve(), venv / "lib64"
    mounts.append(("--ro-bind", str(lib), f"{INSIDE_VENV}/lib"))
    if lib64.is_symlink() and lib64.resolve() == lib:
        mounts.append(("--symlink", "lib", f"{INSIDE_VENV}/lib64"))
    elif lib64.is_dir():
        mounts.append(("--ro-bind", str(lib64.resolve()), f"{INSIDE_VENV}/lib64"))
    version = sys.version_info
    names = {
        "python",
        f"python{version.major}",
        f"python{version.major}.{version.minor}",
        Path(sys.executable).name,
    }
    mounts += [
        ("--symlink", str(python), f"{INSIDE_VENV}/bin/{name}")
        for name in sorted(names)
    ]
    system_site = (
        _venv_settings(venv).get("include-system-site-packages", "false").lower()
        == "true"
    )
    files = {
        f"{INSIDE_VENV}/pyvenv.cfg": (
            f"home = {python.parent}\ninclude-system-site-packages = "
            f"{str(system_site).lower()}\n"
            f"version = {version.major}.{version.minor}.{version.micro}\n"
        ).encode()
    }
    files.update(_hidden(_site_dirs(venv), venv, INSIDE_VENV))
    if system_site:
        files.update(_hidden(_site_dirs(base), base, str(base)))
    return PythonView(f"{INSIDE_VENV}/bin/{Path(sys.executable).name}", mounts, files)


def _base_interpreter(base: Path, venv: Path) -> Path:
    """The base installation's interpreter: a venv's python links to it (or is a copy of
    it)."""
    python = Path(getattr(sys, "_base_executable", "") or sys.executable).resolve()
    if python.is_relative_to(venv) or not python.is_file():
        python = (
            base / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
        )
    return python


def _venv_settings(venv: Path) -> dict[str, str]:
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition("=") for line in lines)
    }


def _site_dirs(prefix: Path) -> list[Path]:
    dirs = {Path(folder).resolve() for folder in site.getsitepackages([str(prefix)])}
    return sorted(folder for folder in dirs if folder.is_dir())


def _hidden(sites: list[Path], prefix: Path, inside: str) -> dict[str, bytes]:
    """Empty files over those of `sites` that name host paths: editable installs' files
    (finders hold the source folder; the package is bound on its own), direct_url.json,
    .egg-link files, and .pth files naming an absolute path the sandbox does not show. A
    top-level listing each, no walk."""
    hidden: list[Path] = []
    for folder in sites:
        for entry in os.scandir(folder):
            name = entry.name
            if entry.is_file(follow_symlinks=False) and (
                name.startswith("__editable__")
                or name.endswith(".egg-link")
                or (name.endswith(".pth") and _names_outside(Path(entry.path)))
            ):
                hidden.append(Path(entry.path))
        hidden += folder.glob("*.dist-info/direct_url.json")
        # the compiled finder holds its mapping too
        hidden += folder.glob("__pycache__/__editable__*")
    return {
        f"{inside}/{path.relative_to(prefix)}": b""
        for path in hidden
        if prefix in path.parents
    }


def _names_outside(pth: Path) -> bool:
    """Whether a .pth file names an absolute path (a line, or a quoted one in an import
    line) that is not in the sandbox at the same place."""
    try:
        text = pth.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    shown = (str(Path(sys.base_prefix).resolve()), *SHOWN_SYSTEM_DIRS)
    paths = re.findall(r"""(?:^|['"])(/[^'"\s]*)""", text, re.MULTILINE)
    paths = [os.path.normpath(path) for path in paths]
    return any(
        not any(path == top or path.startswith(top + "/") for top in shown)
        for path in paths
    )
