"""The default prompt text shared by the trainer and the upstream-trainer export.

Training (``vzero_core.vlm.prompts``) and ``vzero-data export --format verl`` must show models the same
words, so the defaults live here, in the package both can import. ``<image>`` marks the full image,
``<crop>`` the teacher's crop (the positive crop, or the negative view in its place).
"""

IMAGE_TAG = "<image>"
CROP_TAG = "<crop>"
DEFAULT_STUDENT_TEMPLATE = "<image>\n{question}"
DEFAULT_TEACHER_TEMPLATE = (
    "<image>\n{question}\nA zoomed-in view of the region relevant to the question: <crop>"
)


def fill_question(template: str, question: str) -> str:
    """``template`` with ``{question}`` replaced (no other braces are interpreted)."""
    return template.replace("{question}", question)
