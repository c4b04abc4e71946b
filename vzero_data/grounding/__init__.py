"""Grounding: localize the question-relevant region of each image.

>>> from vzero_data.grounding import get_grounder, select_regions, SelectionPolicy
>>> grounder = get_grounder("grounding-dino", model="IDEA-Research/grounding-dino-tiny")  # doctest: +SKIP
>>> regions = grounder.locate(images, phrases)  # per image: Regions, original xyxy pixels  # doctest: +SKIP
>>> chosen = select_regions(regions[0], width, height, SelectionPolicy(mode="top1"))  # doctest: +SKIP

Backends (:data:`GROUNDERS`): ``annotated``, ``grounding-dino``, ``owlv2``, ``qwen-vl``,
``groundingdino-py``. This package imports no torch; backends load it when built.
"""

from vzero_data.grounding.base import Grounder, GrounderOptions, ModelGrounder
from vzero_data.grounding.cross_check import cross_check
from vzero_data.grounding.phrases import (
    PhraseExtractor,
    RuleBasedExtractor,
    VLMPhraseExtractor,
    extract_phrase,
)
from vzero_data.grounding.region import Region
from vzero_data.grounding.registry import GROUNDERS, UnknownGrounderError, get_grounder, register_grounder
from vzero_data.grounding.selection import (
    REJECTION_REASONS,
    GroundingRejected,
    SelectionPolicy,
    select_regions,
)
from vzero_data.grounding.tiling import TiledGrounder, TilingConfig

__all__ = [
    "GROUNDERS",
    "REJECTION_REASONS",
    "Grounder",
    "GrounderOptions",
    "GroundingRejected",
    "ModelGrounder",
    "PhraseExtractor",
    "Region",
    "RuleBasedExtractor",
    "SelectionPolicy",
    "TiledGrounder",
    "TilingConfig",
    "UnknownGrounderError",
    "VLMPhraseExtractor",
    "cross_check",
    "extract_phrase",
    "get_grounder",
    "register_grounder",
    "select_regions",
]
