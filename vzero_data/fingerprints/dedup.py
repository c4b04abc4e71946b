"""``vzero-data dedup``: near-duplicate clusters within a store, one sample kept per cluster.

Two samples are near-duplicates when they ask the same question (case and spacing aside) about
near-duplicate images (a pHash within ``max_distance`` bits, or, with ``regions``, one image a
cropped copy of the other) or with near-duplicate positive crops. ``any_question`` drops the
question condition (a whole-image dedup, as image tools do). Clusters are the connected groups; the
sample kept is the first stored (``keep="first"``) or the one with the largest image
(``keep="largest"``, ties to the first). Every other member gets a ``rejects`` row at stage
``dedup``, reason ``near_duplicate``, naming the kept sample; readers of training records skip
them, and a rerun finds nothing new.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vzero_data.fingerprints.search import DEFAULT_MAX_DISTANCE, find_matches

KEEP_POLICIES = ("first", "largest")
DEDUP_STAGE = "dedup"
DEDUP_REASON = "near_duplicate"


@dataclass
class Removal:
    sample_id: str
    kept: str
    how: str


@dataclass
class Cluster:
    kept: str
    removed: list[Removal] = field(default_factory=list)


@dataclass
class DedupResult:
    samples: int
    clusters: list[Cluster]
    written: int = 0
    run_id: str | None = None

    @property
    def removed(self) -> int:
        return sum(len(c.removed) for c in self.clusters)

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "clusters": [asdict(c) for c in self.clusters],
            "removed": self.removed,
            "rejects_written": self.written,
            "run_id": self.run_id,
        }


def normalise_question(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").strip().lower())


def first_seen_order(store) -> dict[str, int]:
    """Each sample's position in publication order (batch by batch, row by row)."""
    order: dict[str, int] = {}
    for batch in store.batches():
        path = batch / "samples.parquet"
        if path.exists():
            for sid in pq.read_table(path, columns=["sample_id"]).column("sample_id").to_pylist():
                order.setdefault(sid, len(order))
    return order


def find_clusters(
    store,
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    keep: str = "first",
    regions: bool = True,
    any_question: bool = False,
    progress: bool = False,
) -> DedupResult:
    """The near-duplicate clusters of the store's samples not already removed (nothing is written)."""
    from vzero_data.fingerprints.pictures import store_pictures

    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {keep!r}")
    removed = store.removed_sample_ids()
    info = {
        r["sample_id"]: r
        for r in store.query(
            "SELECT DISTINCT ON (s.sample_id) s.sample_id, s.question, s.image_sha256, "
            "i.width * i.height AS pixels FROM samples s LEFT JOIN images i ON i.sha256 = s.image_sha256"
        ).to_pylist()
        if r["sample_id"] not in removed
    }
    images, crops = store_pictures(store, exclude=removed)
    edges: list[tuple[str, str, str]] = []

    def link(a: str, b: str, how: str) -> None:
        if (
            a != b
            and a in info
            and b in info
            and (
                any_question
                or normalise_question(info[a]["question"]) == normalise_question(info[b]["question"])
            )
        ):
            edges.append((a, b, how))

    for m in find_matches(
        images, images, max_distance=max_distance, regions=regions, same_set=True, progress=progress
    ):
        how = (
            f"images {m.method}, {m.distance} bits"
            if m.method != "features"
            else f"image inside image, {m.inliers} inliers, NCC {m.ncc:.2f}"
        )
        for a in images[m.query].key.sample_ids:
            for b in images[m.target].key.sample_ids:
                link(a, b, how)
    for m in find_matches(crops, crops, max_distance=max_distance, regions=False, same_set=True):
        link(
            crops[m.query].key.sample_id,
            crops[m.target].key.sample_id,
            f"positive crops pHash, {m.distance} bits",
        )

    parent = {sid: sid for sid in info}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in edges:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for sid in info:
        groups.setdefault(root(sid), []).append(sid)
    order = first_seen_order(store)
    how_of: dict[frozenset, str] = {}
    for a, b, how in edges:
        how_of.setdefault(frozenset((a, b)), how)
    clusters = []
    for members in groups.values():
        if len(members) < 2:
            continue
        if keep == "largest":
            members.sort(key=lambda s: (-(info[s]["pixels"] or 0), order.get(s, len(order)), s))
        else:
            members.sort(key=lambda s: (order.get(s, len(order)), s))
        kept = members[0]
        cluster = Cluster(kept)
        for sid in members[1:]:
            how = how_of.get(frozenset((sid, kept))) or next(
                (h for pair, h in how_of.items() if sid in pair), "same cluster"
            )
            cluster.removed.append(Removal(sid, kept, how))
        clusters.append(cluster)
    clusters.sort(key=lambda c: order.get(c.kept, 0))
    return DedupResult(len(info), clusters)


def record_removals(store, result: DedupResult, *, settings: dict[str, Any]) -> DedupResult:
    """Write a ``rejects`` row for each removed sample (under every config it was stored with) and a
    ``runs`` row; shards are added, never edited."""
    from vzero_data.store.layout import new_batch_id, write_batch
    from vzero_data.store.locking import store_lock
    from vzero_data.store.schema import REJECTS

    removals = [r for c in result.clusters for r in c.removed]
    run_id = f"dedup-{new_batch_id()}"
    configs: dict[str, list[str]] = {}
    if removals:
        for row in store.query(
            "SELECT DISTINCT sample_id, config_hash FROM samples WHERE list_contains(?, sample_id) ORDER BY 1, 2",
            [[r.sample_id for r in removals]],
        ).to_pylist():
            configs.setdefault(row["sample_id"], []).append(row["config_hash"])
    rows = [
        {
            "sample_id": r.sample_id,
            "config_hash": chash,
            "stage": DEDUP_STAGE,
            "reason": DEDUP_REASON,
            "detail": f"near-duplicate of kept sample {r.kept} ({r.how})",
            "run_id": run_id,
        }
        for r in removals
        for chash in configs.get(r.sample_id, [None])
    ]
    now = datetime.now(timezone.utc)
    store.record_run(
        run_id,
        DEDUP_STAGE,
        recipe=json.dumps({"command": "dedup", **settings}, sort_keys=True),
        started_at=now,
        finished_at=now,
        counts={"samples": result.samples, "clusters": len(result.clusters), "removed": len(removals)},
    )
    if rows:
        with store_lock(store.root):
            write_batch(store.root, {"rejects": pa.Table.from_pylist(rows, schema=REJECTS)})
    result.written = len(rows)
    result.run_id = run_id
    return result
