"""albumentations, imported once and quietly.

On import, albumentations asks PyPI for a newer version (an HTTP request with a 2 s timeout, made in
every worker process that imports it); curation runs offline and must not wait on the network, so
the check is switched off unless the user asked for it. The import itself (albumentations pulls in
torch) takes seconds: worker pools preload this module once in their fork server (see
``NegativeStrategy.preload``) instead of paying it in every worker.
"""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations  # noqa: E402

__all__ = ["albumentations"]
