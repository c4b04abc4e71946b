"""What `vzero-train train` saves is what `vzero-train eval` and plain transformers load."""

import importlib.util
import inspect
import json

import pytest

from vzero_core.tiny_models import VLM_FAMILIES
from vzero_data.synth import write_scenes
from vzero_train.cli import main
from vzero_train.trainer import Trainer


def transformers_can_build_processor(processor_class: str) -> bool:
    """Plain AutoProcessor builds a processor with a video part only where torchvision is installed."""
    import transformers

    init = getattr(transformers, processor_class).__init__
    has_video = "video_processor" in inspect.signature(init).parameters
    return not has_video or importlib.util.find_spec("torchvision") is not None


@pytest.mark.e2e
@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_trained_checkpoint_evaluates(tmp_path, train_config, records, family, capsys):
    import transformers
    from transformers import AutoModelForImageTextToText, AutoProcessor

    result = Trainer(train_config(family, steps=2), records=lambda: records).train()
    ckpt = result.checkpoint
    assert ckpt.name == "step_2"

    saved = {p.name: p.read_text() for p in (ckpt / "model").glob("*.json")}
    assert not [name for name, text in saved.items() if "ImageOnly" in text]
    processor_class = json.loads(saved["processor_config.json"])["processor_class"]
    assert hasattr(transformers, processor_class)

    # plain transformers, no vzero in the loop
    model = AutoModelForImageTextToText.from_pretrained(ckpt / "model")
    assert model.config.model_type == family
    if transformers_can_build_processor(processor_class):
        processor = AutoProcessor.from_pretrained(ckpt / "model")
        assert type(processor).__name__ == processor_class

    write_scenes(tmp_path / "synth", 2, size=128, seed=3, progress=False)
    for given in (ckpt, ckpt / "model"):
        out = tmp_path / f"eval-{given.name}"
        argv = ["eval", "--model", str(given), "--data", str(tmp_path / "synth"), "--format", "synthetic"]
        argv += [
            "--out",
            str(out),
            "--limit",
            "2",
            "--max-new-tokens",
            "2",
            "--device",
            "cpu",
            "--no-progress",
        ]
        assert main(argv) == 0, capsys.readouterr().err
        report = json.loads((out / "results.json").read_text())
        assert [(c["label"], c["step"]) for c in report["checkpoints"]] == [("step_2", 2)]
        assert report["checkpoints"][0]["benchmarks"]["synth"]["overall"]["n"] == 2
