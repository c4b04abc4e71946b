import pytest

from vzero_data.grounding import GROUNDERS, UnknownGrounderError, get_grounder, register_grounder
from vzero_data.grounding.backends.annotated import AnnotatedGrounder


def test_builtin_grounders():
    assert {"annotated", "grounding-dino", "owlv2", "qwen-vl", "groundingdino-py"} <= set(GROUNDERS)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(
        UnknownGrounderError, match="unknown grounder 'yolo'; known: annotated, grounding-dino"
    ):
        get_grounder("yolo")


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("grounding-dino", {"threshold": 1.5}, "invalid options for grounder 'grounding-dino': threshold"),
        ("owlv2", {"box_threshold": 0.3}, "box_threshold: Extra inputs are not permitted"),
        ("qwen-vl", {"prompt": "Find it."}, "prompt must contain {phrase}"),
        ("grounding-dino", {"tiling": {"overlap": 0.95}}, "tiling.overlap"),
        ("groundingdino-py", {"model": "x.pth"}, "config_file: Field required"),
        ("annotated", {"dtype": "float16"}, "dtype: Extra inputs"),
    ],
)
def test_options_are_validated_before_anything_loads(name, options, message):
    with pytest.raises(ValueError, match=message):
        get_grounder(name, **options)


def test_plugins_register_by_name(monkeypatch):
    monkeypatch.setitem(GROUNDERS, "my-boxes", AnnotatedGrounder)
    assert isinstance(get_grounder("my-boxes", score=0.5), AnnotatedGrounder)
    with pytest.raises(ValueError, match="already registered"):
        register_grounder("owlv2", AnnotatedGrounder)


def test_register_grounder_adds_a_name(monkeypatch):
    monkeypatch.setattr("vzero_data.grounding.registry.GROUNDERS", dict(GROUNDERS))
    from vzero_data.grounding import registry

    registry.register_grounder("mine", "vzero_data.grounding.backends.annotated:AnnotatedGrounder")
    assert registry.grounder_class("mine") is AnnotatedGrounder


def test_builtin_classes_satisfy_the_grounder_protocol():
    from vzero_data.grounding import Grounder
    from vzero_data.grounding.registry import grounder_class

    assert isinstance(AnnotatedGrounder(), Grounder)
    for name in GROUNDERS:
        cls = grounder_class(name)
        assert all(hasattr(cls, attr) for attr in ("locate", "provenance", "device", "Options", "name"))
