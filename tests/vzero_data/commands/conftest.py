from ..preview.conftest import samples, views_dir  # noqa: F401  (shared fixtures)
