"""The submission's files put back as the notebook left them: what a part added goes, what it changed or
deleted comes back, links are names (never followed), and nothing unchanged is written again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.running.worker import snapshot


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "work" / "sub").mkdir(parents=True)
    (tmp_path / "work" / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "work" / "sub" / "locked").write_text("secret")
    os.chmod(tmp_path / "work" / "sub" / "locked", 0)
    (tmp_path / "work" / "link").symlink_to("/etc/hostname")
    os.mkfifo(tmp_path / "pipe")
    descriptor = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    yield tmp_path, descriptor
    os.close(descriptor)
    for path in tmp_path.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o700)


def tree(root: Path) -> dict[str, object]:
    """Every entry under root: a link's target, a file's mode and content, a folder's mode."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        name, mode = str(path.relative_to(root)), path.lstat().st_mode & 0o7777
        if path.is_symlink():
            found[name] = ("link", os.readlink(path))
        elif path.is_dir():
            found[name] = ("dir", mode)
        elif path.is_fifo():
            found[name] = ("fifo", mode)
        else:
            path.chmod(mode | 0o400)
            found[name] = ("file", mode, path.read_bytes())
            path.chmod(mode)
    return found


def test_what_a_part_changed_added_or_deleted_is_put_back(folder):
    root, descriptor = folder
    before = tree(root)
    saved = snapshot.take(descriptor, 1 << 20, 100)
    (root / "work" / "data.csv").write_text("changed")
    (root / "new.txt").write_text("new")
    (root / "work" / "made" / "deep").mkdir(parents=True)
    (root / "work" / "made").chmod(0)
    (root / "work" / "link").unlink()
    (root / "work" / "link").write_text("a file where the link was")
    (root / "pipe").unlink()
    (root / "work").chmod(0o500)
    snapshot.restore(descriptor, saved)
    assert tree(root) == before


def test_a_link_is_never_followed_when_putting_back(folder, tmp_path_factory):
    root, descriptor = folder
    outside = tmp_path_factory.mktemp("outside") / "target.txt"
    outside.write_text("outside")
    saved = snapshot.take(descriptor, 1 << 20, 100)
    (root / "work" / "data.csv").unlink()
    (root / "work" / "data.csv").symlink_to(outside)  # a part plants a link where a file was
    (root / "work" / "sub").chmod(0o700)
    (root / "work" / "sub" / "locked").chmod(0o600)
    (root / "work" / "sub").rename(root / "moved")
    (root / "work" / "sub").symlink_to(outside.parent)  # and one where a folder was
    snapshot.restore(descriptor, saved)
    assert outside.read_text() == "outside" and sorted(p.name for p in outside.parent.iterdir()) == ["target.txt"]
    assert (root / "work" / "data.csv").read_text() == "a,b\n1,2\n" and not (root / "moved").exists()


def test_an_unchanged_file_is_not_written_again(folder):
    root, descriptor = folder
    saved = snapshot.take(descriptor, 1 << 20, 100)
    before = (root / "work" / "data.csv").stat()
    snapshot.restore(descriptor, saved)
    after = (root / "work" / "data.csv").stat()
    assert (after.st_ino, after.st_ctime_ns) == (before.st_ino, before.st_ctime_ns)
    (root / "work" / "data.csv").write_text("x,y\n3,4\n")  # same size, new content: its change time tells
    snapshot.restore(descriptor, saved)
    assert (root / "work" / "data.csv").read_text() == "a,b\n1,2\n"


def test_a_folder_over_the_bounds_is_refused(folder):
    root, descriptor = folder
    (root / "big").write_bytes(b"x" * 4096)
    with pytest.raises(snapshot.TooLarge):
        snapshot.take(descriptor, 1024, 100)
    with pytest.raises(snapshot.TooLarge):
        snapshot.take(descriptor, 1 << 20, 3)


def test_a_folder_nested_deeper_than_python_recurses_is_removed(tmp_path):
    descriptor = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    inner = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    for level in range(1500):
        os.mkdir("d", dir_fd=inner)
        parent, inner = inner, os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=inner)
        os.close(parent)  # 1,500 open folders would leave later tests' select() out of range
        if level % 100 == 0:
            os.close(os.open("f", os.O_WRONLY | os.O_CREAT, dir_fd=inner))
    os.close(inner)
    try:
        snapshot.remove(descriptor, "d")
        assert os.listdir(descriptor) == []
    finally:
        os.close(descriptor)
