"""Visual tokens per image, by the image processor's own arithmetic.

A Qwen-VL processor resizes each image to multiples of ``patch_size * merge_size`` within its pixel
bounds (``smart_resize``: ``size.shortest_edge`` / ``size.longest_edge`` are the min and max pixel
counts), cuts it into ``patch_size`` patches and merges ``merge_size x merge_size`` patches into one
token. Idefics3 / SmolVLM split an image into tiles plus a global view, ``image_seq_len`` tokens
each. Rather than repeating that arithmetic, this module asks the family's image processor class,
configured from the model's own preprocessor settings, through ``get_number_of_image_patches``, the
method transformers itself uses to count placeholders without an image.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from vzero_train.memory_plan.model_shapes import ModelConfigError, ModelShape

QWEN_TYPES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe")
# The PIL variants (no torchvision needed), else the classes older transformers releases name so.
IMAGE_PROCESSORS = {
    **dict.fromkeys(QWEN_TYPES, ("Qwen2VLImageProcessorPil", "Qwen2VLImageProcessor")),
    "idefics3": ("Idefics3ImageProcessorPil", "Idefics3ImageProcessor"),
    "smolvlm": ("SmolVLMImageProcessorPil", "SmolVLMImageProcessor"),
}
# The processors' own defaults when processor_config.json does not say (Idefics3Processor, SmolVLMProcessor).
DEFAULT_IMAGE_SEQ_LEN = {"idefics3": 169, "smolvlm": 169}
_DROP = ("image_processor_type", "processor_class", "auto_map", "image_seq_len")


def image_processor(model: ModelShape) -> Any:
    """The family's image processor (the PIL variant: no torchvision needed) with the model's settings."""
    import transformers

    names = IMAGE_PROCESSORS.get(model.model_type, ())
    # the first that exists; asking for a later one would import it (and warn without torchvision)
    cls = next((c for c in (getattr(transformers, n, None) for n in names) if c is not None), None)
    if cls is None:
        raise ModelConfigError(f"{model.folder}: no visual-token rule for model type {model.model_type!r}")
    settings = {k: v for k, v in model.preprocessor.items() if k not in _DROP}
    try:
        return cls(**settings)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelConfigError(
            f"{model.folder / 'preprocessor_config.json'}: the image processor rejects these settings ({exc})"
        ) from None


class VisualTokens:
    """``tokens(width, height)``: the visual tokens one image of that size becomes for ``model``."""

    def __init__(self, model: ModelShape) -> None:
        self.model_type = model.model_type
        self.processor = image_processor(model)
        self.image_seq_len = int(
            model.preprocessor.get("image_seq_len", DEFAULT_IMAGE_SEQ_LEN.get(model.model_type, 0))
        )
        self.tokens = lru_cache(maxsize=None)(self._tokens)

    def _tokens(self, width: int, height: int) -> int:
        if width < 1 or height < 1:
            raise ValueError(f"an image of {width}x{height} pixels has no visual tokens")
        if self.model_type in QWEN_TYPES:
            patches = self.processor.get_number_of_image_patches(height, width)
            return int(patches) // self.processor.merge_size**2
        tiles = self.processor.get_number_of_image_patches(height, width)
        tiles = tiles[0] if isinstance(tiles, tuple) else tiles
        return int(tiles) * self.image_seq_len

    def patches(self, width: int, height: int) -> int:
        """Vision-tower patches (before merging) of one image: the tower's sequence length."""
        if self.model_type in QWEN_TYPES:
            return int(self.processor.get_number_of_image_patches(height, width))
        return self.tokens(width, height)
