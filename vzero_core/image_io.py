"""The one place vzero decodes encoded images: size limit first, then pixels, always RGB.

Every decode goes through :func:`decode_image` (or :func:`probe_image` for header-only facts) so the
decompression-bomb limit is enforced everywhere and errors name the file they came from.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image

# PIL's own hard limit (2 x Image.MAX_IMAGE_PIXELS); about 179 megapixels.
DEFAULT_MAX_PIXELS = 178_956_970

_PIL_LIMIT_LOCK = threading.Lock()


class ImageDecodeError(ValueError):
    """An image that cannot be decoded, or that exceeds the pixel limit."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Header facts of an encoded image."""

    width: int
    height: int
    format: str  # lower-case PIL format name: 'png', 'jpeg', 'webp', ...


def _open(data: bytes, where: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and enforce ``max_pixels`` before any pixel is decoded."""
    with _PIL_LIMIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        # PIL refuses images above 2x its limit on open; let our own (configurable) limit decide.
        Image.MAX_IMAGE_PIXELS = None
        try:
            img = Image.open(io.BytesIO(data))
        except Exception as exc:
            raise ImageDecodeError(f"{where}: not a readable image ({type(exc).__name__}: {exc})") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    width, height = img.size
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"{where}: image of {width}x{height} = {width * height} pixels exceeds the limit of "
            f"{max_pixels} pixels (decompression-bomb guard; raise max_pixels if the image is genuine)"
        )
    return img


def probe_image(data: bytes, where: str = "<bytes>", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Width, height and format from the header, without decoding pixels."""
    img = _open(data, where, max_pixels)
    return ImageInfo(img.size[0], img.size[1], (img.format or "unknown").lower())


def to_rgb(img: Image.Image) -> Image.Image:
    """``img`` as 8-bit RGB. 16-bit grayscale (PIL modes ``I;16*`` and ``I``) is scaled down by
    dropping the low byte, as OpenCV's decode does, instead of PIL's ``convert`` clipping every value
    above 255 to white. The pixels stay in the encoded frame: EXIF orientation is not applied."""
    if img.mode == "RGB":
        return img
    if img.mode.startswith("I;16") or img.mode == "I":
        import numpy as np

        wide = np.asarray(img).astype(np.int64)
        if img.mode == "I" and wide.size and (wide.min() < 0 or wide.max() > 65535):
            lo, hi = int(wide.min()), int(wide.max())  # genuine 32-bit data: stretch its range
            wide = (wide - lo) * 65535 // max(hi - lo, 1)
        gray = (np.clip(wide, 0, 65535) >> 8).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    return img.convert("RGB")


def decode_image(data: bytes, where: str = "<bytes>", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode fully into an RGB ``PIL.Image``; truncated or corrupt data raises :class:`ImageDecodeError`.

    The result is in the encoded pixel frame (EXIF orientation ignored, as the views' OpenCV decode
    ignores it), so sizes, boxes and crops all refer to the same pixels; 16-bit images are scaled to
    8 bits (:func:`to_rgb`)."""
    img = _open(data, where, max_pixels)
    try:
        img.load()
        return to_rgb(img)
    except Exception as exc:
        raise ImageDecodeError(f"{where}: image data is corrupt ({type(exc).__name__}: {exc})") from exc


def exif_rotated(data: bytes) -> bool:
    """Whether the image carries an EXIF orientation that swaps width and height when displayed
    (orientations 5-8); vzero keeps the encoded frame, so a size declared in the displayed frame
    will not match."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:
        return False


def encode_image(image: Image.Image, fmt: str = "png") -> bytes:
    """Encode a PIL image (PNG by default: lossless, so views regenerate bit for bit)."""
    buf = io.BytesIO()
    image.save(buf, format=fmt.upper())
    return buf.getvalue()
