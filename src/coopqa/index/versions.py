"""Version folders of an index: their names, which ones a build removes, and readers' leases.

Retention policy, applied by the builder with the build lock held:

* **After a successful publish**, the version ``CURRENT`` names and the
  ``KEEP_VERSIONS - 1`` newest versions published before it are kept; older
  ones are removed. A replica that read ``CURRENT`` just before the switch,
  or that checks for a new version between requests, still finds every file
  of the version it is opening. On NFS this matters even for open files: a
  file deleted by another host gives ``ESTALE``.
* **A version a process on this host is reading is never removed**, however
  old. Every loaded index holds a shared ``flock`` on its version's
  ``manifest.json`` (a :class:`Lease`) for as long as the process keeps it.
  The builder removes a version only when it can take that lock
  exclusively, and holds it while deleting. ``flock`` is per host (and
  unreliable on network file systems), so replicas on other hosts rely on
  the ``KEEP_VERSIONS`` window alone.
* **Versions newer than ``CURRENT`` were never published**: a build was
  killed after writing its folder and before switching the pointer. No
  reader can have opened them, so the next build removes them before
  writing its own, with the ``.build-*`` and ``.CURRENT.*`` leftovers.
* With no readable ``CURRENT``, no version is removed at all.

Versions are ordered by name, ``v-<UTC time to the microsecond>-<random>``:
UTC, so a daylight-saving change never orders a new version before an old one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coopqa.index.manifest import MANIFEST_FILE

try:
    import fcntl
except ImportError:  # not POSIX: the KEEP_VERSIONS window is the only protection
    fcntl = None  # type: ignore[assignment]

#: Live version plus the two before it: a replica one or two builds behind still reads a complete folder.
KEEP_VERSIONS = 3
CURRENT_FILE = "CURRENT"
_NAME = re.compile(r"v-[0-9A-Za-z_-][0-9A-Za-z._-]{0,120}")
_LEFTOVERS = (".build-", f".{CURRENT_FILE}.")


def new_version_name() -> str:
    """``v-20261129T101112123456Z-1a2b3c4d``: sorts by build time."""
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1_000_000_000)) + f"{now // 1000 % 1_000_000:06d}Z"
    return f"v-{stamp}-{uuid.uuid4().hex[:8]}"


def is_version_name(name: str) -> bool:
    """Whether ``name`` can name a version folder (no path separators, no ``..``)."""
    return _NAME.fullmatch(name) is not None and ".." not in name


def version_names(index_dir: Path) -> list[str]:
    """The version folders of ``index_dir``, oldest first."""
    return sorted(p.name for p in index_dir.iterdir() if is_version_name(p.name) and p.is_dir())


def pointer_state(index_dir: Path) -> tuple[int, int, int] | None:
    """Inode, modification time and size of ``CURRENT``: a new pointer (``os.replace``) changes the inode."""
    try:
        status = os.stat(index_dir / CURRENT_FILE)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


class Lease:
    """A shared lock on a version's manifest, telling builders on this host that the version is being read.

    Released when :meth:`close` is called or the lease is garbage-collected,
    that is when the last object holding the loaded index goes away.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = None
        if fcntl is None:
            return
        try:
            self._fd = os.open(folder / MANIFEST_FILE, os.O_RDONLY)
        except OSError:
            return  # the load that follows names the missing manifest
        # If a builder is deleting this version, the load that follows finds its files missing.
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        self._finalizer = weakref.finalize(self, os.close, self._fd)

    def close(self) -> None:
        if self._fd is not None:
            self._finalizer()
            self._fd = None


@contextmanager
def _unleased(folder: Path) -> Iterator[bool]:
    """Whether no process on this host holds a lease on ``folder``, holding an exclusive lock meanwhile."""
    if fcntl is None:
        yield True
        return
    try:
        fd = os.open(folder / MANIFEST_FILE, os.O_RDONLY)
    except OSError:
        yield True  # no manifest: no loader can be reading it
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _remove_versions(index_dir: Path, names: list[str]) -> None:
    for name in names:
        with _unleased(index_dir / name) as free:
            if free:
                shutil.rmtree(index_dir / name, ignore_errors=True)


def remove_unpublished(index_dir: Path, live: str | None) -> None:
    """Before a build: drop leftovers of killed builds, and versions newer than ``live`` (never published)."""
    for path in index_dir.iterdir():
        if path.name.startswith(_LEFTOVERS):
            _remove(path)
    if live is not None:
        _remove_versions(index_dir, [name for name in version_names(index_dir) if name > live])


def remove_stale_versions(index_dir: Path, live: str) -> None:
    """After a publish: keep ``live`` and the ``KEEP_VERSIONS - 1`` versions before it, unless a reader holds an older one."""
    remove_unpublished(index_dir, live)
    older = [name for name in version_names(index_dir) if name < live]
    _remove_versions(index_dir, older[: max(len(older) - (KEEP_VERSIONS - 1), 0)])
