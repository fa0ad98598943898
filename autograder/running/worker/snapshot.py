"""The submission's files as its notebook left them, put back before each part of the
hidden suite.

The zygote takes a `Snapshot` of the submission's folder (its own tmpfs /tmp, or its
folder of the worker's /tmp) once the notebook has run, and `restore`s it before every
later part, so a file one part wrote, changed or deleted is not what the next part
finds. Both run while nothing of the submission runs (its notebook process stopped,
every other process of it killed), through a descriptor of the folder and never through
a link: what the folder holds is the submission's, so a link in it is a name like any
other, never followed. A file or folder is rewritten only when it changed: its inode,
size, mode or change time (which no call of a process without privileges can set back)
differ from the snapshot's.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
CHUNK = 1 << 20


class TooLarge(Exception):
    """The folder holds more than a snapshot may keep; the message says how much."""


@dataclass
class Entry:
    kind: str  # "dir", "file", "link", "fifo"
    mode: int
    # (inode, size, mode, ctime) when taken: unchanged since means no rewrite
    key: tuple = ()
    data: bytes = b""  # a file's content, a link's target
    entries: dict[str, Entry] = field(default_factory=dict)  # a folder's


class Budget:
    def __init__(self, max_bytes: int, max_files: int):
        self.bytes, self.files = max_bytes, max_files

    def spend(self, size: int) -> None:
        self.bytes -= size
        self.files -= 1
        if self.bytes < 0 or self.files < 0:
            raise TooLarge("more files than a part can start from")


def take(folder: int, max_bytes: int, max_files: int) -> Entry:
    """What the folder open as `folder` holds now (sockets and devices are left out:
    nothing restores them)."""
    return Entry(
        "dir",
        stat.S_IMODE(os.fstat(folder).st_mode),
        entries=_read_dir(folder, Budget(max_bytes, max_files)),
    )


def _read_dir(folder: int, budget: Budget) -> dict[str, Entry]:
    entries = {}
    for name in os.listdir(folder):
        info = os.lstat(name, dir_fd=folder)
        entry = _read(folder, name, info, budget)
        if entry is not None:
            # after reading: a mode put back changes the time
            entry.key = _key(os.lstat(name, dir_fd=folder))
            entries[name] = entry
    return entries


def _read(folder: int, name: str, info: os.stat_result, budget: Budget) -> Entry | None:
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        budget.spend(0)
        with _opened_dir(folder, name, info) as inner:
            return Entry("dir", mode, entries=_read_dir(inner, budget))
    if stat.S_ISREG(info.st_mode):
        budget.spend(info.st_size)
        return Entry("file", mode, data=_read_file(folder, name, info))
    if stat.S_ISLNK(info.st_mode):
        budget.spend(0)
        return Entry(
            "link",
            mode,
            data=os.readlink(name, dir_fd=folder).encode("utf-8", "surrogateescape"),
        )
    if stat.S_ISFIFO(info.st_mode):
        budget.spend(0)
        return Entry("fifo", mode)
    return None


def restore(folder: int, snapshot: Entry) -> None:
    """Make the folder open as `folder` hold what `snapshot` holds: what is new goes,
    what changed is written again, what is gone is made again."""
    # a part made it read-only: its owner's again
    if stat.S_IMODE(os.fstat(folder).st_mode) != snapshot.mode:
        # (a /tmp that is not the worker's own no part could change)
        os.fchmod(folder, 0o700 | snapshot.mode)
    _restore_dir(folder, snapshot)
    if stat.S_IMODE(os.fstat(folder).st_mode) != snapshot.mode:
        os.fchmod(folder, snapshot.mode)


def _restore_dir(folder: int, snapshot: Entry) -> None:
    for name in os.listdir(folder):
        if name not in snapshot.entries:
            remove(folder, name)
    for name, entry in snapshot.entries.items():
        try:
            info: os.stat_result | None = os.lstat(name, dir_fd=folder)
        except FileNotFoundError:
            info = None
        if info is not None and _key(info) == entry.key and entry.kind != "dir":
            continue  # not touched since the snapshot
        if info is not None and not (
            entry.kind == "dir"
            and stat.S_ISDIR(info.st_mode)
            and info.st_ino == entry.key[0]
        ):
            remove(folder, name)
            info = None
        _make(folder, name, entry, info)


def _make(
    folder: int, name: str, entry: Entry, existing: os.stat_result | None
) -> None:
    if entry.kind == "dir":
        if existing is None:
            os.mkdir(name, 0o700, dir_fd=folder)
        else:
            # a folder, not a link: nothing of the submission runs meanwhile
            os.chmod(name, 0o700, dir_fd=folder)
        with _opened_dir(folder, name, None) as inner:
            _restore_dir(inner, entry)
            os.fchmod(inner, entry.mode)
        entry.key = _key(os.lstat(name, dir_fd=folder))
        return
    if entry.kind == "link":
        os.symlink(entry.data.decode("utf-8", "surrogateescape"), name, dir_fd=folder)
    elif entry.kind == "fifo":
        os.mkfifo(name, entry.mode, dir_fd=folder)
    else:
        handle = os.open(
            name,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
            0o600,
            dir_fd=folder,
        )
        try:
            view = memoryview(entry.data)
            while view:
                view = view[os.write(handle, view[:CHUNK]) :]
            os.fchmod(handle, entry.mode)
        finally:
            os.close(handle)
    # the next restore compares with this copy
    entry.key = _key(os.lstat(name, dir_fd=folder))


def remove(folder: int, name: str) -> None:
    """Delete `name` in `folder`, a folder with all it holds (made writable first),
    never through a link. However deep it goes: the folders inside are moved up beside
    it before they are emptied."""
    pending, moved = [name], 0
    while pending:
        entry = pending.pop()
        if not stat.S_ISDIR(os.lstat(entry, dir_fd=folder).st_mode):
            os.unlink(entry, dir_fd=folder)
            continue
        # a folder, not a link (nothing of the submission runs meanwhile)
        os.chmod(entry, 0o700, dir_fd=folder)
        with _opened_dir(folder, entry, None) as inner:
            for child in os.listdir(inner):
                if not stat.S_ISDIR(os.lstat(child, dir_fd=inner).st_mode):
                    os.unlink(child, dir_fd=inner)
                    continue
                while _exists(folder, f".removed-{moved}"):
                    moved += 1
                os.rename(
                    child, f".removed-{moved}", src_dir_fd=inner, dst_dir_fd=folder
                )
                pending.append(f".removed-{moved}")
        os.rmdir(entry, dir_fd=folder)


def _exists(folder: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=folder)
    except FileNotFoundError:
        return False
    return True


class _opened_dir:
    """A folder's descriptor for a `with` block, opened without following a link; a
    folder its owner made unreadable is made readable first."""

    def __init__(self, folder: int, name: str, info: os.stat_result | None):
        self.mode = None if info is None else stat.S_IMODE(info.st_mode)
        if self.mode is not None and self.mode & 0o700 != 0o700:
            os.chmod(name, self.mode | 0o700, dir_fd=folder)
        self.fd = os.open(name, OPEN_DIR, dir_fd=folder)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc) -> None:
        try:
            if self.mode is not None and self.mode & 0o700 != 0o700:
                # as it was (a restore sets the snapshot's mode after)
                os.fchmod(self.fd, self.mode)
        finally:
            os.close(self.fd)


def _read_file(folder: int, name: str, info: os.stat_result) -> bytes:
    unreadable = stat.S_IMODE(info.st_mode) & 0o400 == 0
    if unreadable:  # its owner's file: readable for as long as it takes to open it
        os.chmod(name, stat.S_IMODE(info.st_mode) | 0o400, dir_fd=folder)
    handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    if unreadable:
        os.fchmod(handle, stat.S_IMODE(info.st_mode))
    try:
        chunks, size = [], 0
        while size <= info.st_size:
            chunk = os.read(handle, CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)[: info.st_size]
    finally:
        os.close(handle)


def _key(info: os.stat_result) -> tuple:
    return info.st_ino, info.st_size, info.st_mode, info.st_ctime_ns
