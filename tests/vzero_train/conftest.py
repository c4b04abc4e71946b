import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory):
    """``tiny_vlm(family, role)``: the folder of a tiny random model, built once per session.

    Students are 64 wide, teachers 96 (same family -> same tokenizer); images are bounded to 224 px.
    """
    from vzero_core.tiny_models import save_tiny_vlm

    cache: dict[tuple[str, str], str] = {}

    def get(family: str, role: str = "student") -> str:
        key = (family, role)
        if key not in cache:
            path = tmp_path_factory.mktemp(f"{family}-{role}")
            hidden = 64 if role == "student" else 96
            cache[key] = str(
                save_tiny_vlm(family, path, hidden_size=hidden, seed=0 if role == "student" else 1)
            )
        return cache[key]

    return get


@pytest.fixture(scope="session")
def records():
    """Eight synthetic training records (224 px scenes, positive crop, two negative views)."""
    from vzero_train.synthetic import synthetic_records

    return synthetic_records(8, size=224)


@pytest.fixture
def train_config(tmp_path, tiny_vlm):
    """``train_config(family, **overrides)``: a one-step CPU run of tiny models under ``tmp_path/run``
    (2 prompts x 2 samples, one prompt per mini-batch, 6 new tokens)."""
    from vzero_train.config import TrainConfig

    def make(family: str = "qwen2_5_vl", **overrides) -> TrainConfig:
        base = dict(
            student=tiny_vlm(family),
            teacher={"kind": "external", "path": tiny_vlm(family, "teacher")},
            output_dir=str(tmp_path / "run"),
            steps=1,
            prompts_per_step=2,
            num_mini_batches=2,
            micro_batch_size=1,
            replay_batch_size=4,
            rollout={"group_size": 2, "max_new_tokens": 6},
            optim={"lr": 1e-3},
            data={"shuffle_buffer": 1},
            save_every=100,
            device="cpu",
            tensorboard=False,
        )
        return TrainConfig.model_validate({**base, **overrides})

    return make
