"""Run inside a subprocess whose path holds ms-swift (tests/interop/test_swift.py): ms-swift's own
code reads an ``export --format swift`` folder and this prints, as JSON, what its GKD trainer would
hand its template and its teacher. Arguments: the export folder. Exit status 1 and the error on
stderr when ms-swift's code refuses the data."""

from __future__ import annotations

import json
import os
import sys


def main(folder: str) -> None:
    os.environ["ROOT_IMAGE_DIR"] = folder  # ms-swift resolves relative image paths against it
    from swift.dataset import load_dataset
    from swift.rl_core.data import GKDSample
    from swift.rlhf_trainers.gkd_helpers import build_teacher_requests
    from swift.template.vision_utils import load_image

    train, _ = load_dataset([os.path.join(folder, "train.jsonl")], load_from_cache_file=False, strict=True)
    rows = []
    for row in train:
        sample = GKDSample.from_row(row)
        if not sample.build_teacher_view():
            raise SystemExit("ms-swift built no teacher view (no teacher_prompt and no teacher_images)")
        student = sample.to_template_dict()
        teacher = sample.to_teacher_template_dict()
        request = build_teacher_requests([sample])[0]

        def sizes(images):
            return [list(load_image(i["path"] if isinstance(i, dict) else i).size) for i in images]

        rows.append(
            {
                "student_messages": student["messages"],
                "student_image_sizes": sizes(student.get("images", [])),
                "teacher_messages": teacher["messages"],
                "teacher_image_sizes": sizes(teacher.get("images", [])),
                "request_image_count": len(request.images),
            }
        )
    print(json.dumps({"columns": train.column_names, "rows": rows}))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as exc:  # ms-swift's refusal, reported to the test
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
