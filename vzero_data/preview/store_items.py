"""Preview items read from a store's Parquet shards (``STORE/shards/*/<table>.parquet``) with DuckDB.

Only the ``n`` samples shown are read: DuckDB pushes the sample filter into the Parquet scans.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from vzero_data.boxes import Box
from vzero_data.preview.items import (
    PreviewItem,
    PreviewTile,
    rejected_tile,
    sorted_tiles,
    target_from_checks,
    view_caption,
)
from vzero_data.views.encoding import decode_rgb

SHARDS_DIRNAME = "shards"


def _table(store: Path, name: str) -> str | None:
    """A SQL list of the table's shard files, or ``None`` when no shard holds it yet.

    Files are listed here rather than globbed by DuckDB, whose ``*`` also matches hidden
    directories: a killed writer's ``shards/.tmp-*`` batch must never be read.
    """
    files = sorted(
        p.as_posix()
        for p in (store / SHARDS_DIRNAME).glob(f"*/{name}.parquet")
        if not p.parent.name.startswith(".")
    )
    if not files:
        return None
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def items_from_store(
    store_dir: str | os.PathLike[str], n: int = 8, *, config_hash: str | None = None
) -> Iterator[PreviewItem]:
    """The first ``n`` samples (by id) that have views, with their full image, target and views."""
    import duckdb

    store = Path(store_dir)
    views_files, samples_files, images_files = (_table(store, t) for t in ("views", "samples", "images"))
    if views_files is None:
        raise FileNotFoundError(f"{store}: no views in {store / SHARDS_DIRNAME}/*/views.parquet")
    if samples_files is None or images_files is None:
        raise FileNotFoundError(f"{store}: views exist but the samples or images table is missing")
    rejects_files = _table(store, "rejects")

    con = duckdb.connect()
    where = "WHERE config_hash = $config" if config_hash else ""
    params = {"config": config_hash} if config_hash else {}
    con.execute(
        f"CREATE TEMP TABLE v AS SELECT * FROM read_parquet({views_files}, union_by_name=true) {where}",
        params,
    )
    ids = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT sample_id FROM v ORDER BY sample_id LIMIT $n", {"n": n}
        ).fetchall()
    ]
    if not ids:
        return
    samples = {
        r[0]: r[1:]
        for r in con.execute(
            f"SELECT sample_id, any_value(question), any_value(image_sha256), any_value(boxes) "
            f"FROM read_parquet({samples_files}, union_by_name=true) "
            f"WHERE list_contains($ids, sample_id) GROUP BY sample_id",
            {"ids": ids},
        ).fetchall()
    }
    rejects: dict[str, list[tuple[str, str, str]]] = {}
    if rejects_files is not None:
        reject_where = "list_contains($ids, sample_id)" + (
            " AND config_hash = $config" if config_hash else ""
        )
        for sid, stage, reason, detail in con.execute(
            f"SELECT sample_id, stage, reason, detail FROM read_parquet({rejects_files}, union_by_name=true) "
            f"WHERE {reject_where} ORDER BY ALL",
            {"ids": ids, **params},
        ).fetchall():
            rejects.setdefault(sid, []).append((stage, reason, detail or ""))
    for sid in ids:
        if sid not in samples:
            raise ValueError(f"{store}: sample {sid} has views but no row in the samples table")
        question, sha, boxes = samples[sid]
        image_row = con.execute(
            f"SELECT any_value(bytes) FROM read_parquet({images_files}, union_by_name=true) WHERE sha256 = $sha",
            {"sha": sha},
        ).fetchone()
        if image_row is None or image_row[0] is None:
            raise ValueError(f"{store}: image {sha} of sample {sid} is missing from the images table")
        rows = con.execute(
            "SELECT kind, strategy, box, overlap_target, width, height, image_bytes, checks, seed "
            "FROM v WHERE sample_id = $sid ORDER BY kind DESC, strategy, seed",
            {"sid": sid},
        ).fetchall()
        tiles, target = [], None
        for kind, strategy, box, overlap_target, width, height, data, checks, _seed in rows:
            checks = json.loads(checks) if checks else {}
            target = target or target_from_checks(checks)
            tiles.append(
                PreviewTile(
                    label="positive" if kind == "positive" else strategy,
                    pixels=decode_rgb(data, f"view of sample {sid} ({strategy})"),
                    caption=view_caption(box, overlap_target or 0.0, (width, height)),
                    box=Box.from_xyxy(box) if box is not None else None,
                    kind=kind,
                )
            )
        tiles += [rejected_tile(stage, reason, detail) for stage, reason, detail in rejects.get(sid, [])]
        if target is None and boxes:
            target = Box.from_xyxy(boxes[0])
        yield PreviewItem(
            sid, question or "", decode_rgb(image_row[0], f"image {sha}"), target, sorted_tiles(tiles)
        )
