import json

import numpy as np
import pytest

from vzero_core.boxes import Box
from vzero_data.views import CropPolicy, View, negative_view, positive_view
from vzero_data.views.encoding import decode_rgb

from .conftest import noise_image

ROW_COLUMNS = {
    "view_id", "kind", "strategy", "params", "seed", "box", "source_image_sha256", "width", "height",
    "image_format", "image_quality", "image_bytes", "overlap_iou", "overlap_target", "valid", "checks",
}  # fmt: skip


@pytest.fixture
def pair():
    image = noise_image(160, 120)
    target = Box(20, 30, 40, 50)
    pos = positive_view(image, target, CropPolicy(min_side=24), seed=9)
    return pos, negative_view("distractor", image, target, None, 4, positive=pos)


def test_row_matches_the_store_views_table(pair):
    pos, neg = pair
    row = neg.to_row("sample-1")
    assert set(row) == ROW_COLUMNS
    assert row["kind"] == "negative" and row["strategy"] == "distractor" and row["seed"] == 4
    assert json.loads(row["params"]) == neg.params and row["params"] == json.dumps(
        neg.params, sort_keys=True, separators=(",", ":")
    )
    assert row["box"] == neg.box.to_list() and row["valid"] is True
    assert (row["width"], row["height"]) == (neg.width, neg.height)
    assert np.array_equal(decode_rgb(row["image_bytes"]), neg.pixels)
    assert json.loads(row["checks"])["target_box"] == [20.0, 30.0, 40.0, 50.0]
    assert pos.to_row("sample-1")["view_id"] != row["view_id"]
    assert neg.to_row("sample-2")["view_id"] != row["view_id"]


@pytest.mark.parametrize("fmt, lossless", [("png", True), ("webp", False), ("jpeg", False), ("jpg", False)])
def test_encodings_are_deterministic(pair, fmt, lossless):
    _, neg = pair
    data = neg.encode(fmt)
    assert data == neg.encode(fmt)
    if lossless:
        assert np.array_equal(decode_rgb(data), neg.pixels)
    assert neg.to_row(image_format=fmt)["image_format"] == ("jpeg" if fmt == "jpg" else fmt)


@pytest.mark.parametrize(
    "pixels, message",
    [
        (np.zeros((4, 4), np.uint8), "HxWx3 uint8"),
        (np.zeros((4, 4, 3), np.float32), "HxWx3 uint8"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
    ],
)
def test_bad_pixels_are_refused(pixels, message):
    with pytest.raises(ValueError, match=message):
        View("negative", "x", {}, 0, None, pixels, 0.0, 0.0)


def test_unknown_format_is_refused(pair):
    with pytest.raises(ValueError, match="known: png, jpeg, webp"):
        pair[0].encode("gif")


def test_decode_rgb_refuses_images_over_the_pixel_limit():
    from vzero_core.image_io import ImageDecodeError
    from vzero_data.views.encoding import encode_rgb

    data = encode_rgb(np.zeros((100, 120, 3), dtype=np.uint8), "png")
    assert decode_rgb(data, "small.png", max_pixels=12_000).shape == (100, 120, 3)
    with pytest.raises(ImageDecodeError, match="big.png"):
        decode_rgb(data, "big.png", max_pixels=11_999)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_decode_rgb_keeps_the_encoded_frame_whatever_the_exif_orientation(orientation):
    """Widths, heights and boxes are stored in the encoded frame (PIL's decode, the probe): a decode
    that applied EXIF rotation would cut views out of a rotated image."""
    import io

    from PIL import Image

    from vzero_core.image_io import decode_image, probe_image

    pixels = noise_image(100, 40)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    data = buf.getvalue()
    decoded = decode_rgb(data)
    info = probe_image(data)
    assert decoded.shape == (info.height, info.width, 3) == (40, 100, 3)
    reference = np.asarray(decode_image(data)).astype(int)
    assert np.abs(decoded.astype(int) - reference).mean() < 2.0
