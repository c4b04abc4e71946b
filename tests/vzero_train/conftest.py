import pytest


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
