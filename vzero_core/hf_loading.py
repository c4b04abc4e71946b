"""Loading Hugging Face models and processors the same way everywhere in vzero.

Two jobs: pick the device and dtype (``auto`` means cuda, then mps, then cpu; bf16 where the device
supports it), and load processors robustly. Multimodal processors of Qwen-VL and SmolVLM also carry
a video processor that needs torchvision; where torchvision is absent (CPU machines), loading falls
back to the same processor class without its video part, which is all image work needs.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "bfloat16", "float16")


def resolve_device(device: str = "auto"):
    """``auto`` -> cuda if available, else mps, else cpu; anything else is passed to ``torch.device``."""
    import torch

    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_dtype(dtype: str, device) -> Any:
    """``auto`` -> bfloat16 on a bf16-capable GPU, float32 otherwise; else the named dtype."""
    import torch

    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPES)}")
    if dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return getattr(torch, dtype)


IMAGE_ONLY_PREFIX = "ImageOnly"


@functools.cache
def image_only_processor_class(base_name: str) -> type:
    """Subclass of ``transformers.<base_name>`` whose constructor takes no video processor (or the
    class itself when it never had one).

    ``ProcessorMixin`` derives its sub-processors from the constructor's parameter names, so dropping
    ``video_processor`` from the signature is what stops it from trying to build one.
    """
    import transformers

    base = getattr(transformers, base_name, None)
    if base is None:
        raise ValueError(
            f"transformers has no processor class {base_name!r} (transformers {transformers.__version__})"
        )
    signature = inspect.signature(base.__init__)
    if "video_processor" not in signature.parameters:
        return base

    # transformers reads constructor arguments from ``__init__.__code__``, so the subclass needs a real
    # function with the base's parameters minus ``video_processor``: generate its source.
    params, calls, defaults = [], [], {}
    for name, param in signature.parameters.items():
        if name in ("self", "video_processor"):
            continue
        if param.kind is param.VAR_KEYWORD:
            params.append(f"**{name}")
            calls.append(f"**{name}")
            continue
        default = None if param.default is param.empty else param.default
        defaults[name] = default
        params.append(f"{name}=_defaults[{name!r}]")
        calls.append(f"{name}={name}")
    source = (
        f"def __init__(self, {', '.join(params)}):\n"
        f"    _base.__init__(self, video_processor=None, {', '.join(calls)})\n"
    )
    namespace: dict[str, Any] = {"_base": base, "_defaults": defaults}
    exec(source, namespace)  # noqa: S102 - source built above from a transformers signature
    __init__ = namespace["__init__"]
    return type(f"{IMAGE_ONLY_PREFIX}{base_name}", (base,), {"__init__": __init__, "__module__": __name__})


def public_processor_class(processor: Any) -> str:
    """The transformers class name of ``processor``: for vzero's image-only subclass, its base."""
    cls = type(processor)
    if cls.__name__.startswith(IMAGE_ONLY_PREFIX) and cls.__module__ == __name__:
        cls = cls.__mro__[1]
    return cls.__name__


def save_processor(processor: Any, folder: str | os.PathLike[str]) -> None:
    """``processor.save_pretrained(folder)`` in files plain transformers reads back.

    The saved config names the transformers class (never vzero's image-only subclass, which exists
    only inside a running vzero). A processor saved without its video part also gets the legacy
    ``preprocessor_config.json``: transformers builds the video processor from it where torchvision
    is installed, as it does for hub checkpoints that ship only that file.
    """
    folder = Path(folder)
    processor.save_pretrained(folder)
    name = public_processor_class(processor)
    for filename in ("processor_config.json", "tokenizer_config.json", "preprocessor_config.json"):
        path = folder / filename
        if not path.is_file():
            continue
        config = json.loads(path.read_text())
        if "processor_class" in config and config["processor_class"] != name:
            config["processor_class"] = name
            path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    image_processor = getattr(processor, "image_processor", None)
    legacy = folder / "preprocessor_config.json"
    if (
        getattr(processor, "video_processor", None) is None
        and image_processor is not None
        and not legacy.is_file()
    ):
        config = {**image_processor.to_dict(), "processor_class": name}
        legacy.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def _processor_class_name(name_or_path: str) -> str | None:
    for filename in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json"):
        path = Path(name_or_path) / filename
        if path.is_file():
            name = json.loads(path.read_text()).get("processor_class")
            if name:
                # folders saved before save_processor named vzero's runtime-only subclass
                return name.removeprefix(IMAGE_ONLY_PREFIX)
    return None


def load_processor(name_or_path: str | os.PathLike[str], **kwargs: Any):
    """Load a multimodal processor (image processor + tokenizer) from a folder or hub id.

    Tries ``AutoProcessor`` first; if that fails or returns a processor without an image
    processor (what happens without torchvision), rebuilds the declared processor class without its
    video part.
    """
    from transformers import AutoProcessor

    name_or_path = str(name_or_path)
    error: Exception | None = None
    try:
        processor = AutoProcessor.from_pretrained(name_or_path, **kwargs)
        if getattr(processor, "image_processor", None) is not None:
            return processor
    except (OSError, ImportError, AttributeError, ValueError, TypeError) as exc:
        error = exc
    class_name = _processor_class_name(name_or_path)
    if class_name is None:
        raise ValueError(
            f"cannot load an image processor from {name_or_path!r}: AutoProcessor failed ({error}) "
            "and no processor_class is declared in its config files"
        ) from error
    logger.debug(
        "AutoProcessor failed for %s (%s); loading %s without video", name_or_path, error, class_name
    )
    return image_only_processor_class(class_name).from_pretrained(name_or_path, **kwargs)
