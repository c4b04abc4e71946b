import pytest

from vzero_data.grounding.answer_parsing import ParsedBox, parse_boxes

B = (10.0, 20.0, 110.0, 220.0)


@pytest.mark.parametrize(
    "answer, expected",
    [
        # well-formed JSON, with and without a Markdown fence
        ('[{"bbox_2d": [10, 20, 110, 220], "label": "cat"}]', [ParsedBox(B, "cat")]),
        ('```json\n[{"bbox_2d": [10, 20, 110, 220], "label": "cat"}]\n```', [ParsedBox(B, "cat")]),
        ('Sure! Here it is:\n```json\n{"bbox_2d": [10, 20, 110, 220]}\n```\nDone.', [ParsedBox(B)]),
        # a fence that is never closed (token budget ran out)
        ('```json\n[{"bbox_2d": [10, 20, 110, 220], "label": "cat"}]', [ParsedBox(B, "cat")]),
        # truncated list: the complete object survives, the cut one is dropped
        (
            '```json\n[\n  {"bbox_2d": [10, 20, 110, 220], "label": "cat"},\n  {"bbox_2d": [300, 40',
            [ParsedBox(B, "cat")],
        ),
        (
            '[{"bbox_2d": [10, 20, 110, 220], "label": "cat"}, {"bbox_2d": [1, 2, 3, 4], "label": "do',
            [ParsedBox(B, "cat"), ParsedBox((1.0, 2.0, 3.0, 4.0))],
        ),
        # other key names, floats, inverted corners
        ('{"bbox": [110.0, 220.0, 10.0, 20.0]}', [ParsedBox(B)]),
        ('[{"box_2d": [10.5, 20, 110, 220.25]}]', [ParsedBox((10.5, 20.0, 110.0, 220.25))]),
        # Qwen-VL / Qwen2-VL box tags
        ("<ref>cat</ref><box>(10,20),(110,220)</box>", [ParsedBox(B, "cat")]),
        (
            "<|object_ref_start|>the cat<|object_ref_end|><|box_start|>(10,20),(110,220)<|box_end|>",
            [ParsedBox(B, "the cat")],
        ),
        ("<box>[10, 20, 110, 220]</box>", [ParsedBox(B)]),
        # bare list in prose, and a reasoning block that is ignored
        ("The cat is at [10, 20, 110, 220].", [ParsedBox(B)]),
        ("<think>maybe [1, 1, 2, 2]?</think>[10, 20, 110, 220]", [ParsedBox(B)]),
        # duplicates collapse
        ('[{"bbox_2d": [10, 20, 110, 220]}, {"bbox_2d": [10, 20, 110, 220]}]', [ParsedBox(B)]),
    ],
)
def test_lenient_parsing(answer, expected):
    assert parse_boxes(answer) == expected


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "I cannot find a cat in this image.",
        '```json\n[{"bbox_2d": [10, 20',
        '[{"bbox_2d": [10, 20, 10, 220]}]',  # zero width
        '[{"bbox_2d": [10, 20, 110]}]',  # three numbers
        '{"point_2d": [10, 20]}',
        "<box>(10,20)</box>",
        "\x00\ufffd garbage <|im_end|> [[[ {{{",
    ],
)
def test_answers_without_a_usable_box_give_nothing(answer):
    assert parse_boxes(answer) == []
