"""On synthetic scenes the target's colour is unique, so colour tells where a view's pixels came from."""

import numpy as np
import pytest

from vzero_data.views import CropPolicy, InMemoryImagePool, negative_view, positive_view, view_seed

from .conftest import colour_mask

POLICY = CropPolicy(margin_ratio=1.0, min_side=32)


@pytest.mark.parametrize("index", range(4))
def test_positive_crops_show_the_target(scenes, index):
    image, target, rgb = scenes[index]
    view = positive_view(image, target, POLICY)
    assert colour_mask(view.pixels, rgb).sum() == colour_mask(image, rgb).sum() > 0


@pytest.mark.parametrize(
    "name, params",
    [
        ("distractor", {}),
        ("downsampled_distractor", {}),
        ("downsampled_distractor", {"factor": 4}),
        ("masked", {"fill": "black"}),
        ("masked", {"fill": "mean"}),
        ("masked", {"fill": "blur"}),
        ("masked", {"fill": "noise"}),
        ("masked", {"fill": "inpaint"}),
        ("masked", {"fill": "inpaint", "inpaint_method": "ns", "context_ratio": 1.0}),
    ],
)
@pytest.mark.parametrize("index", range(4))
def test_negatives_hold_none_of_the_target_pixels(scenes, index, name, params):
    image, target, rgb = scenes[index]
    pos = positive_view(image, target, POLICY)
    for k in range(3):
        view = negative_view(name, image, target, params, view_seed(f"scene{index}", name, k), positive=pos)
        assert not colour_mask(view.pixels, rgb).any()


def _painted_out(image, rgb):
    out = image.copy()
    out[colour_mask(out, rgb)] = (128, 128, 128)
    return out


@pytest.mark.parametrize("index", range(4))
def test_cross_image_views_hold_none_of_this_images_pixels(scenes, index):
    image, target, rgb = scenes[index]
    # Other scenes may draw objects in this target's colour; paint it out of them, so any target-coloured
    # pixel in the view could only have come from this image.
    pool = InMemoryImagePool(
        {f"scene{j}": _painted_out(other, rgb) for j, (other, _, _) in enumerate(scenes) if j != index}
        | {f"scene{index}": image}
    )
    pos = positive_view(image, target, POLICY)
    for k in range(5):
        view = negative_view(
            "cross_image", image, target, None, k, positive=pos, pool=pool, image_sha256=f"scene{index}"
        )
        assert view.source_image_sha256 != f"scene{index}" and view.box is None
        assert not colour_mask(view.pixels, rgb).any()
        other = pool._images[view.source_image_sha256]
        x1, y1, x2, y2 = (int(v) for v in view.checks["source_box"])
        assert np.array_equal(view.pixels, other[y1:y2, x1:x2])
