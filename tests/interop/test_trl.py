"""TRL's own code on ``export --format trl``: ``datasets.load_from_disk`` reads the folder, the
``DistillationTrainer`` takes one training step on it with a tiny Qwen2.5-VL student and teacher
(its collation prepares the multimodal messages, tokenizes them with the processor and generates),
and TRL's ``prepare_multimodal_messages`` fills the teacher's view with its images. Breaking the
placeholder count or dropping the teacher's crop makes TRL's code refuse the export."""

from __future__ import annotations

import pytest

from vzero_data.store import export_trl

pytestmark = pytest.mark.needs_model

FAMILY = "qwen2_5_vl"


def _trainer(dataset, model_path, out):
    from transformers import AutoModelForImageTextToText
    from trl import DistillationConfig, DistillationTrainer

    from vzero_core.vlm.models import load_processor

    args = DistillationConfig(
        output_dir=str(out),
        per_device_train_batch_size=len(dataset),
        max_steps=1,
        max_completion_length=4,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
    )
    return DistillationTrainer(
        model=AutoModelForImageTextToText.from_pretrained(model_path),
        teacher_model=AutoModelForImageTextToText.from_pretrained(model_path),
        args=args,
        train_dataset=dataset,
        processing_class=load_processor(model_path),
    )


def _teacher_inputs(row, model_path):
    """The teacher's view through TRL's own multimodal preparation and the model's processor."""
    from trl.data_utils import apply_chat_template, prepare_multimodal_messages

    from vzero_core.vlm.models import load_processor

    processor = load_processor(model_path)
    messages = prepare_multimodal_messages(row["teacher_prompt"], images=row["teacher_images"])
    text = apply_chat_template({"prompt": messages}, processor)["prompt"]
    return processor(images=row["teacher_images"], text=[text], return_tensors="pt")


def test_distillation_trainer_trains_a_step_on_the_export(interop_store, export_to, tiny_vlm, tmp_path):
    import datasets

    out = export_to(export_trl.export_trl, interop_store)
    dataset = datasets.load_from_disk(str(out))
    trainer = _trainer(dataset, tiny_vlm(FAMILY), tmp_path / "run")
    result = trainer.train()
    assert result.global_step == 1
    assert trainer.state.log_history[0]["num_tokens"] > 0


def test_teacher_view_fills_through_trls_multimodal_preparation(interop_store, export_to, tiny_vlm):
    import datasets

    model = tiny_vlm(FAMILY)
    row = datasets.load_from_disk(str(export_to(export_trl.export_trl, interop_store)))[0]
    inputs = _teacher_inputs(row, model)
    assert inputs["image_grid_thw"].shape[0] == 2  # the full image, then the crop


def test_a_wrong_placeholder_count_fails_trls_collation(
    interop_store, export_to, tiny_vlm, tmp_path, monkeypatch
):
    import datasets

    monkeypatch.setattr(export_trl, "DEFAULT_STUDENT_TEMPLATE", "<image>\n{question}\n<image>")
    dataset = datasets.load_from_disk(str(export_to(export_trl.export_trl, interop_store)))
    with pytest.raises(ValueError, match="does not match number of image placeholders"):
        _trainer(dataset, tiny_vlm(FAMILY), tmp_path / "run").train()


def test_a_missing_teacher_image_fails_trls_multimodal_preparation(
    interop_store, export_to, tiny_vlm, monkeypatch
):
    import datasets

    real_row = export_trl.trl_row

    def without_crop(raw, negative):
        row = real_row(raw, negative)
        row["teacher_images"] = row["teacher_images"][:1]
        return row

    monkeypatch.setattr(export_trl, "trl_row", without_crop)
    row = datasets.load_from_disk(str(export_to(export_trl.export_trl, interop_store)))[0]
    with pytest.raises(ValueError, match="does not match number of image placeholders"):
        _teacher_inputs(row, tiny_vlm(FAMILY))
