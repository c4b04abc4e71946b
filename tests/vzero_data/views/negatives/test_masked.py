import numpy as np
import pytest

from vzero_core.boxes import Box
from vzero_data.views import CropPolicy, negative_view, positive_view

from ..conftest import noise_image

FILLS = ["black", "mean", "blur", "noise", "inpaint"]


@pytest.mark.parametrize("fill", FILLS)
def test_only_the_masked_box_changes(fill):
    image = noise_image(120, 100, seed=5)
    target = Box(50, 40, 62, 55)
    pos = positive_view(image, target, CropPolicy(margin_ratio=2.0))
    view = negative_view("masked", image, target, {"fill": fill, "mask_margin": 1}, 0, positive=pos)
    assert view.box == pos.box and view.overlap_target == 1.0
    ox, oy = int(pos.box.x1), int(pos.box.y1)
    mx1, my1, mx2, my2 = (int(v) for v in view.checks["mask_box"])
    assert [mx1, my1, mx2, my2] == [49, 39, 63, 56]
    outside = np.ones(pos.pixels.shape[:2], dtype=bool)
    outside[my1 - oy : my2 - oy, mx1 - ox : mx2 - ox] = False
    assert np.array_equal(view.pixels[outside], pos.pixels[outside])
    inside = view.pixels[~outside]
    assert not np.array_equal(inside, pos.pixels[~outside])
    if fill == "black":
        assert not inside.any()
    if fill == "mean":
        assert len(np.unique(inside.reshape(-1, 3), axis=0)) == 1


def test_context_ratio_widens_the_window():
    image = noise_image(200, 200, seed=1)
    target = Box(90, 90, 100, 100)
    pos = positive_view(image, target, CropPolicy(min_side=20))
    view = negative_view("masked", image, target, {"context_ratio": 1.0}, 0, positive=pos)
    assert view.box == Box(75, 75, 115, 115)
    assert view.pixels.shape == (40, 40, 3)
