"""The one override parser both command lines use (``--set KEY=VALUE``)."""

import pytest

from vzero_core.recipe_base import RecipeError, apply_overrides, parse_override, scoped_overrides


@pytest.mark.parametrize(
    "text, expected",
    [
        ("steps=3", (["steps"], 3)),
        ("optim.lr=2e-6", (["optim", "lr"], 2e-6)),  # PyYAML alone reads "2e-6" as a string
        ("optim.lr=1E5", (["optim", "lr"], 1e5)),
        ("optim.lr=1.5e-3", (["optim", "lr"], 1.5e-3)),
        ("gate.enabled=false", (["gate", "enabled"], False)),
        ("rollout.top_k=null", (["rollout", "top_k"], None)),
        ("student=tiny:smolvlm", (["student"], "tiny:smolvlm")),
        ("data.strategies=[masked, shuffled]", (["data", "strategies"], ["masked", "shuffled"])),
        ("name=", (["name"], "")),
        ("name=e5", (["name"], "e5")),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("no-equals", "override 'no-equals': expected KEY.PATH=VALUE"),
        ("=3", "expected KEY.PATH=VALUE"),
        ("a..b=3", "empty part in the key"),
        ("a=[1, 2", "is not valid YAML"),
    ],
)
def test_bad_override(text, message):
    with pytest.raises(RecipeError, match=message):
        parse_override(text)


def test_apply_overrides_in_order_with_typed_pairs():
    data = {"a": {"b": 1}, "keep": [1]}
    out = apply_overrides(data, ["a.b=2", "c.d=x", ("a.path", "yes"), "a.b=2e-6"])
    assert out == {"a": {"b": 2e-6, "path": "yes"}, "c": {"d": "x"}, "keep": [1]}
    assert data == {"a": {"b": 1}, "keep": [1]}, "the input is not changed"
    assert apply_overrides(data, {"a.b": 5})["a"]["b"] == 5


def test_override_into_a_value_that_is_not_a_mapping():
    with pytest.raises(RecipeError, match="a.b is not a mapping"):
        apply_overrides({"a": {"b": 1}}, ["a.b.c=2"])


TRAIN_FIELDS = ("store", "steps", "optim", "teacher")


@pytest.mark.parametrize(
    "override, expected",
    [
        ("train.store=s", ("store", "s")),  # the full recipe path, as `vzero-data curate --set` takes
        ("store=s", ("store", "s")),  # the path inside the section, kept working
        ("train.optim.lr=2e-6", ("optim.lr", 2e-6)),
        ("optim.lr=2e-6", ("optim.lr", 2e-6)),
        (("teacher", {"kind": "frozen_self"}), ("teacher", {"kind": "frozen_self"})),
    ],
)
def test_section_overrides_take_the_full_recipe_path_or_the_path_inside(override, expected):
    assert scoped_overrides([override], "train", TRAIN_FIELDS) == [expected]


@pytest.mark.parametrize("override", ["source.path=x", "sft.steps=3", "train=3", "stpes=3"])
def test_a_key_outside_the_section_says_both_forms(override):
    key = override.split("=")[0]
    with pytest.raises(
        RecipeError, match=rf"{key} is not in the train: section; .* e.g. train.steps \(or steps\)"
    ):
        scoped_overrides([override], "train", TRAIN_FIELDS)
