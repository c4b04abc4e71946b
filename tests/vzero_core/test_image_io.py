import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from vzero_core.image_io import DEFAULT_MAX_PIXELS, ImageDecodeError, decode_image, encode_image, probe_image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width x height`` pixels but carries no data: a decompression-bomb stand-in."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _png(mode: str, size=(6, 4)) -> bytes:
    return encode_image(Image.new(mode, size), "png")


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "1", "I;16"])
def test_decode_always_gives_rgb(mode):
    img = decode_image(_png(mode), "x.png")
    assert img.mode == "RGB" and img.size == (6, 4)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_probe_reads_header_facts(fmt):
    buf = io.BytesIO()
    Image.new("RGB", (33, 17), (1, 2, 3)).save(buf, format=fmt.upper())
    info = probe_image(buf.getvalue())
    assert (info.width, info.height, info.format) == (33, 17, fmt)


@pytest.mark.parametrize(
    "data, max_pixels, message",
    [
        (png_header_only(20_000, 20_000), DEFAULT_MAX_PIXELS, "400000000 pixels exceeds the limit"),
        (_png("RGB", (20, 20)), 399, "exceeds the limit of 399"),
        (b"not an image", DEFAULT_MAX_PIXELS, "not a readable image"),
        (_png("RGB", (64, 64))[:60], DEFAULT_MAX_PIXELS, "corrupt|not a readable"),
    ],
)
def test_bad_images_raise_errors_naming_the_file(data, max_pixels, message):
    with pytest.raises(ImageDecodeError, match=message) as exc:
        decode_image(data, "data/evil.png", max_pixels=max_pixels)
    assert "data/evil.png" in str(exc.value)


def test_limit_above_pils_own_is_honoured_and_pil_limit_restored():
    saved = Image.MAX_IMAGE_PIXELS
    info = probe_image(png_header_only(20_000, 20_000), max_pixels=500_000_000)
    assert (info.width, info.height) == (20_000, 20_000)
    assert saved == Image.MAX_IMAGE_PIXELS


def sixteen_bit_png() -> tuple[bytes, np.ndarray]:
    wide = (np.arange(48 * 64).reshape(48, 64) * 21).astype(np.uint16)  # 0 .. 64491
    buf = io.BytesIO()
    Image.fromarray(wide).save(buf, format="PNG")
    return buf.getvalue(), wide


def test_16_bit_png_is_scaled_not_clipped_and_matches_the_views_decoder():
    from vzero_data.views.encoding import decode_rgb

    data, wide = sixteen_bit_png()
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    pixels = np.asarray(decode_image(data))
    assert pixels.shape == (48, 64, 3) and (pixels[..., 0] == (wide >> 8)).all()
    assert (pixels == 255).mean() < 0.01  # PIL's plain convert("RGB") leaves 99% white
    assert (decode_rgb(data) == pixels).all()  # the views' OpenCV decode gives the same pixels


def exif_rotated_jpeg(size=(40, 30), orientation=6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def test_exif_rotated_image_uses_the_stored_frame_everywhere():
    """Header facts, the PIL decode, the views' OpenCV decode and the evaluation loader agree on
    one frame (the stored pixels), so boxes, crops and declared sizes refer to the same pixels."""
    from vzero_core.image_io import exif_rotated
    from vzero_data.benchmarks.items import image_from_bytes
    from vzero_data.views.encoding import decode_rgb

    data = exif_rotated_jpeg()
    assert exif_rotated(data)
    assert (probe_image(data).width, probe_image(data).height) == (40, 30)
    assert decode_image(data).size == (40, 30)
    assert decode_rgb(data).shape == (30, 40, 3)
    assert image_from_bytes(data)().size == (40, 30)
