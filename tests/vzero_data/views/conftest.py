import numpy as np
import pytest

from vzero_core.boxes import Box
from vzero_data.synth import PALETTE, make_scene


def noise_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def colour_mask(pixels: np.ndarray, rgb) -> np.ndarray:
    return np.all(pixels == np.asarray(rgb, dtype=np.uint8), axis=-1)


@pytest.fixture(scope="session")
def scenes():
    """Four 512px synthetic scenes: (pixels, target box, target RGB) each; target colour unique per image."""
    out = []
    for index in range(4):
        scene = make_scene(11, index, 512)
        out.append((np.asarray(scene.image), scene.target.box, PALETTE[scene.target.color]))
    return out


@pytest.fixture
def box():
    return Box(40, 50, 60, 80)
