"""Image paths from untrusted source files must stay inside the declared image root."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from vzero_core.uris import UriError, join_uri


class PathEscapeError(ValueError):
    """A path that is absolute, climbs out of the root with ``..``, or is a symlink leading out."""


def resolve_inside(root: Path, relpath: str) -> Path:
    """``root / relpath`` resolved (symlinks followed); raises unless it stays inside ``root``."""
    if not relpath or not isinstance(relpath, str):
        raise PathEscapeError(f"image path {relpath!r} is empty")
    if (
        PurePosixPath(relpath).is_absolute()
        or PureWindowsPath(relpath).is_absolute()
        or relpath.startswith("\\")
    ):
        raise PathEscapeError(
            f"image path {relpath!r} is absolute; it must be relative to the image root {root}"
        )
    real_root = root.resolve()
    resolved = (real_root / relpath).resolve()
    if not resolved.is_relative_to(real_root):
        raise PathEscapeError(
            f"image path {relpath!r} resolves to {resolved}, outside the image root {real_root}"
        )
    return resolved


def join_remote(root: str, relpath: str) -> str:
    """``relpath`` under the remote image root ``root`` (a URI); raises unless it stays inside."""
    try:
        return join_uri(root, relpath)
    except UriError as exc:
        raise PathEscapeError(str(exc)) from None
