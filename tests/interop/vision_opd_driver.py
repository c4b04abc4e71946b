"""Run inside a subprocess whose path holds Vision-OPD's repository (tests/interop/test_vision_opd.py):
Vision-OPD's own ``scripts/prepare_data.py`` converts an ``export --format vision_opd`` folder into the
Parquet its trainer reads, then its dataset builds the student's messages and its trainer swaps in
the teacher's images, as in training. Prints JSON; exit status 1 with the error on stderr when
Vision-OPD's code refuses the data. Arguments: the export folder, Vision-OPD's repository."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


def main(folder: str, repo: str) -> None:
    import datasets
    from verl.trainer.ppo.ray_trainer import RayPPOTrainer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    spec = importlib.util.spec_from_file_location("vopd_prepare", Path(repo) / "scripts" / "prepare_data.py")
    prepare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepare)
    prepare.convert_to_parquet(folder)  # the step `prepare_data.py --skip-download` runs

    # Their methods on instances built without their training set-up (only the fields they read).
    dataset = object.__new__(RLHFDataset)
    dataset.prompt_key, dataset.image_key, dataset.video_key = "prompt", "images", "videos"
    dataset.processor = object()
    trainer = object.__new__(RayPPOTrainer)
    rows = []
    for row in datasets.load_dataset("parquet", data_files=str(Path(folder) / "train.parquet"))["train"]:
        teacher_images = row["bbox_images"]
        messages = dataset._build_messages(dict(row))
        teacher = trainer._prepare_teacher_messages(messages, teacher_images)
        images = [p for m in teacher for p in m["content"] if p.get("type") == "image"]
        rows.append(
            {
                "data_source": row["data_source"],
                "student_parts": [p["type"] for m in messages for p in m["content"]],
                "teacher_image_sizes": [list(p["image"].size) for p in images],
                "question": row["extra_info"]["question"],
            }
        )
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2])
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
