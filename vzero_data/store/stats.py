"""Summary statistics of a store: what ``vzero-data stats`` prints."""

from __future__ import annotations

from typing import Any

from vzero_data.store.reader import StoreReader as Store

# Box area as a share of the image area: the bins of the printed histogram.
AREA_BINS = (0.001, 0.01, 0.1, 0.5)


def _pairs(store: Store, sql: str) -> dict[str, int]:
    return {str(r["k"]): int(r["n"]) for r in store.query(sql).to_pylist()}


def _label(bound: float, op: str) -> str:
    return f"{op}{bound * 100:g}%"


def _area_distribution(store: Store, sql: str) -> dict[str, Any]:
    """Quantiles and a binned histogram of the ``ratio`` column produced by ``sql``."""
    row = store.query(
        f"""
        WITH r AS ({sql})
        SELECT count(*) AS n, min(ratio) AS min, quantile_cont(ratio, 0.1) AS p10,
               median(ratio) AS median, quantile_cont(ratio, 0.9) AS p90, max(ratio) AS max,
               histogram(CASE {" ".join(f"WHEN ratio < {b} THEN '{_label(b, '<')}'" for b in AREA_BINS)} ELSE '{_label(AREA_BINS[-1], ">=")}' END) AS hist
        FROM r
        """
    ).to_pylist()[0]
    hist = dict(row.pop("hist") or {})
    order = [_label(b, "<") for b in AREA_BINS] + [_label(AREA_BINS[-1], ">=")]
    row["histogram"] = {k: int(hist.get(k, 0)) for k in order}
    return row


def stored_bytes(store: Store, table: str, column: str) -> int:
    """Bytes ``column`` of ``table`` takes in the shard files, summed from their Parquet footers: no
    blob is read, so this costs the same however large the store's images are."""
    row = store.query(
        "SELECT coalesce(sum(total_compressed_size), 0)::BIGINT AS n FROM parquet_metadata(?) "
        "WHERE path_in_schema = ?",
        [store.table_files(table), column],
    )
    return int(row.column("n")[0].as_py())


def store_stats(store: Store) -> dict[str, Any]:
    """Counts by source, config, grounder and strategy, rejects by reason, samples audited per teacher
    and audit, and box-area distributions.

    Only narrow columns and Parquet footers are read, never an image or view blob, so memory stays
    flat as the store grows; sizes are the bytes the encoded images and views take in the shards.
    """
    q = store.query
    totals = q(
        """SELECT (SELECT count(*) FROM samples) AS sample_rows,
                  (SELECT count(DISTINCT sample_id) FROM samples) AS samples,
                  (SELECT count(*) FROM images) AS images,
                  (SELECT count(*) FROM regions) AS regions,
                  (SELECT count(*) FROM views) AS views,
                  (SELECT count(*) FROM rejects) AS rejects,
                  (SELECT count(*) FROM runs) AS runs,
                  (SELECT count(*) FROM audits) AS audit_rows"""
    ).to_pylist()[0]
    totals["batches"] = len(store.batches())
    totals["image_bytes"] = stored_bytes(store, "images", "bytes")
    totals["view_bytes"] = stored_bytes(store, "views", "image_bytes")
    return {
        "store": str(store.root),
        "totals": totals,
        "samples_by_source": _pairs(
            store,
            "SELECT source AS k, count(DISTINCT sample_id) AS n FROM samples GROUP BY 1 ORDER BY 2 DESC",
        ),
        "samples_by_config": _pairs(
            store, "SELECT config_hash AS k, count(*) AS n FROM samples GROUP BY 1 ORDER BY 2 DESC"
        ),
        "regions_by_grounder": _pairs(
            store,
            # boxes a data set came with (the annotated grounder) have no model: the grounder's name alone
            "SELECT coalesce(grounder, '?') || coalesce(' (' || model || ')', '') AS k, count(*) AS n "
            "FROM regions GROUP BY 1 ORDER BY 2 DESC",
        ),
        "views_by_strategy": _pairs(
            store,
            "SELECT kind || '/' || strategy || CASE WHEN valid THEN '' ELSE ' (invalid)' END AS k, count(*) AS n FROM views GROUP BY 1 ORDER BY 1",
        ),
        "rejects_by_reason": _pairs(
            store, "SELECT stage || '/' || reason AS k, count(*) AS n FROM rejects GROUP BY 1 ORDER BY 2 DESC"
        ),
        "audits_by_teacher": _pairs(
            store,
            """SELECT teacher_id || ' (audit ' || audit_hash || ')' AS k, count(DISTINCT sample_id) AS n
               FROM audits GROUP BY 1 ORDER BY 1""",
        ),
        "sample_box_area": _area_distribution(
            store,
            """SELECT ((b[3] - b[1]) * (b[4] - b[2])) / (s.width * s.height) AS ratio
               FROM (SELECT DISTINCT ON (sample_id) * FROM samples) s, unnest(s.boxes) AS t(b)""",
        ),
        "selected_region_area": _area_distribution(
            store,
            """SELECT ((r.box[3] - r.box[1]) * (r.box[4] - r.box[2])) / (s.width * s.height) AS ratio
               FROM regions r JOIN (SELECT DISTINCT ON (sample_id) sample_id, width, height FROM samples) s USING (sample_id)
               WHERE r.selected""",
        ),
    }


def format_stats(stats: dict[str, Any]) -> str:
    t = stats["totals"]
    lines = [
        f"store {stats['store']}: {t['batches']} batches, {t['runs']} runs",
        f"  samples: {t['samples']} ({t['sample_rows']} rows over configs), images: {t['images']} "
        f"({t['image_bytes'] / 1e6:.1f} MB), regions: {t['regions']}, views: {t['views']} "
        f"({t['view_bytes'] / 1e6:.1f} MB), rejects: {t['rejects']}",
    ]
    for key, title in (
        ("samples_by_source", "samples by source"),
        ("samples_by_config", "sample rows by config hash"),
        ("regions_by_grounder", "regions by grounder (model)"),
        ("views_by_strategy", "views by kind/strategy"),
        ("rejects_by_reason", "rejects by stage/reason"),
        ("audits_by_teacher", "samples audited by teacher"),
    ):
        items = stats[key]
        lines.append(f"  {title}: " + (", ".join(f"{k}: {v}" for k, v in items.items()) if items else "none"))
    for key, title in (
        ("sample_box_area", "sample box area / image area"),
        ("selected_region_area", "selected region area / image area"),
    ):
        d = stats[key]
        if not d["n"]:
            lines.append(f"  {title}: no boxes")
            continue
        hist = ", ".join(f"{k}: {v}" for k, v in d["histogram"].items())
        lines.append(
            f"  {title} ({d['n']} boxes): min {d['min']:.3%}, p10 {d['p10']:.3%}, median {d['median']:.3%}, "
            f"p90 {d['p90']:.3%}, max {d['max']:.3%}; histogram {hist}"
        )
    return "\n".join(lines)
