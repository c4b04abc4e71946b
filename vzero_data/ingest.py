"""Ingest a source into a store: samples + content-addressed images, rejects with reasons, a runs row.

Resumable: samples already ingested are skipped (keyed by sample id under config hash ``ingest``), so
re-running gives no duplicates. A row that cannot become a sample is recorded in ``rejects``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from vzero_core.rows import Rejected
from vzero_data.sources import SourceError, SourceOptions, build_items, get_source
from vzero_data.sources.base import default_root
from vzero_data.sources.build import Skipped, SourceItem
from vzero_data.sources.fetch import FetchPolicy
from vzero_data.store import Store, open_store
from vzero_data.store.layout import new_batch_id

INGEST_CONFIG_HASH = "ingest"
INGEST_STAGE = "ingest"


@dataclass
class IngestSummary:
    format: str
    src: str
    run_id: str
    ingested: int = 0
    skipped_done: int = 0
    rejected: Counter = field(default_factory=Counter)
    images_new: int = 0
    images_already_stored: int = 0
    unfingerprinted: int = 0
    batches: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["rejected"] = dict(self.rejected)
        return d


def ingest(
    src: str,
    fmt: str,
    store: Store | str | os.PathLike[str],
    *,
    options: SourceOptions | None = None,
    run_id: str | None = None,
    strict: bool = False,
    limit: int | None = None,
    progress: bool = True,
    shard_max_bytes: int | None = None,
    fetch: FetchPolicy | None = None,
) -> IngestSummary:
    """Read ``src`` with the ``fmt`` adapter and write its samples into ``store`` (a path is opened,
    and created if missing, only once the source has opened without error).

    With ``strict`` the first rejected row raises :class:`SourceError` (naming file and row) instead
    of being recorded. Remote images are fetched as ``fetch`` says (:mod:`vzero_data.sources.fetch`).
    """
    from vzero_core.progress import progress_bar

    options = options or SourceOptions()
    source = get_source(fmt)
    run_id = run_id or f"ingest-{new_batch_id()}"
    root = default_root(src, options, source)
    raw_items = source.read(str(src), options)  # fails here, before any store is created, if unreadable
    if not isinstance(store, Store):
        store = open_store(store, create=True)
    summary = IngestSummary(format=fmt, src=str(src), run_id=run_id)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    recipe = json.dumps(
        {"command": "ingest", "format": fmt, "src": str(src), "image_root": str(root)}, sort_keys=True
    )
    store.record_run(run_id, INGEST_CONFIG_HASH, recipe=recipe, started_at=started, status="running")
    done = store.done_sample_ids(INGEST_CONFIG_HASH)
    known_rejects = {
        (r["sample_id"], r["reason"])
        for r in store.query(
            "SELECT DISTINCT sample_id, reason FROM rejects WHERE config_hash = ?", [INGEST_CONFIG_HASH]
        ).to_pylist()
    }
    kwargs = {} if shard_max_bytes is None else {"shard_max_bytes": shard_max_bytes}
    status = "failed"
    try:
        with store.writer(run_id, INGEST_CONFIG_HASH, **kwargs) as writer:
            items = build_items(raw_items, root, max_pixels=options.max_pixels, skip_ids=done, fetch=fetch)
            for item in progress_bar(items, desc=f"ingest {fmt}", unit="row", enabled=progress):
                if isinstance(item, Skipped):
                    summary.skipped_done += 1
                elif isinstance(item, Rejected):
                    if strict:
                        raise SourceError(f"{item.detail} [{item.reason}]")
                    summary.rejected[item.reason] += 1
                    if (item.key, item.reason) not in known_rejects:
                        known_rejects.add((item.key, item.reason))
                        writer.add_reject(item.key, INGEST_STAGE, item.reason, item.detail)
                        writer.commit_sample(item.key)
                else:
                    _write_item(writer, item, summary)
                    if limit is not None and summary.ingested >= limit:
                        break
            summary.images_already_stored = writer.images_skipped
        summary.batches = len(writer.batches_written)
        status = "finished"
    finally:
        summary.seconds = time.perf_counter() - t0
        store.record_run(
            run_id,
            INGEST_CONFIG_HASH,
            recipe=recipe,
            started_at=started,
            finished_at=datetime.now(timezone.utc),
            timings={"total_s": round(summary.seconds, 3)},
            counts={
                k: v
                for k, v in summary.as_dict().items()
                if k in ("ingested", "skipped_done", "rejected", "images_new")
            },
            status=status,
        )
    return summary


def _write_item(writer: Any, item: SourceItem, summary: IngestSummary) -> None:
    sample = item.sample
    if writer.add_image(
        sample.image_sha256, item.image_bytes, item.image.width, item.image.height, item.image.format
    ):
        summary.images_new += 1
        _add_fingerprint(writer, item, summary)
    writer.add_sample(sample)
    writer.commit_sample(sample.sample_id)
    summary.ingested += 1


def _add_fingerprint(writer: Any, item: SourceItem, summary: IngestSummary) -> None:
    """A new image's perceptual fingerprint (the one decode ingest pays); an image whose pixels do
    not decode gets none and is counted (``vzero-data verify`` reports it)."""
    from vzero_data.fingerprints.compute import fingerprint
    from vzero_data.fingerprints.rows import fingerprint_row
    from vzero_data.views.encoding import decode_rgb

    sha = item.sample.image_sha256
    try:
        fp = fingerprint(decode_rgb(item.image_bytes, f"{item.sample.image}"))
    except ValueError:
        summary.unfingerprinted += 1
        return
    writer.add_fingerprint(fingerprint_row(fp, "image", sha, image_sha256=sha))
