import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vzero_data.synth import make_scene
from vzero_data.views import (
    CropPolicy,
    InMemoryImagePool,
    SampleViews,
    ViewRejected,
    negative_view,
    positive_view,
    view_seed,
    write_views_folder,
)
from vzero_data.views.encoding import encode_rgb

STRATEGIES = ("downsampled_distractor", "masked", "shuffled", "cross_image")


def build_samples(n=3, size=256):
    scenes = [make_scene(5, i, size) for i in range(n)]
    pool = InMemoryImagePool({f"img{i}": np.asarray(s.image) for i, s in enumerate(scenes)})
    out = []
    for i, scene in enumerate(scenes):
        image, target, sid = np.asarray(scene.image), scene.target.box, f"sample-{i}"
        pos = positive_view(image, target, CropPolicy(margin_ratio=1.0), view_seed(sid, "crop", 0))
        views, rejects = [pos], []
        for name in STRATEGIES:
            # the last sample gets no pool, so its cross_image negative is rejected
            try:
                views.append(
                    negative_view(
                        name, image, target, None, view_seed(sid, name, 0), positive=pos,
                        pool=pool if i < n - 1 else None, image_sha256=f"img{i}",
                    )
                )  # fmt: skip
            except ViewRejected as exc:
                rejects.append({"strategy": name, "reason": exc.reason, "detail": exc.message})
        out.append(SampleViews(sid, image, target, views, question=scene.question, rejects=rejects))
    return out


@pytest.fixture(scope="session")
def samples():
    return build_samples()


@pytest.fixture
def views_dir(tmp_path, samples):
    write_views_folder(tmp_path / "views", samples, progress=False)
    return tmp_path / "views"


def write_store(root, samples, config_hash="cfg1"):
    """A store laid out as the store issue specifies: STORE/shards/<batch>/<table>.parquet."""
    batch = root / "shards" / "batch-0001"
    batch.mkdir(parents=True)
    view_rows, sample_rows, image_rows, reject_rows = [], [], [], []
    for s in samples:
        sha = f"img-{s.sample_id}"
        image_rows.append(
            {
                "sha256": sha,
                "format": "png",
                "width": s.image.shape[1],
                "height": s.image.shape[0],
                "bytes": encode_rgb(s.image),
            }
        )
        sample_rows.append(
            {"sample_id": s.sample_id, "question": s.question, "image_sha256": sha,
             "boxes": [s.target.to_list()], "config_hash": "ingest"}
        )  # fmt: skip
        for v in s.views:
            view_rows.append({**v.to_row(s.sample_id), "sample_id": s.sample_id, "config_hash": config_hash})
        for r in s.rejects:
            reject_rows.append(
                {"sample_id": s.sample_id, "config_hash": config_hash, "stage": f"negative:{r['strategy']}",
                 "reason": r["reason"], "detail": r["detail"], "run_id": "r1"}
            )  # fmt: skip
    box_type = pa.list_(pa.float64())
    pq.write_table(pa.Table.from_pylist(view_rows).cast(_views_schema(box_type)), batch / "views.parquet")
    pq.write_table(pa.Table.from_pylist(sample_rows), batch / "samples.parquet")
    pq.write_table(pa.Table.from_pylist(image_rows), batch / "images.parquet")
    pq.write_table(pa.Table.from_pylist(reject_rows), batch / "rejects.parquet")
    return root


def _views_schema(box_type):
    return pa.schema(
        [
            ("view_id", pa.string()), ("kind", pa.string()), ("strategy", pa.string()), ("params", pa.string()),
            ("seed", pa.int64()), ("box", box_type), ("source_image_sha256", pa.string()), ("width", pa.int64()),
            ("height", pa.int64()), ("image_format", pa.string()), ("image_bytes", pa.binary()),
            ("overlap_iou", pa.float64()), ("overlap_target", pa.float64()), ("valid", pa.bool_()),
            ("checks", pa.string()), ("sample_id", pa.string()), ("config_hash", pa.string()),
        ]
    )  # fmt: skip
