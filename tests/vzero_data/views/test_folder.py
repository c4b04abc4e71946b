import json

import numpy as np
import pytest

from vzero_data.views import (
    CropPolicy,
    SampleViews,
    ViewRejected,
    negative_view,
    positive_view,
    read_views_folder,
    write_views_folder,
)
from vzero_data.views.folder import safe_name


def make_samples(scenes):
    out = []
    for i, (image, target, _) in enumerate(scenes[:2]):
        pos = positive_view(image, target, CropPolicy(margin_ratio=1.0))
        views, rejects = [pos], []
        for name in ("downsampled_distractor", "masked", "cross_image"):
            try:
                views.append(negative_view(name, image, target, None, i, positive=pos))
            except ViewRejected as exc:
                rejects.append({"strategy": name, "reason": exc.reason, "detail": exc.message})
        out.append(SampleViews(f"sample/{i}", image, target, views, question=f"q{i}?", rejects=rejects))
    return out


def test_views_folder_round_trip(tmp_path, scenes):
    samples = make_samples(scenes)
    index = write_views_folder(tmp_path / "v", samples, progress=False)
    assert index.name == "views.jsonl" and not list((tmp_path / "v").glob("*.tmp"))
    back = list(read_views_folder(tmp_path / "v"))
    assert [s.sample_id for s in back] == ["sample/0", "sample/1"]
    for a, b in zip(samples, back, strict=True):
        assert np.array_equal(a.image, b.image) and a.target == b.target and a.question == b.question
        assert (
            [dict(r) for r in a.rejects]
            == [dict(r) for r in b.rejects]
            == [{"strategy": "cross_image", "reason": "no_other_image", "detail": a.rejects[0]["detail"]}]
        )
        for va, vb in zip(a.views, b.views, strict=True):
            assert va.to_row(a.sample_id) == vb.to_row(b.sample_id)
    assert len(list(read_views_folder(tmp_path / "v", limit=1))) == 1


def test_bad_index_line_names_file_and_line(tmp_path, scenes):
    write_views_folder(tmp_path, make_samples(scenes)[:1], progress=False)
    with open(tmp_path / "views.jsonl", "a") as fh:
        fh.write("{not json\n")
    with pytest.raises(ValueError, match=r"views.jsonl:2: bad views record"):
        list(read_views_folder(tmp_path))
    with pytest.raises(FileNotFoundError, match="not a views folder"):
        list(read_views_folder(tmp_path / "images"))


@pytest.mark.parametrize(
    "sample_id, expected",
    [("abc123", "abc123"), ("synth-s0-000001", "synth-s0-000001"), ("a/b", "a_b-"), ("..", "sample-")],
)
def test_safe_name(sample_id, expected):
    assert safe_name(sample_id).startswith(expected)
    assert json.dumps(safe_name(sample_id)).isascii()
