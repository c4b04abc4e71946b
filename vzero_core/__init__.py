"""vzero_core: what curation (``vzero_data``) and training (``vzero_train``) both stand on.

The sample schema, boxes and their converters, multiple-choice options, prompt text, image IO,
published-file row readers, model loading (processors, tiny offline models, model sources), the
command-line conventions, progress reporting and recipe plumbing. Nothing here curates or trains:
``vzero_core`` imports neither half, ``vzero_data`` builds on it, and ``vzero_train`` builds on both.
"""

__version__ = "0.1.0"
