"""The curation pipeline: YAML recipes driving ingest, grounding, views, checks and store.

``load_recipe`` validates a recipe file before any work starts; ``runner.curate`` runs it,
resumably, on one machine (worker processes) or on Ray (imported from its module, so that reading a
recipe does not load the stages). See ``recipes/`` (``vzero-data recipes``) for examples.
"""

from vzero_core.recipe_base import RecipeError
from vzero_data.pipeline.config_hash import config_hash
from vzero_data.pipeline.load import load_recipe, recipe_from_mapping
from vzero_data.pipeline.recipe import Recipe

__all__ = ["Recipe", "RecipeError", "config_hash", "load_recipe", "recipe_from_mapping"]
