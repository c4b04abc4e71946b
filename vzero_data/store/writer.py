"""Streaming, atomic store writer: rows buffer per sample, whole samples flush as one batch.

Memory stays bounded by ``shard_max_bytes``: once the committed rows reach it they are written as a
batch (one directory of Parquet files published by one rename) and dropped from memory. Each sample's
rows become Arrow tables when it is committed, so a row that does not fit the schema is refused then,
naming its sample, and never reaches (and sinks) the batch it would have joined.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vzero_core.image_io import probe_image
from vzero_core.sample import Sample
from vzero_data.store.layout import StoreError, clean_stale_tmp, write_batch
from vzero_data.store.locking import store_lock
from vzero_data.store.schema import FINGERPRINT_SUBJECTS, TABLES, VIEW_KINDS

log = logging.getLogger(__name__)

DEFAULT_SHARD_MAX_BYTES = 256 << 20
# Tables whose rows belong to one sample (keyed by sample_id and config_hash).
PER_SAMPLE = ("samples", "regions", "views", "rejects", "fingerprints")


def _json(value: Any) -> str:
    if value is None:
        return "{}"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _box(value: Any, where: str) -> list[float] | None:
    if value is None:
        return None
    values = value.to_list() if hasattr(value, "to_list") else list(value)
    if len(values) != 4:
        raise StoreError(f"{where}: box must have 4 numbers (xyxy), got {values!r}")
    return [float(v) for v in values]


def _to_table(name: str, rows: list[dict[str, Any]], where: str) -> pa.Table:
    """``rows`` as a table of the store's ``name`` schema; a value of the wrong type is a located error."""
    try:
        return pa.Table.from_pylist(rows, schema=TABLES[name])
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise StoreError(f"{where}: {name} row does not fit the store schema ({exc})") from exc


def sample_row(sample: Sample, config_hash: str, run_id: str) -> dict[str, Any]:
    d = sample.to_dict()
    d["metadata"] = _json(d["metadata"])
    d["config_hash"] = config_hash
    d["run_id"] = run_id
    return d


