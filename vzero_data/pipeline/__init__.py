"""The curation pipeline: YAML recipes driving ingest, grounding, views, checks and store.

``load_recipe`` validates a recipe file before any work starts; ``curate`` runs it, resumably, on
one machine (worker processes) or on Ray. See ``vzero_data/recipes/`` (``vzero-data recipes``) for examples.
"""

from vzero_data.pipeline.recipe import Recipe, RecipeError, load_recipe

__all__ = ["Recipe", "RecipeError", "load_recipe"]
