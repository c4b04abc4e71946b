"""The zooming gap: each item with evidence answered on the full image and with the crop added, on a
V*-layout folder and a tiny model; the crop is cut from the boxes with curation's crop policy."""

import json

import pytest
from PIL import Image

from vzero_core.boxes import Box
from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks.items import EvalItem, image_from_file
from vzero_data.views import CropPolicy
from vzero_train.evaluate.zoom_gap import NO_EVIDENCE, evidence_crop, zoom_gap_table


def _vstar(root, n=3):
    sub = root / "vstar" / "direct_attributes"
    sub.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (120, 90), (20 * i, 60, 90)).save(sub / f"sa_{i}.jpg")
        item = {"target_object": ["cup"], "question": "What colour is the cup?", "options": ["red", "blue"]}
        if i:  # the first item has no box: skipped with its reason
            item["bbox"] = [[10 + i, 20, 30, 15], [70, 50, 10, 10]]
        (sub / f"sa_{i}.json").write_text(json.dumps(item), encoding="utf-8")
    return root / "vstar"


def test_evidence_crop_is_the_union_of_the_boxes_under_the_crop_policy(tmp_path):
    Image.new("RGB", (120, 90)).save(tmp_path / "i.png")
    item = EvalItem(
        "x",
        "b",
        "q?",
        "a",
        image_from_file(tmp_path / "i.png"),
        boxes=(Box(10, 20, 40, 35), Box(70, 50, 80, 60)),
    )
    assert evidence_crop(item, item.load_image()).size == (70, 40)
    assert evidence_crop(item, item.load_image(), CropPolicy(margin_ratio=0.5)).size == (105, 60)
    bare = EvalItem("y", "b", "q?", "a", image_from_file(tmp_path / "i.png"))
    assert evidence_crop(bare, bare.load_image()) is None


@pytest.mark.needs_model
def test_zoom_gap_on_a_vstar_folder(tmp_path, tiny_vlm):
    from vzero_core.vlm.models import load_vlm
    from vzero_train.evaluate.zoom_gap import evaluate_zoom_gap

    vlm = load_vlm(tiny_vlm("qwen2_5_vl"), device="cpu")
    bench = open_benchmark(_vstar(tmp_path), "vstar")
    result = evaluate_zoom_gap(
        vlm, bench.items(), batch_size=2, max_new_tokens=3, name="vstar", progress=False
    )
    assert [r.item_id for r in result.full.results] == [r.item_id for r in result.zoomed.results]
    assert len(result.full.results) == 2 and [s.reason for s in result.skipped] == [NO_EVIDENCE]
    summary = result.summary()
    assert summary["full"]["n"] == summary["zoomed"]["n"] == summary["gap"]["n_pairs"] == 2
    assert "| vstar | 2 |" in zoom_gap_table([summary])


@pytest.mark.e2e
def test_cli_zoom_gap_report(tmp_path, tiny_vlm):
    from vzero_train.cli import main

    out = tmp_path / "gap"
    code = main(
        [
            "--no-progress",
            "eval",
            "--zoom-gap",
            "--model",
            tiny_vlm("qwen2_5_vl"),
            "--data",
            str(_vstar(tmp_path)),
            "--format",
            "vstar",
            "--max-new-tokens",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads((out / "zoom_gap.json").read_text())
    (row,) = report["zoom_gap"]
    assert row["benchmark"] == "vstar" and row["full"]["n"] == 2 and row["skipped"] == 1
    assert "+ crop" in (out / "zoom_gap.md").read_text()
