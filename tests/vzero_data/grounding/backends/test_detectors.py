"""Grounding DINO and OWLv2 on tiny random checkpoints loaded by path, through the normal code."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from vzero_data.grounding import get_grounder
from vzero_data.grounding.backends.grounding_dino import grounding_dino_caption
from vzero_data.grounding.backends.owlv2 import owlv2_queries, owlv2_target_size

SIZES = [(320, 200), (150, 400), (256, 256), (97, 301), (640, 90)]
BACKENDS = [
    ("grounding-dino", "grounding_dino", {"threshold": 0.0, "text_threshold": 0.0}),
    ("owlv2", "owlv2", {"threshold": 0.0}),
]


def noise(width, height, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8))


@pytest.fixture(scope="module", params=BACKENDS, ids=[b[0] for b in BACKENDS])
def detector(request, tiny_model_path):
    name, family, options = request.param
    return get_grounder(
        name, model=str(tiny_model_path(family)), device="cpu", batch_size=2, max_regions=5, **options
    )


def test_regions_are_well_formed_in_the_original_frame(detector):
    images = [noise(w, h, i) for i, (w, h) in enumerate(SIZES)]
    results = detector.locate(images, ["a red triangle", "Small Blue", "the triangle. red", "red", "blue."])
    assert len(results) == len(images)
    for image, regions in zip(images, results, strict=True):
        assert 1 <= len(regions) <= 5
        assert [r.score for r in regions] == sorted((r.score for r in regions), reverse=True)
        for r in regions:
            values = r.box.to_list()
            assert all(math.isfinite(v) for v in values)
            assert 0 <= r.box.x1 < r.box.x2 <= image.width and 0 <= r.box.y1 < r.box.y2 <= image.height
            assert 0.0 <= r.score <= 1.0
    assert detector.provenance["model"] == detector.options.model
    assert detector.timings.model_inputs == len(images)


def test_boxes_match_the_raw_predictions_scaled_to_the_original_image(detector):
    """The frame check: each region is a raw normalized prediction scaled by the original size
    (Grounding DINO) or by the padded square's side (OWLv2), then clipped."""
    image = noise(300, 120)
    prepared = detector._prepare([image], ["red"])
    outputs = detector._forward(prepared)
    cx, cy, w, h = outputs.pred_boxes[0].T.numpy()
    sx, sy = (300, 120) if detector.name == "grounding-dino" else (300, 300)
    raw = np.stack([(cx - w / 2) * sx, (cy - h / 2) * sy, (cx + w / 2) * sx, (cy + h / 2) * sy], 1)
    clipped = np.clip(raw, 0, [300, 120, 300, 120])
    for region in detector.locate([image], ["red"])[0]:
        assert np.abs(clipped - region.box.to_list()).max(axis=1).min() < 1e-3


def fake_outputs(model_outputs, cxcywh, n_tokens):
    """One confident box (query 0) at ``cxcywh``; every other query scores 0."""
    model_outputs.pred_boxes = torch.zeros_like(model_outputs.pred_boxes)
    model_outputs.pred_boxes[0, 0] = torch.tensor(cxcywh)
    model_outputs.logits = torch.full_like(model_outputs.logits, float("-inf"))
    model_outputs.logits[0, 0, : min(n_tokens, model_outputs.logits.shape[-1])] = 20.0
    return model_outputs


@pytest.mark.parametrize(
    "size, cxcywh, grounding_dino_box, owlv2_box",
    [
        # landscape 800x400: OWLv2 pads to 800x800, so y fractions are of 800, not 400
        ((800, 400), [0.5, 0.25, 0.5, 0.5], [200, 0, 600, 200], [200, 0, 600, 400]),
        # portrait 300x600: x fractions are of 600 for OWLv2
        ((300, 600), [0.25, 0.5, 0.25, 0.5], [37.5, 150, 112.5, 450], [75, 150, 225, 450]),
        ((500, 500), [0.5, 0.5, 0.2, 0.4], [200, 150, 300, 350], [200, 150, 300, 350]),
    ],
)
def test_known_prediction_maps_to_known_pixels(detector, size, cxcywh, grounding_dino_box, owlv2_box):
    image = noise(*size)
    prepared = detector._prepare([image], ["red"])
    outputs = fake_outputs(detector._forward(prepared), cxcywh, prepared["input_ids"].shape[-1] - 1)
    (regions,) = detector._postprocess(outputs, prepared, [image], ["red"])
    expected = grounding_dino_box if detector.name == "grounding-dino" else owlv2_box
    assert regions[0].box.to_list() == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize(
    "size, expected", [((800, 400), (800, 800)), ((300, 600), (600, 600)), ((5, 5), (5, 5))]
)
def test_owlv2_target_size_is_the_padded_square(size, expected):
    assert owlv2_target_size(*size) == expected


@pytest.mark.parametrize(
    "phrase, caption, queries",
    [
        ("Red Car", "red car.", ["red car"]),
        ("a cat. a  dog", "a cat. a dog.", ["a cat", "a dog"]),
        ("  The sign. ", "the sign.", ["the sign"]),
    ],
)
def test_phrase_formats(phrase, caption, queries):
    assert grounding_dino_caption(phrase) == caption
    assert owlv2_queries(phrase) == queries


def test_default_thresholds_and_checkpoints():
    from vzero_data.grounding.backends.grounding_dino import GroundingDinoOptions
    from vzero_data.grounding.backends.owlv2 import Owlv2Options

    gd = GroundingDinoOptions()
    assert (gd.model, gd.threshold, gd.text_threshold) == ("IDEA-Research/grounding-dino-tiny", 0.35, 0.25)
    assert Owlv2Options().model == "google/owlv2-base-patch16-ensemble"


def test_locate_checks_its_inputs(detector):
    with pytest.raises(ValueError, match="2 images but 1 phrases"):
        detector.locate([noise(10, 10), noise(10, 10)], ["a"])
    with pytest.raises(ValueError, match="phrase 0 is empty"):
        detector.locate([noise(10, 10)], ["  "])


def test_owlv2_padding_queries_of_a_batch_find_nothing(tiny_model_path):
    """In a batch, an image with fewer queries is padded with blank " " queries the model does not
    mask: a box only a padding query likes must not be reported for that image."""
    owl = get_grounder("owlv2", model=str(tiny_model_path("owlv2")), device="cpu", threshold=0.0)
    images, phrases = [noise(200, 100, 1), noise(200, 100, 2)], ["red", "a cat. a dog"]
    prepared = owl._prepare(images, phrases)
    outputs = owl._forward(prepared)
    assert outputs.logits.shape[-1] == 2  # image 0's query list was padded to two
    outputs.pred_boxes = outputs.pred_boxes.clone()
    outputs.pred_boxes[:, 0] = torch.tensor([0.5, 0.25, 0.5, 0.5])
    outputs.logits = torch.full_like(outputs.logits, float("-inf"))
    outputs.logits[:, 0, 1] = 20.0  # query 1: padding for image 0, "a dog" for image 1
    regions = owl._postprocess(outputs, prepared, images, phrases)
    assert regions[0] == []
    assert [r.box.to_list() for r in regions[1]] == [pytest.approx([50, 0, 150, 100], abs=1e-3)]
