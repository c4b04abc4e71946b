"""``vzero-data fingerprint STORE``: add the fingerprints a store lacks (stores curated or ingested
before fingerprints existed, or under another fingerprint algorithm).

Every stored image and every valid positive crop without a fingerprint of the current algorithm is
decoded and fingerprinted; the rows are published in new batches (shards are never edited).
Rerunning finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from vzero_data.fingerprints.rows import FINGERPRINT_ALGORITHM, fingerprint_row

BATCH_ROWS = 256


@dataclass
class BackfillSummary:
    images: int = 0
    crops: int = 0
    unreadable: int = 0
    batches: int = 0


def backfill(store, *, progress: bool = False) -> BackfillSummary:
    """Fingerprint what the store lacks; see the module docstring."""
    from vzero_core.progress import progress_bar
    from vzero_data.fingerprints.compute import CROP_FEATURES, fingerprint
    from vzero_data.store.layout import write_batch
    from vzero_data.store.locking import store_lock
    from vzero_data.store.schema import FINGERPRINTS
    from vzero_data.views.encoding import decode_rgb

    done = "SELECT subject_id FROM fingerprints WHERE subject = ? AND algorithm = ?"
    images = (
        store.query(
            f"SELECT sha256 FROM images WHERE sha256 NOT IN ({done}) ORDER BY sha256",
            ["image", FINGERPRINT_ALGORITHM],
        )
        .column("sha256")
        .to_pylist()
    )
    views = store.query(
        "SELECT v.view_id, v.sample_id, v.config_hash, s.image_sha256, v.box FROM views v "
        "JOIN (SELECT DISTINCT sample_id, image_sha256 FROM samples) s ON s.sample_id = v.sample_id "
        f"WHERE v.kind = 'positive' AND v.valid AND v.view_id NOT IN ({done}) ORDER BY v.view_id",
        ["view", FINGERPRINT_ALGORITHM],
    ).to_pylist()
    summary = BackfillSummary()
    rows: list[dict] = []

    def flush() -> None:
        if rows:
            with store_lock(store.root):
                write_batch(store.root, {"fingerprints": pa.Table.from_pylist(rows, schema=FINGERPRINTS)})
            summary.batches += 1
            rows.clear()

    for sha in progress_bar(images, desc="fingerprint images", unit="image", enabled=progress):
        data = store.image_bytes([sha]).get(sha)
        try:
            fp = fingerprint(decode_rgb(data or b"", f"{store.root}: image {sha}"))
        except ValueError:
            summary.unreadable += 1  # `vzero-data verify` reports and contains damaged images
            continue
        rows.append(fingerprint_row(fp, "image", sha, image_sha256=sha))
        summary.images += 1
        if len(rows) >= BATCH_ROWS:
            flush()
    for view in progress_bar(views, desc="fingerprint crops", unit="crop", enabled=progress):
        data = store.query("SELECT image_bytes FROM views WHERE view_id = ? LIMIT 1", [view["view_id"]])
        try:
            fp = fingerprint(
                decode_rgb(data.column(0)[0].as_py() or b"", f"{store.root}: view {view['view_id']}"),
                features=CROP_FEATURES,
            )
        except ValueError:
            summary.unreadable += 1
            continue
        rows.append(
            fingerprint_row(
                fp,
                "view",
                view["view_id"],
                image_sha256=view["image_sha256"],
                sample_id=view["sample_id"],
                config_hash=view["config_hash"],
                box=view["box"],
            )
        )
        summary.crops += 1
        if len(rows) >= BATCH_ROWS:
            flush()
    flush()
    if summary.batches:
        store.rebuild_catalog()
    return summary
