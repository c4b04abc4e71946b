"""albumentations is imported without its optional torch and huggingface_hub extras (they cost a fork
server seconds and the views use neither), yet both stay importable, and a process that already
holds torch keeps albumentations' torch extras."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

PROBE = """
import json, sys
{before}
from vzero_data.views.albumentations_import import albumentations as A
after_import = {{m: m in sys.modules for m in ("torch", "huggingface_hub")}}
blur_works = A.GaussianBlur(blur_limit=0, sigma_limit=(2.0, 2.0), p=1.0) is not None
import torch, huggingface_hub  # still importable afterwards

print(json.dumps({{"after_import": after_import, "to_tensor": hasattr(A, "ToTensorV2"),
                  "blur": blur_works, "torch_later": hasattr(torch, "tensor")}}))
"""


def probe(before: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "before, torch_loaded_by_import, to_tensor",
    [
        ("", False, False),  # a fresh fork server: the extras stay out
        ("import torch", True, True),  # torch already there: albumentations uses it as usual
    ],
)
def test_albumentations_import_leaves_unloaded_extras_out(before, torch_loaded_by_import, to_tensor):
    got = probe(before)
    assert got["after_import"] == {"torch": torch_loaded_by_import, "huggingface_hub": False}
    assert got["to_tensor"] is to_tensor
    assert got["blur"] and got["torch_later"]
