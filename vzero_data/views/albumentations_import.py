"""albumentations, imported once, quietly and without its optional extras.

On import, albumentations asks PyPI for a newer version (an HTTP request with a 2 s timeout, made in
every worker process that imports it); curation runs offline and must not wait on the network, so
the check is switched off unless the user asked for it.

albumentations also imports torch (for its ``ToTensorV2``) and huggingface_hub (for its hub mixin)
when they are installed, and treats both as optional: without them it imports the rest and leaves
those two features out. The views use neither, and importing them is most of albumentations' import
time (about 2 of 3 s of CPU on this project's CI machines), paid by every fork server a curation
run starts before its first worker can begin. So they are hidden while albumentations imports, as
if they were not installed: only those not imported yet, and only for the duration of the import,
so a later ``import torch`` anywhere in the process works as usual. In a process that already holds
torch (a grounding model loaded it) albumentations imports its extras as it normally would.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

OPTIONAL_EXTRAS = ("torch", "huggingface_hub")


def _import_without_extras():
    """``import albumentations`` with the :data:`OPTIONAL_EXTRAS` not yet imported hidden from it."""
    hidden = [name for name in OPTIONAL_EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # ``import name`` raises ImportError
    try:
        import albumentations
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return albumentations


albumentations = _import_without_extras()

__all__ = ["OPTIONAL_EXTRAS", "albumentations"]
