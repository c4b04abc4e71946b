"""Every shipped recipe names the command that runs it and validates for each half it contains."""

from pathlib import Path

import pytest
import yaml

from vzero_data.pipeline.recipe import load_recipe
from vzero_train.config import load_train_config

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.yaml"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_recipe_starts_with_its_command_and_validates(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("# ") and f"recipes/{path.name}" in first, first
    doc = yaml.safe_load(path.read_text())
    assert "source" in doc or "train" in doc, "a recipe curates, trains, or both"
    if "source" in doc:
        assert "vzero-data curate" in first
        load_recipe(path)
    if "train" in doc:
        assert "train" in first
        load_train_config(path)
