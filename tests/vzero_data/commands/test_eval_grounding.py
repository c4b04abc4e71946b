import json

from tests.vzero_data.grounding.test_store_eval import REGIONS, SAMPLES, write_store
from vzero_data.cli import main


def test_eval_grounding_prints_a_table(tmp_path, capsys):
    store = write_store(tmp_path / "store", SAMPLES, REGIONS)
    assert main(["eval-grounding", str(store)]) == 0
    out = capsys.readouterr().out
    assert "3 samples with ground truth (1 without, skipped); recall at IoU >= 0.5" in out
    assert "dino                     selected    66.7%     0.667       1" in out


def test_eval_grounding_json(tmp_path, capsys):
    store = write_store(tmp_path / "store", SAMPLES, REGIONS)
    assert main(["eval-grounding", str(store), "--json", "--iou", "0.3", "--grounder", "dino"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["iou_threshold"] == 0.3 and list(report["grounders"]) == ["dino"]


def test_eval_grounding_on_a_folder_that_is_no_store(tmp_path, capsys):
    assert main(["eval-grounding", str(tmp_path)]) == 2
    assert "not a vzero store" in capsys.readouterr().err
