import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory):
    """``tiny_vlm(family, role)``: the folder of a tiny random model, built once per session.

    Students are 64 wide, teachers 96 (same family -> same tokenizer); images are bounded to 224 px.
    """
    from vzero_data.tiny_models import save_tiny_model

    cache: dict[tuple[str, str], str] = {}

    def get(family: str, role: str = "student") -> str:
        key = (family, role)
        if key not in cache:
            path = tmp_path_factory.mktemp(f"{family}-{role}")
            hidden = 64 if role == "student" else 96
            cache[key] = str(
                save_tiny_model(family, path, hidden_size=hidden, seed=0 if role == "student" else 1)
            )
        return cache[key]

    return get


@pytest.fixture(scope="session")
def records():
    """Eight synthetic training records (224 px scenes, positive crop, two negative views)."""
    from vzero_train.synthetic import synthetic_records

    return synthetic_records(8, size=224)
