"""The groundingdino-py adapter. The real package cannot import here (it needs torchvision and a
CUDA extension), so its conversion logic is tested against a stand-in module."""

import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

from vzero_data.grounding import get_grounder
from vzero_data.grounding.backends.groundingdino_py import (
    GroundingDinoPyUnavailable,
    cxcywh_normalized_to_xyxy,
    resized_size,
)


def test_missing_package_recommends_the_transformers_backend(monkeypatch):
    monkeypatch.setitem(sys.modules, "groundingdino", None)
    with pytest.raises(GroundingDinoPyUnavailable, match="Use the 'grounding-dino' backend"):
        get_grounder("groundingdino-py", model="w.pth", config_file="cfg.py", device="cpu")


@pytest.fixture
def fake_groundingdino(monkeypatch):
    calls = {}

    def load_model(config_path, checkpoint_path, device="cuda"):
        calls["load"] = (config_path, checkpoint_path, device)
        return "model"

    def predict(model, image, caption, box_threshold, text_threshold, device="cuda"):
        calls.setdefault("predict", []).append((tuple(image.shape), caption, box_threshold, text_threshold))
        boxes = torch.tensor([[0.5, 0.5, 0.2, 0.4], [0.1, 0.1, 0.4, 0.4]])
        return boxes, torch.tensor([0.6, 0.8]), ["cat", "cat"]

    package = types.ModuleType("groundingdino")
    util = types.ModuleType("groundingdino.util")
    inference = types.ModuleType("groundingdino.util.inference")
    inference.load_model, inference.predict = load_model, predict
    package.util, util.inference = util, inference
    for name, module in [
        ("groundingdino", package),
        ("groundingdino.util", util),
        ("groundingdino.util.inference", inference),
    ]:
        monkeypatch.setitem(sys.modules, name, module)
    return calls


def test_adapter_converts_the_original_outputs(fake_groundingdino):
    grounder = get_grounder(
        "groundingdino-py", model="w.pth", config_file="cfg.py", device="cpu", threshold=0.3
    )
    (regions,) = grounder.locate([Image.new("RGB", (1000, 500))], ["Red Car"])
    assert fake_groundingdino["load"] == ("cfg.py", "w.pth", "cpu")
    assert fake_groundingdino["predict"] == [((3, 666, 1332), "red car.", 0.3, 0.25)]
    # sorted by score; the second box starts outside the image and is clipped
    assert [r.box.to_list() for r in regions] == [
        pytest.approx([0, 0, 300, 150]),
        pytest.approx([400, 150, 600, 350]),
    ]
    assert [r.score for r in regions] == pytest.approx([0.8, 0.6])
    assert grounder.provenance["params"]["config_file"] == "cfg.py"


@pytest.mark.parametrize(
    "cxcywh, size, xyxy",
    [
        ([0.5, 0.5, 1.0, 1.0], (640, 480), [0, 0, 640, 480]),
        ([0.25, 0.75, 0.1, 0.2], (200, 100), [40, 65, 60, 85]),
    ],
)
def test_cxcywh_normalized_to_xyxy(cxcywh, size, xyxy):
    assert cxcywh_normalized_to_xyxy(np.array([cxcywh]), *size)[0].tolist() == pytest.approx(xyxy)


@pytest.mark.parametrize(
    "size, expected",
    [
        ((1000, 500), (1332, 666)),
        ((640, 480), (1066, 800)),
        ((500, 1000), (666, 1332)),
        ((800, 800), (800, 800)),
    ],
)
def test_resize_matches_the_original_800_1333_rule(size, expected):
    assert resized_size(*size, 800, 1333) == expected
