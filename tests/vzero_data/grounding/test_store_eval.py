import pyarrow as pa
import pytest

from tests.store_builder import add_sample, png
from vzero_data.grounding.store_eval import evaluate_store
from vzero_data.store import open_store
from vzero_data.store.layout import StoreError, write_batch
from vzero_data.store.schema import SAMPLES as SAMPLES_SCHEMA

IMAGE = png("gray", (100, 100))


def write_store(root, samples, regions, shards=2):
    """A store written by the real writer, its samples and regions split over ``shards`` batches."""
    store = open_store(root, create=True)
    for k in range(shards):
        with store.writer(f"run-{k}", "cfg") as w:
            for sample_id, boxes in samples[k::shards]:
                add_sample(w, sample_id, IMAGE, boxes=boxes)
                for sid, grounder, rank, box, selected in regions:
                    if sid == sample_id:
                        w.add_region(
                            sid,
                            {
                                "rank": rank,
                                "box": box,
                                "score": 0.5,
                                "grounder": grounder,
                                "selected": selected,
                            },
                        )
                w.commit_sample(sample_id)
    assert len(store.batches()) == shards + 1  # plus the schema batch
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


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "not a vzero store"),
        (lambda p: (p / "shards").mkdir(parents=True), "not a vzero store"),  # no marker file
        (lambda p: None, "no such store"),
    ],
)
def test_not_a_store(tmp_path, make, message):
    make(tmp_path / "x")
    with pytest.raises(StoreError, match=message):
        evaluate_store(tmp_path / "x")


def test_unfinished_batches_are_not_read(tmp_path):
    write_store(tmp_path, SAMPLES, REGIONS)
    staged = tmp_path / ".staging" / "batch-being-written"
    staged.mkdir(parents=True)
    (staged / "regions.parquet").write_bytes(b"partial garbage")
    assert evaluate_store(tmp_path)["samples_with_truth"] == 3


def test_bad_box_rows_are_located(tmp_path):
    # The writer refuses an inverted box, so publish a corrupt samples row with the raw batch writer.
    open_store(tmp_path, create=True)
    row = {"sample_id": "s1", "image_sha256": "0" * 64, "width": 100, "height": 100, "question": "Q?",
           "boxes": [[10.0, 10.0, 5.0, 5.0]], "config_hash": "cfg"}  # fmt: skip
    write_batch(tmp_path, {"samples": pa.Table.from_pylist([row], schema=SAMPLES_SCHEMA)})
    with pytest.raises(ValueError, match="samples row s1"):
        evaluate_store(tmp_path)


def test_store_path_with_a_quote(tmp_path):
    # The path used to be pasted into SQL unescaped.
    report = evaluate_store(write_store(tmp_path / "it's a store", SAMPLES, REGIONS))
    assert report["samples_with_truth"] == 3 and sorted(report["grounders"]) == ["dino", "owl"]
