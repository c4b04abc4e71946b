import pytest

from vzero_core import box_formats as bf
from vzero_core.boxes import Box, BoxError


@pytest.mark.parametrize(
    "xywh, box",
    [
        ([10, 20, 30, 40], Box(10, 20, 40, 60)),
        ([0, 0, 1, 1], Box(0, 0, 1, 1)),
        ([12.5, 7.25, 0.5, 0.75], Box(12.5, 7.25, 13, 8)),
    ],
)
def test_xywh_known_values(xywh, box):
    assert bf.box_from_xywh(xywh) == box


@pytest.mark.parametrize(
    "norm, size, box",
    [
        ([0.0, 0.0, 1.0, 1.0], (640, 480), Box(0, 0, 640, 480)),
        ([0.25, 0.5, 0.75, 1.0], (200, 100), Box(50, 50, 150, 100)),
    ],
)
def test_normalized_known_values(norm, size, box):
    assert bf.box_from_normalized(norm, *size) == box


@pytest.mark.parametrize(
    "grid, size, box",
    [
        ([0, 0, 1000, 1000], (1920, 1080), Box(0, 0, 1920, 1080)),
        ([500, 250, 750, 1000], (2000, 400), Box(1000, 100, 1500, 400)),
        ([100, 100, 200, 300], (1000, 1000), Box(100, 100, 200, 300)),
    ],
)
def test_grid1000_known_values(grid, size, box):
    assert bf.box_from_grid1000(grid, *size) == box


@pytest.mark.parametrize(
    "hw, expected",
    [
        ((1024, 1024), (1036, 1036)),  # 1024/28 = 36.57 -> 37 * 28
        ((448, 448), (448, 448)),
        ((480, 640), (476, 644)),
        ((28, 28), (56, 56)),  # below min_pixels: scaled up
        ((10, 10), (56, 56)),
        ((4000, 6000), (2912, 4368)),  # 24M px: scaled down under the 12.8M-pixel cap
    ],
)
def test_qwen25_smart_resize_known_values(hw, expected):
    h, w = bf.qwen25_smart_resize(*hw)
    assert h % 28 == 0 and w % 28 == 0
    assert bf.QWEN25_MIN_PIXELS <= h * w <= bf.QWEN25_MAX_PIXELS
    assert (h, w) == expected


@pytest.mark.needs_model
@pytest.mark.parametrize("hw", [(1024, 1024), (480, 640), (4000, 6000), (333, 1777), (28, 28), (8000, 3000)])
@pytest.mark.parametrize("limits", [{}, {"min_pixels": 256 * 28 * 28, "max_pixels": 1280 * 28 * 28}])
def test_qwen25_smart_resize_matches_transformers(hw, limits):
    smart_resize = pytest.importorskip(
        "transformers.models.qwen2_vl.image_processing_pil_qwen2_vl"
    ).smart_resize
    kwargs = {"min_pixels": bf.QWEN25_MIN_PIXELS, "max_pixels": bf.QWEN25_MAX_PIXELS, **limits}
    assert bf.qwen25_smart_resize(*hw, **kwargs) == smart_resize(*hw, factor=28, **kwargs)


@pytest.mark.parametrize(
    "resized_xyxy, size, limits, original_xyxy",
    [
        ([0, 0, 1036, 518], (1024, 1024), {}, [0, 0, 1024, 512]),  # 1024x1024 is resized to 1036x1036
        ([966, 546, 1932, 1092], (1920, 1080), {}, [960, 540, 1920, 1080]),  # 1920x1080 -> 1932x1092
        ([0, 0, 644, 476], (640, 480), {}, [0, 0, 640, 480]),  # 640x480 -> 644x476: the whole frame
    ],
)
def test_qwen25_frame_known_values(resized_xyxy, size, limits, original_xyxy):
    box = bf.box_from_qwen25_resized(resized_xyxy, *size, **limits)
    assert box.to_list() == pytest.approx(original_xyxy)


def test_qwen25_rejects_extreme_aspect_ratio():
    with pytest.raises(BoxError, match="aspect ratio"):
        bf.qwen25_smart_resize(10, 5000)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bf.box_from_xywh([1, 2, 3]),
        lambda: bf.box_from_xywh([0, 0, 0, 5]),  # zero width
        lambda: bf.box_from_normalized([0, 0, 1, 1], 0, 10),
        lambda: bf.box_from_grid1000([10, 10, 5, 20], 100, 100),
    ],
)
def test_bad_inputs_raise_box_error(call):
    with pytest.raises(BoxError):
        call()
