import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vzero_data.grounding.store_eval import evaluate_store


def write_store(root, samples, regions, shards=2):
    """A store with the samples/regions tables split over ``shards`` shard folders."""
    for k in range(shards):
        folder = root / "shards" / f"{k:05d}"
        folder.mkdir(parents=True)
        pq.write_table(
            pa.table(
                {
                    "sample_id": [s[0] for s in samples[k::shards]],
                    "boxes": pa.array([s[1] for s in samples[k::shards]], pa.list_(pa.list_(pa.float64()))),
                    "width": [100] * len(samples[k::shards]),
                    "height": [100] * len(samples[k::shards]),
                }
            ),
            folder / "samples.parquet",
        )
        mine = {s[0] for s in samples[k::shards]}
        rows = [r for r in regions if r[0] in mine]
        pq.write_table(
            pa.table(
                {
                    "sample_id": [r[0] for r in rows],
                    "grounder": [r[1] for r in rows],
                    "rank": pa.array([r[2] for r in rows], pa.int32()),
                    "box": pa.array([r[3] for r in rows], pa.list_(pa.float64())),
                    "score": [0.5] * len(rows),
                    "selected": [r[4] for r in rows],
                }
            ),
            folder / "regions.parquet",
        )
    return root


SAMPLES = [
    ("s1", [[0, 0, 10, 10]]),
    ("s2", [[50, 50, 60, 60]]),
    ("s3", [[20, 20, 40, 40]]),
    ("s4", []),  # no ground truth: counted, not scored
]
REGIONS = [
    # dino: s1 exact (selected), s2 rank 0 wrong but rank 1 right and selected, s3 nothing
    ("s1", "dino", 0, [0, 0, 10, 10], True),
    ("s2", "dino", 0, [0, 0, 10, 10], False),
    ("s2", "dino", 1, [50, 50, 60, 60], True),
    ("s4", "dino", 0, [1, 1, 2, 2], True),
    # owl: s3 half overlap, rejected (not selected)
    ("s3", "owl", 0, [20, 20, 40, 30], False),
]


def test_report_per_grounder_and_view(tmp_path):
    report = evaluate_store(write_store(tmp_path, SAMPLES, REGIONS), iou_threshold=0.5)
    assert report["samples_with_truth"] == 3 and report["samples_without_truth"] == 1
    dino, owl = report["grounders"]["dino"], report["grounders"]["owl"]
    assert (dino["selected"]["recall"], dino["top1"]["recall"], dino["any"]["recall"]) == pytest.approx(
        (2 / 3, 1 / 3, 2 / 3)
    )
    assert dino["selected"]["without_prediction"] == 1
    assert (owl["selected"]["mean_iou"], owl["top1"]["mean_iou"]) == pytest.approx((0.0, 0.5 / 3))
    assert owl["top1"]["recall"] == pytest.approx(1 / 3)  # IoU exactly 0.5 counts


def test_one_grounder_only(tmp_path):
    report = evaluate_store(write_store(tmp_path, SAMPLES, REGIONS), grounder="owl")
    assert list(report["grounders"]) == ["owl"]
    with pytest.raises(ValueError, match=r"no regions from grounder 'yolo'.*\['dino', 'owl'\]"):
        evaluate_store(tmp_path, grounder="yolo")


def test_not_a_store(tmp_path):
    with pytest.raises(FileNotFoundError, match="no shards/\\*/samples.parquet"):
        evaluate_store(tmp_path)


def test_bad_box_rows_are_located(tmp_path):
    write_store(tmp_path, [("s1", [[10, 10, 5, 5]])], [], shards=1)
    with pytest.raises(ValueError, match="samples row s1"):
        evaluate_store(tmp_path)
