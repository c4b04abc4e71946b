import pytest

from vzero_data.sources import SOURCES, SourceError, get_source

EXPECTED = {
    "jsonl",
    "csv",
    "hf",
    "vstar",
    "visual_cot",
    "treebench",
    "coco",
    "synthetic",
    "vision_opd",
    "zwz",
}


def test_every_format_is_registered_with_a_description():
    assert set(SOURCES) == EXPECTED
    assert all(get_source(name).description for name in EXPECTED)


def test_unknown_format_lists_known_ones():
    with pytest.raises(SourceError, match="unknown source format 'yaml'; known: coco, csv, hf, jsonl"):
        get_source("yaml")
