"""Who the teacher is: a name and a revision that changes whenever its weights do.

Audit rows are keyed by ``teacher_id`` (``label@revision``: a hub id, or the folder's name, and the
revision), so the same folder retrained in place is a different teacher, and the same folder moved
or named by another path is the same one. The revision is:

- a hub model's commit, read from the local hub cache (``.../models--org--name/snapshots/<commit>``);
- for a folder (a model folder, or a training checkpoint's ``model/``), ``sha256:`` and the digest of
  its weight files (names and bytes). Hashing a large model's weights takes a while, so digests are
  remembered in ``cache_file`` by (path, size, modification time) of every weight file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
REVISION_CHARS = 12
_SNAPSHOT = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<commit>[0-9a-f]{7,64})/?$")


@dataclass(frozen=True)
class TeacherIdentity:
    """``name``: the teacher as named (a folder or hub id); ``label``: its hub id, or its folder's
    name (a training checkpoint's ``step_N``); ``revision``: what its weights are."""

    name: str
    revision: str
    label: str = ""

    @property
    def id(self) -> str:
        """``label@revision``: the key of the teacher's rows (a folder moved keeps it)."""
        short = self.revision.split(":", 1)[-1][:REVISION_CHARS]
        return f"{self.label or self.name}@{short}"


def weight_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))


def weights_digest(folder: Path, cache_file: Path | None = None) -> str:
    """SHA-256 over the names and bytes of ``folder``'s weight files (remembered in ``cache_file``)."""
    files = weight_files(folder)
    if not files:
        raise FileNotFoundError(f"{folder}: no weight files ({', '.join(WEIGHT_SUFFIXES)})")
    key = json.dumps(
        [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files], separators=(",", ":")
    )
    cache = _read_cache(cache_file)
    if key in cache:
        return cache[key]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0")
        with open(path, "rb") as fh:
            while block := fh.read(1 << 24):
                digest.update(block)
    value = digest.hexdigest()
    if cache_file is not None:
        _write_cache(cache_file, {**cache, key: value})
    return value


def _read_cache(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, data: dict[str, str]) -> None:
    from vzero_core.atomic_text import write_text_atomic

    with contextlib.suppress(OSError):  # a read-only store: hash again next time
        write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def hub_commit(repo_id: str) -> str | None:
    """The commit of ``repo_id``'s snapshot in the local hub cache, if it is there."""
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached (or no hub library): the caller says so
        return None
    return Path(path).name


def teacher_identity(name_or_path: str | os.PathLike[str], cache_file: Path | None = None) -> TeacherIdentity:
    """The identity of the teacher ``name_or_path`` (see the module docstring).

    Raises ``FileNotFoundError`` for a folder without a model, or a hub id not in the local cache.
    """
    from vzero_core.model_source import resolve_model_source

    name = str(name_or_path)
    source = resolve_model_source(name)
    folder = Path(source.path)
    if folder.is_dir():
        match = _SNAPSHOT.search(str(folder.resolve()))
        if match:  # a folder inside the hub cache: name it as the hub does
            hub_id = f"{match['org']}/{match['name']}"
            return TeacherIdentity(name, match["commit"], hub_id)
        label = (source.checkpoint or folder.resolve()).name
        return TeacherIdentity(name, "sha256:" + weights_digest(folder, cache_file), label)
    commit = hub_commit(source.path)
    if commit is None:
        raise FileNotFoundError(f"{name}: not a folder, and not a hub model in the local cache")
    return TeacherIdentity(name, commit, source.path)
