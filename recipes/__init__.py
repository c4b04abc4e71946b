"""The recipes that ship with vzero (installed as the ``vzero_recipes`` package); the code that
finds them by name is :mod:`vzero_core.recipes`."""
