"""What every readable store offers, wherever its shards live: SQL over its tables, image bytes by
hash, resume keys, and samples and training records streamed batch by batch.

A local :class:`~vzero_data.store.Store` and a published one at a URI
(:class:`~vzero_data.store.published.PublishedStore`) differ only in how they list batches, read
one shard file and connect DuckDB to the tables; the rest is here, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from vzero_data.store.damage import damaged_shard

if TYPE_CHECKING:
    from vzero_core.sample import Sample
    from vzero_data.store.records import RecordCounts, TrainingRecord


class StoreReader:
    """The read side of a store; subclasses give ``root``, ``batches``, ``read_shard``,
    ``table_files``, ``connect`` and ``connect_sandboxed``."""

    root: Any

    def batches(self) -> list[Any]:
        """Published batches in name (time) order, as handles ``read_shard`` takes."""
        raise NotImplementedError

    def read_shard(
        self, batch: Any, table: str, columns: list[str] | None = None, filters: list | None = None
    ) -> pa.Table | None:
        """One batch's rows of ``table`` (None when the batch has no such file)."""
        raise NotImplementedError

    def table_files(self, table: str) -> str | list[str]:
        """What DuckDB's ``parquet_metadata`` reads for ``table``: a glob or a list of files."""
        raise NotImplementedError

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per table."""
        raise NotImplementedError

    def connect_sandboxed(self) -> duckdb.DuckDBPyConnection:
        """A connection with the views that can read this store's shards and no other file."""
        raise NotImplementedError

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run SQL over the views ``samples, images, regions, views, rejects, runs, fingerprints, audits``; an Arrow table."""
        con = self.connect()
        try:
            rel = con.sql(sql, params=params or None)
            if rel is None:  # a statement that returns nothing
                return pa.table({})
            return rel.to_arrow_table()
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            if isinstance(exc, duckdb.InvalidInputException) and "parquet" not in str(exc).lower():
                raise  # a refused statement (the catalog is read-only), not a damaged file
            raise damaged_shard(exc, self.root) from None
        finally:
            con.close()

    def stored_image_hashes(self) -> set[str]:
        """Content hashes of every stored image (hashes only: bounded memory)."""
        return set(self.query("SELECT DISTINCT sha256 FROM images").column("sha256").to_pylist())

    def fingerprinted_images(self) -> set[str]:
        """Hashes of the stored images that have a fingerprint of the current algorithm."""
        from vzero_data.fingerprints.rows import FINGERPRINT_ALGORITHM

        table = self.query(
            "SELECT DISTINCT subject_id FROM fingerprints WHERE subject = 'image' AND algorithm = ?",
            [FINGERPRINT_ALGORITHM],
        )
        return set(table.column("subject_id").to_pylist())

    def removed_sample_ids(self) -> set[str]:
        """Samples ``vzero-data dedup`` removed (a reject at stage ``dedup``): readers skip them."""
        table = self.query("SELECT DISTINCT sample_id FROM rejects WHERE stage = 'dedup'")
        return set(table.column("sample_id").to_pylist())

    def done_sample_ids(self, config_hash: str) -> set[str]:
        """Samples finished (kept or rejected) under ``config_hash``: the resume keys."""
        table = self.query(
            "SELECT sample_id FROM samples WHERE config_hash = ? UNION SELECT sample_id FROM rejects WHERE config_hash = ?",
            [config_hash, config_hash],
        )
        return set(table.column("sample_id").to_pylist())

    def image_bytes(self, sha256s: list[str]) -> dict[str, bytes]:
        """Encoded bytes of the given images, by hash (missing hashes are absent from the result)."""
        if not sha256s:
            return {}
        table = self.query("SELECT sha256, bytes FROM images WHERE list_contains(?, sha256)", [list(sha256s)])
        return dict(zip(table.column("sha256").to_pylist(), table.column("bytes").to_pylist(), strict=True))

    def iter_samples(self, config_hash: str | None = None) -> Iterator[Sample]:
        """Stored samples as :class:`Sample` objects, streamed batch by batch."""
        from vzero_data.store.records import iter_samples

        return iter_samples(self, config_hash)

    def iter_training_records(
        self,
        strategies: list[str] | None = None,
        config_hash: str | None = None,
        limit: int | None = None,
        *,
        require_all: bool = True,
        counts: RecordCounts | None = None,
        positive_strategy: str | None = None,
    ) -> Iterator[TrainingRecord]:
        """Sample + full image + positive crop + negative views (one per strategy), decoded RGB.

        ``strategies`` limits the negatives; with ``require_all`` a sample lacking one of them is
        skipped and counted in ``counts`` (and logged), never silently. The positive is the first
        valid positive view written for a sample, or the one of ``positive_strategy``.
        """
        from vzero_data.store.records import iter_training_records

        return iter_training_records(
            self,
            strategies,
            config_hash,
            limit,
            require_all=require_all,
            counts=counts,
            positive_strategy=positive_strategy,
        )
