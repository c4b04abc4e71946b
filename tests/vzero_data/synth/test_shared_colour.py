import hashlib
from collections import Counter

import numpy as np
import pytest

from vzero_data.cli import main
from vzero_data.synth import (
    PALETTE,
    SharedColourKnobs,
    make_scene,
    make_shared_colour_scene,
    rarest_colour_accuracy,
    rarest_colour_choice,
    read_manifest,
    write_scenes,
)


def png_bytes(image):
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


KNOBS = [
    SharedColourKnobs(),
    SharedColourKnobs(size=64, n_options=3, objects_per_colour=1),
    SharedColourKnobs(size=160, n_options=4, objects_per_colour=3, side_fraction=(0.08, 0.12)),
    SharedColourKnobs(objects_per_colour=1, target_scale=1.5),
]


@pytest.mark.parametrize("knobs", KNOBS)
@pytest.mark.parametrize("index", [0, 1, 7])
def test_every_option_colour_is_on_the_same_number_of_objects_and_the_shape_names_the_target(knobs, index):
    scene = make_shared_colour_scene(5, index, knobs)
    objects = (scene.target, *scene.objects)
    assert len(objects) == knobs.n_objects
    assert Counter(o.color for o in objects) == dict.fromkeys(scene.options, knobs.objects_per_colour)
    assert [o.shape for o in objects].count(scene.target.shape) == 1
    assert scene.answer == scene.target.color and scene.answer in scene.options
    assert scene.question == f"What is the color of the {scene.target.shape}?"
    assert scene.image.size == (knobs.size, knobs.size)


@pytest.mark.parametrize("knobs", KNOBS)
def test_objects_do_not_touch_and_the_target_box_is_tight_around_its_pixels(knobs):
    scene = make_shared_colour_scene(2, 3, knobs)
    boxes = [o.box for o in (scene.target, *scene.objects)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a.intersection_area(b) == 0
    x1, y1, x2, y2 = (int(v) for v in scene.target.box.to_list())
    pixels = np.asarray(scene.image)
    inside = np.all(pixels[y1:y2, x1:x2] == PALETTE[scene.target.color], axis=-1)
    ys, xs = np.nonzero(inside)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (0, 0, x2 - x1, y2 - y1)


def test_a_scene_is_a_pure_function_of_seed_index_and_knobs():
    a = make_shared_colour_scene(3, 4, SharedColourKnobs())
    assert png_bytes(a.image) == png_bytes(make_shared_colour_scene(3, 4, SharedColourKnobs()).image)
    assert png_bytes(a.image) != png_bytes(make_shared_colour_scene(3, 5, SharedColourKnobs()).image)
    assert png_bytes(a.image) != png_bytes(make_shared_colour_scene(4, 4, SharedColourKnobs()).image)


def test_a_larger_target_scale_makes_larger_targets():
    def mean_side(scale):
        knobs = SharedColourKnobs(objects_per_colour=1, target_scale=scale)
        return np.mean([make_shared_colour_scene(0, i, knobs).target.box.width for i in range(20)])

    assert mean_side(1.5) > 1.3 * mean_side(1.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": 32}, "size >= 48"),
        ({"n_options": 1}, "n_options"),
        ({"objects_per_colour": 0}, "objects_per_colour"),
        ({"side_fraction": (0.3, 0.2)}, "side_fraction"),
        ({"target_scale": 0}, "target_scale"),
        ({"gap": -1}, "gap"),
    ],
)
def test_bad_knobs_are_refused_naming_the_knob(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SharedColourKnobs(**kwargs)


def test_knobs_that_leave_no_room_fail_naming_them():
    with pytest.raises(ValueError, match="cannot place 8 objects"):
        make_shared_colour_scene(0, 0, SharedColourKnobs(side_fraction=(0.5, 0.6)))


def test_the_rarest_colour_rule_solves_the_clutter_world_but_not_the_shared_colour_world():
    clutter = [make_scene(3, i, 256) for i in range(90)]
    correct, n = rarest_colour_accuracy((s.image, s.options, s.answer) for s in clutter if s.kind == "color")
    assert n > 40 and correct / n > 0.85
    shared = [make_shared_colour_scene(3, i) for i in range(240)]
    correct, n = rarest_colour_accuracy((s.image, s.options, s.answer) for s in shared)
    assert n == 240 and correct / n < 0.36  # chance is 0.25 with four options


@pytest.mark.parametrize(
    "counts, options, expected",
    [
        ({"red": 5, "blue": 3, "green": 9}, ["red", "blue", "green", "pink"], "blue"),  # absent pink ignored
        ({"red": 4, "blue": 4}, ["blue", "red"], "blue"),  # tie: the earlier option
        ({}, ["cyan", "pink"], "cyan"),  # nothing present: the first option
    ],
)
def test_the_rarest_colour_rule_counts_exact_palette_pixels(counts, options, expected):
    from PIL import Image

    image = Image.new("RGB", (10, 10), (128, 128, 128))
    cells = iter(range(100))
    for colour, k in counts.items():
        for _ in range(k):
            cell = next(cells)
            image.putpixel((cell % 10, cell // 10), PALETTE[colour])
    image.putpixel((9, 9), tuple(v + 1 for v in PALETTE["green"]))  # near-green is not green
    assert rarest_colour_choice(image, options) == expected


def test_write_scenes_keeps_the_clutter_world_byte_identical(tmp_path):
    write_scenes(tmp_path, 2, size=256, seed=4, progress=False)
    digests = {
        str(p.relative_to(tmp_path)): hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file()
    }
    # digests of the clutter world before the shared-colour world existed
    assert digests == {
        "images/synth-s4-000000.png": "94a133039f89163f",
        "images/synth-s4-000001.png": "88c8d47c3fef8697",
        "manifest.jsonl": "eacd2cd88995afe4",
    }


def test_synth_cli_writes_a_shared_colour_world_with_its_knobs(tmp_path, capsys):
    args = ["synth", "--out", str(tmp_path), "--n", "3", "--world", "shared_colour", "--size", "96"]
    assert main([*args, "--objects-per-colour", "3", "--options", "3", "--side-fraction", "0.1,0.15"]) == 0
    records = list(read_manifest(tmp_path / "manifest.jsonl"))
    assert [r["id"] for r in records] == [f"synth-shared_colour-s0-{i:06d}" for i in range(3)]
    assert {(r["world"], r["width"], r["n_objects"], len(r["options"])) for r in records} == {
        ("shared_colour", 96, 9, 3)
    }
    assert "9.0 on average" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--options", "3"], "--options apply to --world shared_colour only"),
        (["--world", "shared_colour", "--text"], "--text applies to --world clutter only"),
        (["--world", "shared_colour", "--side-fraction", "0.1"], "--side-fraction must be LOW,HIGH"),
        (["--world", "shared_colour", "--objects-per-colour", "0"], "objects_per_colour must be >= 1"),
    ],
)
def test_synth_cli_refuses_knobs_that_do_not_apply(tmp_path, capsys, extra, message):
    assert main(["synth", "--out", str(tmp_path), "--n", "1", *extra]) == 2
    assert message in capsys.readouterr().err
