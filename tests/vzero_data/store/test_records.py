import pyarrow.parquet as pq
import pytest
from PIL import Image

from tests.store_builder import CONFIG, curate
from vzero_data.store.records import RecordCounts
from vzero_data.synth import PALETTE


def test_training_records_carry_full_image_positive_and_negatives(curated_store):
    counts = RecordCounts()
    records = list(curated_store.iter_training_records(["corner"], counts=counts))
    assert counts.yielded == 3 and dict(counts.missing_strategy) == {"corner": 1}
    for rec in records:
        assert isinstance(rec.image, Image.Image) and rec.image.mode == "RGB" and rec.image.size == (192, 192)
        assert rec.config_hash == CONFIG and rec.positive_strategy == "crop"
        assert set(rec.negatives) == {"corner"} and rec.negatives["corner"].size == (24, 24)
        # the positive crop holds the target's unique colour; training fields carry no answer
        rgb = tuple(rec.metadata["target_rgb"])
        assert rgb in {c for _, c in rec.positive.getcolors(maxcolors=1 << 16)}
        assert rgb in PALETTE.values()
        assert rec.eval_answer is not None and not hasattr(rec, "answer")
        assert rec.positive.size == (
            round(rec.positive_box[2] - rec.positive_box[0]),
            round(rec.positive_box[3] - rec.positive_box[1]),
        )


@pytest.mark.parametrize(
    "strategies, require_all, expected",
    [
        (None, True, 4),  # every negative the sample has
        (["corner"], True, 3),
        (["corner"], False, 4),
        (["corner", "small"], True, 3),
        (["nope"], True, 0),
    ],
)
def test_strategy_filter(ingested_store, strategies, require_all, expected):
    curate(ingested_store, skip_negative=(1,), extra_negative="small")
    records = list(ingested_store.iter_training_records(strategies, require_all=require_all))
    assert len(records) == expected
    for rec in records:
        assert set(rec.negatives) <= set(strategies or ["corner", "small"])


@pytest.mark.parametrize("config_hash, expected", [(CONFIG, 3), ("ingest", 0), ("other", 0)])
def test_config_hash_filter_and_limit(curated_store, config_hash, expected):
    assert len(list(curated_store.iter_training_records(["corner"], config_hash=config_hash))) == expected
    assert len(list(curated_store.iter_training_records(["corner"], limit=2))) == 2


def test_records_whose_image_is_in_an_earlier_batch(ingested_store):
    # ingest wrote the images; curation wrote only views: the reader must find images across batches
    curate(ingested_store)

    def rows(path):
        return pq.read_metadata(path).num_rows if path.exists() else 0

    both = [b for b in ingested_store.batches() if rows(b / "images.parquet") and rows(b / "views.parquet")]
    assert not both
    assert len(list(ingested_store.iter_training_records())) == 4


def test_rows_made_by_the_views_module_round_trip(ingested_store, tmp_path):
    import numpy as np

    from vzero_core.image_io import decode_image
    from vzero_data.store.export_verl import export_verl
    from vzero_data.views import negative_view, positive_view, view_seed

    samples = list(ingested_store.iter_samples("ingest"))
    with ingested_store.writer("views-run", "cfg-views") as w:
        for s in samples:
            pixels = np.asarray(decode_image(ingested_store.image_bytes([s.image_sha256])[s.image_sha256]))
            pos = positive_view(pixels, s.boxes[0])
            neg = negative_view(
                "downsampled_distractor",
                pixels,
                s.boxes[0],
                {},
                view_seed(s.sample_id, "downsampled_distractor", 0),
                positive=pos,
            )
            w.add_sample(s)
            w.add_view(s.sample_id, pos.to_row(s.sample_id))
            w.add_view(s.sample_id, neg.to_row(s.sample_id))
            w.commit_sample(s.sample_id)
    records = list(ingested_store.iter_training_records(["downsampled_distractor"], config_hash="cfg-views"))
    assert len(records) == len(samples)
    for rec in records:
        assert (
            rec.negatives["downsampled_distractor"].size == rec.positive.size
        )  # same pixel size (paper default)
    assert export_verl(ingested_store, tmp_path / "t.parquet", progress=False).written == len(samples)
