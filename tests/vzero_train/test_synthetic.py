import numpy as np

from vzero_data.synth import PALETTE, make_scene
from vzero_train.data import RecordLike
from vzero_train.synthetic import synthetic_record


def _has_colour(image, rgb) -> bool:
    return bool((np.asarray(image) == np.array(rgb, dtype=np.uint8)).all(-1).any())


def test_positive_holds_the_target_and_negatives_do_not():
    record = synthetic_record(0, 3, size=256)
    scene = make_scene(0, 3, 256)
    colour = PALETTE[scene.target.color]  # unique to the target in the scene
    assert isinstance(record, RecordLike) and not hasattr(record, "answer")
    assert _has_colour(record.positive, colour)
    assert not _has_colour(record.negatives["window"], colour)
    assert not _has_colour(record.negatives["masked"], colour)
    assert record.negatives["window"].size == record.positive.size == record.negatives["masked"].size


def test_records_are_deterministic():
    a, b = synthetic_record(1, 2), synthetic_record(1, 2)
    assert a.sample_id == b.sample_id and a.positive.tobytes() == b.positive.tobytes()
    assert a.negatives["window"].tobytes() == b.negatives["window"].tobytes()
