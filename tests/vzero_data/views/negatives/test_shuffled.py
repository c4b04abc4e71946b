import numpy as np
import pytest

from vzero_data.views import CropPolicy, negative_view, positive_view
from vzero_data.views.negatives.shuffled import shuffle_patches

from ..conftest import colour_mask


@pytest.mark.parametrize("grid", [2, 3, 4, 8])
def test_every_patch_moves_and_pixels_are_kept(grid):
    size = grid * 5 + grid - 1  # 5-pixel patches; grid - 1 leftover rows/columns stay in place
    pixels = np.arange(size * size * 3, dtype=np.int64).reshape(size, size, 3).astype(np.uint8)
    ids = (
        np.repeat(np.arange(grid * grid), 25)
        .reshape(grid, grid, 5, 5)
        .swapaxes(1, 2)
        .reshape(grid * 5, grid * 5)
    )
    labelled = pixels.copy()
    labelled[: grid * 5, : grid * 5, 0] = ids
    out = shuffle_patches(labelled, grid, np.random.default_rng(0))
    moved = out[: grid * 5, : grid * 5, 0].reshape(grid, 5, grid, 5).swapaxes(1, 2)[:, :, 0, 0]
    assert sorted(moved.ravel()) == list(range(grid * grid))
    assert not np.any(moved.ravel() == np.arange(grid * grid)), "no patch stays in its cell"
    assert np.array_equal(out[grid * 5 :], labelled[grid * 5 :])
    assert np.array_equal(out[:, grid * 5 :], labelled[:, grid * 5 :])


@pytest.mark.parametrize("index", range(4))
def test_shuffled_keeps_the_target_pixels_but_not_its_shape(scenes, index):
    image, target, rgb = scenes[index]
    pos = positive_view(image, target, CropPolicy(margin_ratio=1.0, min_side=32))
    view = negative_view("shuffled", image, target, {"grid": 4}, 7, positive=pos)
    flat = lambda a: np.sort(a.reshape(-1, 3).view(np.dtype((np.void, 3))).ravel())  # noqa: E731
    assert np.array_equal(flat(view.pixels), flat(pos.pixels)), "same multiset of pixels"
    before, after = colour_mask(pos.pixels, rgb), colour_mask(view.pixels, rgb)
    assert before.sum() == after.sum() > 0
    assert (before & after).sum() / before.sum() < 0.5, "the target's pixels are no longer where they were"
