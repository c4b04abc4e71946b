"""A disk cache of fetched images, keyed by URL and stored by content hash.

``index/<h>/<sha256 of the URL>`` holds the SHA-256 of the bytes the URL served;
``blobs/<h>/<sha256 of the bytes>`` holds the bytes (one copy for every URL serving them). Both are
written to a temporary name and renamed, so concurrent runs (shards of one job) share the cache
without a lock, and a killed run leaves no half-written entry. A blob whose bytes no longer match
its name is a miss. A URL is taken to name immutable content: clear the folder to fetch again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$VZERO_CACHE_DIR/images``, else ``$XDG_CACHE_HOME/vzero/images`` (``~/.cache`` by default)."""
    if os.environ.get("VZERO_CACHE_DIR"):
        return Path(os.environ["VZERO_CACHE_DIR"]) / "images"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vzero" / "images"


def _sharded(root: Path, name: str) -> Path:
    return root / name[:2] / name


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ImageCache:
    """Fetched bytes by URL; see the module docstring. Failing to write is logged, never raised."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self._warned = False

    def _index(self, url: str) -> Path:
        return _sharded(self.root / "index", hashlib.sha256(url.encode("utf-8")).hexdigest())

    def get(self, url: str) -> bytes | None:
        """The bytes ``url`` served before, or None."""
        try:
            digest = self._index(url).read_text().strip()
            data = _sharded(self.root / "blobs", digest).read_bytes()
        except (OSError, ValueError):
            return None
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def put(self, url: str, data: bytes) -> None:
        """Remember that ``url`` served ``data``."""
        digest = hashlib.sha256(data).hexdigest()
        try:
            blob = _sharded(self.root / "blobs", digest)
            if not blob.exists():
                _write_atomic(blob, data)
            _write_atomic(self._index(url), digest.encode("ascii"))
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("image cache %s is not writable (%s); fetching without it", self.root, exc)
