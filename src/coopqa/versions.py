"""Installed package versions, recorded in index manifests, conversion markers and reports.

A figure or an index is only reproducible with the versions that made it, so
every artefact coopqa writes names them through this one helper.
"""

from __future__ import annotations

from importlib import metadata


def package_version(name: str) -> str | None:
    """The installed version of ``name``, or ``None`` when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: package_version(name) for name in names}
