import pytest
from PIL import Image

from vzero_core.boxes import Box
from vzero_core.sample import Sample
from vzero_data.grounding import get_grounder


def sample(boxes, size=(200, 100)):
    return Sample.create(
        image="x.png", image_sha256="0" * 64, width=size[0], height=size[1], question="What?", boxes=boxes
    )


def test_annotated_boxes_become_regions():
    grounder = get_grounder("annotated")
    images = [Image.new("RGB", (200, 100)), Image.new("RGB", (200, 100))]
    samples = [sample((Box(10, 10, 50, 50), Box(150, 20, 250, 90))), sample(())]
    first, second = grounder.locate(images, ["cat", "dog"], samples=samples)
    assert [r.box.to_list() for r in first] == [[10, 10, 50, 50], [150, 20, 200, 90]]
    assert all(r.score == 1.0 and r.phrase == "cat" for r in first)
    assert first[0].provenance["backend"] == "annotated"
    assert second == [], "a sample without boxes gets no region (selection then rejects it: no_box)"
    assert grounder.device == "cpu"


def test_annotated_needs_samples():
    with pytest.raises(ValueError, match="reads boxes from samples: got none"):
        get_grounder("annotated").locate([Image.new("RGB", (4, 4))], ["cat"])


def test_annotated_refuses_an_image_of_another_size():
    with pytest.raises(ValueError, match=r"sample [0-9a-f]+: image is 100x100 but the sample says 200x100"):
        get_grounder("annotated").locate([Image.new("RGB", (100, 100))], ["cat"], samples=[sample(())])
