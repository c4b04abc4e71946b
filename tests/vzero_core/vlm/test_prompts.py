import pytest

from vzero_core.vlm.prompts import PromptTemplates, TemplateError, build_messages


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"student": "<image>\nno question"}, "must contain {question}"),
        ({"student": "{question}"}, "<image> exactly once"),
        ({"student": "<image><image>{question}"}, "<image> exactly once"),
        ({"student": "<image>{question}<crop>"}, "must not contain <crop>"),
        ({"teacher": "<image>{question}"}, "one <crop> after <image>"),
        ({"teacher": "<crop><image>{question}"}, "one <crop> after <image>"),
    ],
)
def test_bad_templates_are_rejected(kwargs, message):
    with pytest.raises(TemplateError, match=message):
        PromptTemplates(**kwargs)


@pytest.mark.parametrize(
    "template, system, expected_parts",
    [
        ("<image>\n{question}", None, ["image", "text:\nWhat?"]),
        ("<image>{question} See: <crop>", None, ["image", "text:What? See: ", "image"]),
        ("Look. <image> {question}", "Be brief.", ["text:Look. ", "image", "text: What?"]),
    ],
)
def test_build_messages(template, system, expected_parts):
    messages = build_messages(template, "What?", system)
    user = messages[-1]
    assert user["role"] == "user"
    parts = [p["type"] if p["type"] == "image" else f"text:{p['text']}" for p in user["content"]]
    assert parts == expected_parts
    assert (messages[0]["role"] == "system") is (system is not None)


def test_teacher_positive_and_negative_prompts_share_text():
    t = PromptTemplates()
    assert build_messages(t.teacher, "Q?") == build_messages(t.teacher, "Q?")
    texts = [p.get("text") for p in build_messages(t.teacher, "Q?")[0]["content"]]
    assert texts[0] is None and texts[-1] is None, "full image first, crop last"


def test_trainer_config_and_verl_export_use_one_default_text():
    from vzero_core.prompt_text import DEFAULT_STUDENT_TEMPLATE, DEFAULT_TEACHER_TEMPLATE
    from vzero_train.config import PromptConfig

    assert (PromptConfig().student, PromptConfig().teacher) == (
        DEFAULT_STUDENT_TEMPLATE,
        DEFAULT_TEACHER_TEMPLATE,
    )
    assert (PromptTemplates().student, PromptTemplates().teacher) == (
        DEFAULT_STUDENT_TEMPLATE,
        DEFAULT_TEACHER_TEMPLATE,
    )
