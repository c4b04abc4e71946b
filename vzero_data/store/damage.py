"""One-line, located errors for damaged shard files, instead of a reader's traceback."""

from __future__ import annotations

import re
from pathlib import Path

from vzero_data.store.layout import StoreError

_QUOTED_PARQUET = re.compile(r"""["']([^"']+\.parquet)["']""")


class DamagedShardError(StoreError):
    """A shard file that cannot be read; the message names it and how to find and contain damage."""


def damaged_shard(exc: BaseException, root: Path, path: str | Path | None = None) -> DamagedShardError:
    """``exc`` (raised reading the store at ``root``, from ``path`` if known) as a located error."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if path is None:
        found = _QUOTED_PARQUET.search(str(exc))
        path = found.group(1) if found else None
    if path:
        first = first.replace(f"'{path}'", "it").replace(f'"{path}"', "it")
    where = f"{path}: damaged shard file" if path else f"{root}: a shard file is damaged"
    return DamagedShardError(
        f"{where} ({first}); `vzero-data verify {root}` reports the damage by file and sample, "
        "`--repair` quarantines it so curate can regenerate those samples"
    )
