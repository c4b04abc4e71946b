"""Preview items read from a store through its catalog (``open_store(...).query``).

Only the ``n`` samples shown are read: DuckDB pushes the sample filter into the Parquet scans.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from vzero_core.boxes import Box
from vzero_data.preview.items import (
    PreviewItem,
    PreviewTile,
    rejected_tile,
    sorted_tiles,
    target_from_checks,
    view_caption,
)
from vzero_data.views.encoding import decode_rgb


def items_from_store(
    store_dir: str | os.PathLike[str], n: int = 8, *, config_hash: str | None = None
) -> Iterator[PreviewItem]:
    """The first ``n`` samples (by id) that have views, with their full image, target and views."""
    from vzero_data.store import open_store

    store = open_store(store_dir)
    and_config, params = (" AND config_hash = ?", [config_hash]) if config_hash else ("", [])
    ids = (
        store.query(
            f"SELECT DISTINCT sample_id FROM views WHERE true{and_config} ORDER BY sample_id LIMIT ?",
            [*params, n],
        )
        .column("sample_id")
        .to_pylist()
    )
    if not ids:
        return
    in_ids = "list_contains(?, sample_id)"
    samples = {
        row["sample_id"]: row
        for row in store.query(
            "SELECT sample_id, any_value(question) AS question, any_value(image_sha256) AS sha, "
            f"any_value(boxes) AS boxes FROM samples WHERE {in_ids} GROUP BY sample_id",
            [ids],
        ).to_pylist()
    }
    rejects: dict[str, list[tuple[str, str, str]]] = {}
    for r in store.query(
        f"SELECT sample_id, stage, reason, detail FROM rejects WHERE {in_ids}{and_config} ORDER BY ALL",
        [ids, *params],
    ).to_pylist():
        rejects.setdefault(r["sample_id"], []).append((r["stage"], r["reason"], r["detail"] or ""))
    for sid in ids:
        if sid not in samples:
            raise ValueError(f"{store_dir}: sample {sid} has views but no row in the samples table")
        sha, boxes = samples[sid]["sha"], samples[sid]["boxes"]
        image = store.image_bytes([sha]).get(sha)
        if image is None:
            raise ValueError(f"{store_dir}: image {sha} of sample {sid} is missing from the images table")
        rows = store.query(
            "SELECT kind, strategy, box, overlap_target, width, height, image_bytes, checks "
            f"FROM views WHERE sample_id = ?{and_config} ORDER BY kind DESC, strategy, seed",
            [sid, *params],
        ).to_pylist()
        tiles, target = [], None
        for v in rows:
            checks = json.loads(v["checks"]) if v["checks"] else {}
            target = target or target_from_checks(checks)
            tiles.append(
                PreviewTile(
                    label="positive" if v["kind"] == "positive" else v["strategy"],
                    pixels=decode_rgb(v["image_bytes"], f"view of sample {sid} ({v['strategy']})"),
                    caption=view_caption(v["box"], v["overlap_target"] or 0.0, (v["width"], v["height"])),
                    box=Box.from_xyxy(v["box"]) if v["box"] is not None else None,
                    kind=v["kind"],
                )
            )
        tiles += [rejected_tile(stage, reason, detail) for stage, reason, detail in rejects.get(sid, [])]
        if target is None and boxes:
            target = Box.from_xyxy(boxes[0])
        question = samples[sid]["question"] or ""
        yield PreviewItem(sid, question, decode_rgb(image, f"image {sha}"), target, sorted_tiles(tiles))
