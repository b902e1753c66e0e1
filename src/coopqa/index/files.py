"""Size and SHA-256 of every file of an index version: recorded at build, verified at every load.

Sizes alone miss same-size damage (a disk or copy error, a tool that rewrote
bytes in place): the index would load and give wrong scores or highlights
without a word. So every load hashes every file, including the
memory-mapped ones. It costs what reading the files costs: SHA-256 runs at
about 1.4 GB/s on the project's machine, so well under a millisecond for
the shipped index and about 0.7 s a GB (≈ 0.1 GB per 10,000 passages, see
docs/scaling.md §3.1). A demanding user would rather wait that long once per
process or per new version than get a wrong answer, and reading the files
also warms the page cache the first questions would otherwise fault in.
The full hash is also what makes reuse safe: ``coopqa index`` copies
vectors out of the previous version, and must never copy damaged ones.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from typing import Any

from coopqa.errors import IndexStoreError

_REBUILD = "run: coopqa index"


def seal(folder: Path, skip: str) -> dict[str, dict[str, Any]]:
    """``{relative path: {"size", "sha256"}}`` of every file under ``folder`` but ``skip``, each fsynced on the way.

    One read per file does both: the checksum and flushing it to disk before
    the version can be published.
    """
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != skip:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
                os.fsync(handle.fileno())
            records[name] = {"size": path.stat().st_size, "sha256": digest}
    for directory in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync_directory(directory)
    return records


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def check_file_records(files: object) -> str | None:
    """Why a manifest's ``"files"`` is unusable, or ``None``."""
    if not isinstance(files, dict):
        return "'files' is not an object"
    for name, record in files.items():
        parts = PurePosixPath(name).parts
        if not name or name.startswith("/") or ".." in parts or "\\" in name:
            return f"'files' names a path outside the version: {name!r}"
        if not isinstance(record, dict):
            return f"'files.{name}' is not an object"
        size, digest = record.get("size"), record.get("sha256")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            return f"'files.{name}.size' is not a byte count"
        if not isinstance(digest, str) or len(digest) != 64:
            return f"'files.{name}.sha256' is not a SHA-256"
    return None


def verify_files(folder: Path, files: dict[str, dict[str, Any]], required: tuple[str, ...]) -> None:
    """Refuse a version whose files are missing, unlisted, resized or altered.

    ``required`` entries ending in ``/`` are folders: every file in them must
    be listed, since the loader reads them all. Sizes are compared first, for
    every file, so a truncated file is named without hashing anything.
    """
    for name in required:
        listed = any(entry.startswith(name) for entry in files) if name.endswith("/") else name in files
        if not listed:
            raise IndexStoreError(f"the index manifest {folder / 'manifest.json'} has no checksum for {name}", _REBUILD)
        if name.endswith("/") and (folder / name).is_dir():
            for path in (folder / name).rglob("*"):
                if path.is_file() and path.relative_to(folder).as_posix() not in files:
                    raise IndexStoreError(f"the index file {path} is not in the manifest, so it cannot be verified", _REBUILD)
    for name, record in files.items():
        path = folder / name
        if not path.is_file():
            raise IndexStoreError(f"the index file {path} is missing", _REBUILD)
        size = path.stat().st_size
        if size != record["size"]:
            raise IndexStoreError(f"the index file {path} is truncated or altered ({size} bytes, expected {record['size']})", _REBUILD)
    for name, record in files.items():
        path = folder / name
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        if digest != record["sha256"]:
            raise IndexStoreError(f"the index file {path} is damaged (its SHA-256 differs from the one recorded at build)", _REBUILD)
