"""Checksums of a checkpoint's files, so resume can tell an intact checkpoint from a damaged one.

``manifest.json`` lists every file of a checkpoint folder with its size and SHA-256. It is written
after every other file (atomically: a temp file, then a rename) and checked before a resume: a
truncated or rewritten file, or a missing one, is named rather than fed to ``torch.load``.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MANIFEST_FILE = "manifest.json"
_CHUNK = 8 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE
    )


def _hash_all(folder: Path, names: list[str]) -> list[str]:
    # hashlib releases the GIL on large buffers: weights and optimizer state hash in parallel
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda name: file_sha256(folder / name), names))


def write_manifest(folder: str | os.PathLike[str]) -> Path:
    """Record size and SHA-256 of every file under ``folder`` in ``folder/manifest.json``."""
    folder = Path(folder)
    names = _files(folder)
    entries = {
        name: {"size": (folder / name).stat().st_size, "sha256": sha}
        for name, sha in zip(names, _hash_all(folder, names), strict=True)
    }
    path = folder / MANIFEST_FILE
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w") as fh:
        json.dump({"files": entries}, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def verify_manifest(folder: str | os.PathLike[str]) -> list[str] | None:
    """Problems with ``folder``'s files against its manifest, one ``"FILE: what"`` each ([] when
    intact); None when the folder has no manifest (written before checksums existed)."""
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        entries = json.loads(path.read_text())["files"]
        expected = {str(name): (int(e["size"]), str(e["sha256"])) for name, e in entries.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"{path}: unreadable manifest ({exc})"]
    problems: list[str] = []
    present = []
    for name, (size, _) in expected.items():
        file = folder / name
        if not file.is_file():
            problems.append(f"{file}: missing")
        elif file.stat().st_size != size:
            problems.append(f"{file}: {file.stat().st_size} bytes, expected {size} (truncated or rewritten)")
        else:
            present.append(name)
    for name, sha in zip(present, _hash_all(folder, present), strict=True):
        if sha != expected[name][1]:
            problems.append(f"{folder / name}: checksum mismatch (damaged)")
    return sorted(problems)
