"""``vzero-data contamination`` end to end: a store curated from a fixture holding cropped and
re-encoded copies of V*-layout benchmark images; every planted pair found with its kind, none of
the unrelated ones; reports written; bad input is one ``error:`` line."""

import json

import numpy as np
import pytest

from tests import near_duplicates as nd
from vzero_data.cli import main

pytestmark = pytest.mark.e2e

REGION = {"training_crop_in_benchmark", "benchmark_region_in_training"}
# training image -> (the benchmark item it copies, the kinds it may be reported as). A crop round a
# scene's target has too few keypoints of its own (flat shapes, upscaled) to be placed in the
# scene; it is found the other way round: the benchmark's target region inside it.
PLANTED = {
    "half_sa0.jpg": ("direct_attributes/sa_0", {"near_duplicate_image"}),
    "jpeg60_sa1.jpg": ("direct_attributes/sa_1", {"near_duplicate_image"}),
    "crop8_sa2.jpg": ("direct_attributes/sa_2", {"near_duplicate_image"}),
    "region_sa0.jpg": ("direct_attributes/sa_0", {"training_crop_in_benchmark"}),
    "jpeg60_scene0.jpg": ("direct_attributes/scene_0", {"near_duplicate_image"}),
    "region_scene1.jpg": ("direct_attributes/scene_1", REGION),
}
UNRELATED = ("other_photo.jpg", "other_scene.jpg")


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    from vzero_data.synth import make_scene

    root = tmp_path_factory.mktemp("contamination_cli")
    rng = np.random.default_rng(11)
    bench = {f"sa_{i}": nd.photo(40 + i, nd.REGION_SOURCE_SIZE) for i in range(3)}
    scenes = [make_scene(12, i, 1024) for i in range(2)]
    bench |= {f"scene_{i}": np.asarray(s.image.convert("RGB")) for i, s in enumerate(scenes)}
    boxes = {f"scene_{i}": s.target.box.to_list() for i, s in enumerate(scenes)}
    boxes |= {f"sa_{i}": [1100.0, 800.0, 1160.0, 860.0] for i in range(3)}
    vstar = nd.write_vstar(root / "vstar", bench, boxes)
    train = {
        "half_sa0.jpg": nd.resized(bench["sa_0"], 0.5),
        "jpeg60_sa1.jpg": bench["sa_1"],
        "crop8_sa2.jpg": nd.cropped(bench["sa_2"], 0.08, rng),
        "region_sa0.jpg": nd.region_crop(bench["sa_0"], rng)[0],
        "jpeg60_scene0.jpg": bench["scene_0"],
        "region_scene1.jpg": nd.region_crop(
            bench["scene_1"], rng, window=256, centre=scenes[1].target.box.center
        )[0],
        "other_photo.jpg": nd.photo(4242, nd.REGION_SOURCE_SIZE),
        "other_scene.jpg": np.asarray(make_scene(13, 0, 1024).image.convert("RGB")),
    }
    rows = []
    for name, rgb in train.items():
        nd.save(rgb, root / "train" / name, quality=60 if name.startswith(("jpeg60", "region_sa")) else 90)
        h, w = rgb.shape[:2]
        rows.append(
            {"image": name, "question": f"What is in {name}?", "bbox": [w * 0.4, h * 0.4, w * 0.5, h * 0.5]}
        )
    (root / "train" / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = root / "recipe.yaml"
    recipe.write_text(
        f"name: t\nsource: {{adapter: jsonl, path: {root / 'train' / 'rows.jsonl'}}}\n"
        "crop: {margin_ratio: 0.5, min_side: 64}\nnegatives: [{strategy: masked}]\n"
    )
    assert main(["curate", str(recipe), "--out", str(root / "store"), "--workers", "0", "--no-progress"]) == 0
    return root, vstar


@pytest.fixture(scope="module")
def report(fixture, tmp_path_factory):
    import os

    root, vstar = fixture
    os.environ["VZERO_CACHE_DIR"] = str(root / "cache")
    out = root / "report"
    assert (
        main(
            [
                "contamination",
                str(root / "store"),
                "--against",
                str(vstar),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    return json.loads((out / "report.json").read_text()), out


def test_every_planted_pair_is_found_with_its_kind_and_nothing_unrelated(fixture, report):
    from vzero_data.store import open_store

    root, _ = fixture
    data, _ = report
    image_of = {
        r["sample_id"]: r["image"]
        for r in open_store(root / "store").query("SELECT * FROM samples").to_pylist()
    }
    found = {}
    for f in data["findings"]:
        for sid in f["sample_ids"]:
            found.setdefault(image_of[sid], set()).update((i, f["kind"]) for i in f["item_ids"])
    for image, (item, kinds) in PLANTED.items():
        assert {(item, kind) for kind in kinds} & found.get(image, set()), (image, found.get(image))
    assert not set(UNRELATED) & set(found)


def test_the_reports_are_written(report):
    data, out = report
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    assert set(data["counts"]["vstar"]) <= {
        "exact_bytes",
        "near_duplicate_image",
        "training_crop_in_benchmark",
        "benchmark_region_in_training",
    }
    assert "training_crop_in_benchmark" in (out / "report.md").read_text()


def test_reports_are_never_replaced_without_overwrite(fixture, report, capsys):
    root, vstar = fixture
    _, out = report
    assert main(["contamination", str(root / "store"), "--against", str(vstar), "--out", str(out)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--against", "nowhere/"], "benchmark source not found: nowhere"),
        (["--against", "VSTAR", "--format", "pdf"], "--format: expected some of md, json, html"),
        (["--against", "VSTAR", "--distance", "40"], "--distance must be within 0..15"),
    ],
)
def test_bad_input_is_one_error_line(fixture, tmp_path, capsys, extra, message):
    root, vstar = fixture
    args = [a.replace("VSTAR", str(vstar)) for a in extra]
    assert main(["contamination", str(root / "store"), *args, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vzero-data contamination: error:") and message in err[0]


def test_dedup_and_fingerprint_commands(fixture, tmp_path, capsys):
    import shutil

    root, _ = fixture
    store = shutil.copytree(root / "store", tmp_path / "store")
    assert main(["fingerprint", str(store)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["dedup", str(store), "--dry-run", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["removed"] == 0 and result["rejects_written"] == 0  # every training question differs
