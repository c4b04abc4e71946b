import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from vzero_core.boxes import Box
from vzero_data.cli import main
from vzero_data.synth import PALETTE, make_scene, read_manifest, region_name, write_scenes


def tree_digest(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_synth_cli_is_deterministic_for_a_seed(tmp_path, capsys):
    for name in ("a", "b"):
        assert (
            main(
                ["synth", "--out", str(tmp_path / name), "--n", "3", "--size", "512", "--seed", "7", "--text"]
            )
            == 0
        )
    assert "synthetic scenes: 3 images" in capsys.readouterr().out
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    main(["synth", "--out", str(tmp_path / "c"), "--n", "3", "--size", "512", "--seed", "8"])
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


@pytest.mark.parametrize(
    "seed, index, size, text",
    [(0, 0, 1024, False), (0, 1, 1024, True), (3, 5, 512, False), (9, 2, 256, True)],
)
def test_target_box_is_exactly_around_the_target_pixels(seed, index, size, text):
    scene = make_scene(seed, index, size, text=text)
    pixels = np.asarray(scene.image)
    is_target = np.all(pixels == np.array(PALETTE[scene.target.color], dtype=np.uint8), axis=-1)
    ys, xs = np.nonzero(is_target)
    x1, y1, x2, y2 = (int(v) for v in scene.target.box.to_list())
    # every target-coloured pixel lies inside the box ...
    assert xs.min() >= x1 and xs.max() < x2 and ys.min() >= y1 and ys.max() < y2
    # ... and the box is tight: each of its four border lines holds target pixels
    inside = is_target[y1:y2, x1:x2]
    assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


@pytest.mark.parametrize("seed", range(6))
def test_scene_question_is_fine_grained_and_well_formed(seed):
    scene = make_scene(seed, 0, 1024)
    assert scene.target.box.area_ratio(1024, 1024) < 0.02
    assert scene.answer in scene.options and len(set(scene.options)) == 4
    assert scene.region in scene.question
    assert scene.target_phrase.startswith("small ")
    same_shape = [o for o in scene.objects if o.shape == scene.target.shape]
    assert len(same_shape) >= 1, "same-shape distractors make the question need the right object"
    assert all(o.color != scene.target.color for o in scene.objects)
    assert all(o.box.width >= 2 * scene.target.box.width - 2 for o in same_shape)


def test_manifest_lines_follow_the_generic_ingest_fields(tmp_path):
    manifest = write_scenes(tmp_path, 2, size=256, seed=1, progress=False)
    records = list(read_manifest(manifest))
    assert [r["index"] for r in records] == [0, 1]
    for r in records:
        with Image.open(tmp_path / r["image"]) as im:
            assert im.size == (r["width"], r["height"]) == (256, 256)
        Box.from_xyxy(r["bbox"])
        assert {"id", "question", "options", "answer", "target", "bbox"} <= set(r)


def test_malformed_manifest_line_is_located(tmp_path):
    path = tmp_path / "manifest.jsonl"
    path.write_text(json.dumps({"id": 1}) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"manifest.jsonl:2: malformed JSON"):
        list(read_manifest(path))


@pytest.mark.parametrize(
    "box, expected",
    [
        (Box(0, 0, 10, 10), "top left"),
        (Box(495, 0, 505, 10), "top"),
        (Box(490, 490, 510, 510), "center"),
        (Box(900, 500, 910, 510), "right"),
        (Box(990, 990, 1000, 1000), "bottom right"),
    ],
)
def test_region_name(box, expected):
    assert region_name(box, 1000, 1000) == expected


def test_bad_arguments_give_a_clear_error(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path), "--n", "0"]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err