class StoreWriter:
    """Use through ``Store.writer(...)`` as a context manager; see :class:`vzero_data.store.Store`."""

    def __init__(
        self,
        root: Path,
        run_id: str,
        config_hash: str,
        stored_images: set[str],
        *,
        shard_max_bytes: int = DEFAULT_SHARD_MAX_BYTES,
        on_flush: Any = None,
        fingerprinted_images: set[str] | None = None,
    ) -> None:
        if not run_id or not config_hash:
            raise StoreError("writer needs a non-empty run_id and config_hash")
        if shard_max_bytes <= 0:
            raise StoreError(f"shard_max_bytes must be positive, got {shard_max_bytes}")
        self.root = root
        self.run_id = run_id
        self.config_hash = config_hash
        self.shard_max_bytes = shard_max_bytes
        self._stored_images = stored_images
        self._fingerprinted_images = fingerprinted_images if fingerprinted_images is not None else set()
        self._pending: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        self._batch: dict[str, list[pa.Table]] = defaultdict(list)
        self._batch_bytes = 0
        self._on_flush = on_flush
        self.batches_written: list[Path] = []
        self.samples_taken = 0  # committed here but published first by a concurrent writer
        self.images_skipped = 0
        self._closed = False
        clean_stale_tmp(root)

    # -- rows -------------------------------------------------------------------------------------
    def add_image(self, sha256: str, data: bytes, width: int, height: int, fmt: str) -> bool:
        """Store an encoded image once by content; returns False if it was already stored."""
        self._check_open()
        if sha256 in self._stored_images:
            self.images_skipped += 1
            return False
        row = {"sha256": sha256, "format": fmt.lower(), "width": width, "height": height, "bytes": data}
        self._add_to_batch("images", _to_table("images", [row], f"image {sha256}"))
        self._stored_images.add(sha256)
        return True

    def add_fingerprint(self, row: Mapping[str, Any]) -> bool:
        """A ``fingerprints`` row (:func:`vzero_data.fingerprints.fingerprint_row`). An image's is
        stored once, like the image (returns False when it already is); a view's belongs to its
        sample and is committed with it."""
        self._check_open()
        subject = row.get("subject")
        if subject not in FINGERPRINT_SUBJECTS:
            raise StoreError(f"fingerprint: subject must be one of {FINGERPRINT_SUBJECTS}, got {subject!r}")
        if subject == "view":
            if not row.get("sample_id"):
                raise StoreError(f"fingerprint of view {row.get('subject_id')}: sample_id is required")
            self._pending[row["sample_id"]]["fingerprints"].append({**row, "config_hash": self.config_hash})
            return True
        sha = row.get("subject_id")
        if sha in self._fingerprinted_images:
            return False
        self._add_to_batch(
            "fingerprints", _to_table("fingerprints", [dict(row)], f"fingerprint of image {sha}")
        )
        self._fingerprinted_images.add(sha)
        return True

    def add_sample(self, sample: Sample) -> None:
        self._check_open()
        self._pending[sample.sample_id]["samples"].append(sample_row(sample, self.config_hash, self.run_id))

    def add_region(self, sample_id: str, region: Mapping[str, Any]) -> None:
        """``region``: region_id, rank, box (xyxy), score, phrase, grounder, model, params, selected."""
        self._check_open()
        where = f"region of sample {sample_id}"
        rank = int(region.get("rank", 0))
        row = {
            "region_id": region.get("region_id") or f"{sample_id}:{self.config_hash}:r{rank}",
            "sample_id": sample_id,
            "config_hash": self.config_hash,
            "rank": rank,
            "box": _box(region.get("box"), where),
            "score": None if region.get("score") is None else float(region["score"]),
            "phrase": region.get("phrase"),
            "grounder": region.get("grounder"),
            "model": region.get("model"),
            "params": _json(region.get("params", region.get("thresholds"))),
            "selected": bool(region.get("selected", False)),
        }
        self._pending[sample_id]["regions"].append(row)

    def add_view(self, sample_id: str, view: Mapping[str, Any]) -> None:
        """``view``: the views-table columns (see :mod:`vzero_data.store.schema`); ``view_id`` optional."""
        self._check_open()
        where = f"view of sample {sample_id}"
        if view.get("kind") not in VIEW_KINDS:
            raise StoreError(f"{where}: kind must be one of {VIEW_KINDS}, got {view.get('kind')!r}")
        if not view.get("strategy"):
            raise StoreError(f"{where}: strategy is required")
        if not isinstance(view.get("image_bytes"), (bytes, bytearray)):
            raise StoreError(f"{where}: image_bytes (encoded image) is required")
        n = len(self._pending[sample_id]["views"])
        row = {name: view.get(name) for name in TABLES["views"].names}
        row.update(
            view_id=view.get("view_id")
            or f"{sample_id}:{self.config_hash}:{view['kind']}:{view['strategy']}:{n}",
            sample_id=sample_id,
            config_hash=self.config_hash,
            params=_json(view.get("params")),
            checks=_json(view.get("checks")),
            box=_box(view.get("box"), where),
            image_bytes=bytes(view["image_bytes"]),
            valid=bool(view.get("valid", True)),
        )
        if row["width"] is None or row["height"] is None or row["image_format"] is None:
            info = probe_image(row["image_bytes"], where)
            row.update(width=info.width, height=info.height, image_format=info.format)
        self._pending[sample_id]["views"].append(row)

    def add_reject(self, sample_id: str, stage: str, reason: str, detail: str = "") -> None:
        self._check_open()
        row = {
            "sample_id": sample_id,
            "config_hash": self.config_hash,
            "stage": stage,
            "reason": reason,
            "detail": detail,
            "run_id": self.run_id,
        }
        self._pending[sample_id]["rejects"].append(row)

    def commit_sample(self, sample_id: str) -> None:
        """Mark a sample complete: its rows join the next batch (flushed when the cap is reached)."""
        self._check_open()
        rows = self._pending.pop(sample_id, None)
        if not rows:
            raise StoreError(f"commit_sample({sample_id!r}): no rows were added for this sample")
        # Convert every table first: a refused row leaves none of the sample's rows in the batch.
        tables = {name: _to_table(name, r, f"sample {sample_id}") for name, r in rows.items() if r}
        for name, table in tables.items():
            self._add_to_batch(name, table)
        if self._batch_bytes >= self.shard_max_bytes:
            self.flush()

    def discard_sample(self, sample_id: str) -> None:
        """Drop a sample's uncommitted rows (e.g. after an error half-way through it)."""
        self._pending.pop(sample_id, None)

    # -- batches ----------------------------------------------------------------------------------
    def _add_to_batch(self, name: str, table: pa.Table) -> None:
        self._batch[name].append(table)
        self._batch_bytes += table.nbytes

    def flush(self) -> Path | None:
        """Publish the committed rows as one batch; a no-op when nothing is buffered.

        Under the store's lock, samples another writer has published meanwhile under this config
        (a second launch of the same run, an overlapping shard) are dropped first, with their
        rows, and so are images already stored: concurrent writers leave the store of one.
        """
        if not any(self._batch.values()):
            return None
        tables = {name: pa.concat_tables(parts) for name, parts in self._batch.items() if parts}
        self._batch = defaultdict(list)
        self._batch_bytes = 0
        with store_lock(self.root):
            tables = self._without_stored(tables)
            path = write_batch(self.root, tables) if tables else None
        if path is None:
            return None
        log.debug("published batch %s", path.name)
        self.batches_written.append(path)
        if self._on_flush is not None:
            self._on_flush(path)
        return path

    def _without_stored(self, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
        """``tables`` less the samples (and images) the store already holds; call under the lock."""
        import duckdb

        from vzero_data.store import catalog
        from vzero_data.store.damage import damaged_shard

        ids = pa.chunked_array(
            [tables[t].column("sample_id") for t in PER_SAMPLE if t in tables], type=pa.string()
        ).unique()
        ids = ids.filter(pc.is_valid(ids))
        shas = tables["images"].column("sha256") if "images" in tables else pa.chunked_array([], pa.string())
        con = catalog.connect(self.root)
        try:
            con.register("batch_ids", pa.table({"sample_id": ids}))
            con.register("batch_shas", pa.table({"sha256": shas}))
            stored_ids = (
                con.sql(
                    "SELECT sample_id FROM samples WHERE config_hash = $c AND sample_id IN (FROM batch_ids)"
                    " UNION SELECT sample_id FROM rejects WHERE config_hash = $c AND sample_id IN (FROM batch_ids)",
                    params={"c": self.config_hash},
                )
                .to_arrow_table()
                .column("sample_id")
            )
            stored_shas = (
                con.sql("SELECT DISTINCT sha256 FROM images WHERE sha256 IN (FROM batch_shas)")
                .to_arrow_table()
                .column("sha256")
            )
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            raise damaged_shard(exc, self.root) from None
        finally:
            con.close()
        if len(stored_ids):
            self.samples_taken += len(stored_ids)
            log.info(
                "%d sample(s) were published by a concurrent writer first; not written again", len(stored_ids)
            )
        out = {}
        for name, table in tables.items():
            key, stored = ("sha256", stored_shas) if name == "images" else ("sample_id", stored_ids)
            if len(stored):
                # A null key (an image's fingerprint has no sample) is never another writer's sample.
                taken = pc.fill_null(pc.is_in(table.column(key), value_set=stored.combine_chunks()), False)
                table = table.filter(pc.invert(taken))
            if table.num_rows:
                out[name] = table
        return out

    def close(self) -> None:
        """Flush committed samples; uncommitted ones are dropped (they are incomplete) and logged."""
        if self._closed:
            return
        self.flush()
        if self._pending:
            log.warning(
                "writer closed with %d uncommitted sample(s); their rows were not written: %s",
                len(self._pending),
                ", ".join(sorted(self._pending)[:5]),
            )
            self._pending.clear()
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store writer is closed")

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
