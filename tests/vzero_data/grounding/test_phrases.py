import pytest

from vzero_core.sample import Sample
from vzero_data.grounding import RuleBasedExtractor, VLMPhraseExtractor, extract_phrase
from vzero_data.grounding.phrases import question_stem, split_phrases


@pytest.mark.parametrize(
    "question, phrase",
    [
        # V* Bench (direct attributes / relative position)
        ("What is the color of the woman's shirt?", "woman's shirt"),
        ("What is the material of the glove?\n(A) rubber\n(B) cotton\n(C) leather", "glove"),
        ("Is the flag on the left or right side of the clock?", "flag. clock"),
        (
            "Is the blue umbrella on the left or right side of the man in the white shirt?",
            "blue umbrella. man",
        ),
        ("What is the color of the dog's collar?", "dog's collar"),
        # HR-Bench style (answer instructions appended)
        (
            "What is the number on the red bus? Answer with the option's letter from the given choices directly.",
            "red bus",
        ),
        ("What color is the umbrella held by the person on the left?", "umbrella"),
        ("What is the license plate number of the white car?", "white car"),
        ("Which direction is the arrow on the road sign pointing?", "arrow"),
        # MME-RealWorld / TreeBench style
        ("What is written on the sign above the door?", "sign"),
        ("What is the text on the banner hanging over the street?", "banner"),
        ("Based on the image, what is the time shown on the clock tower?", "clock tower"),
        ("What animal is shown on the poster?", "poster"),
        ("How many people are standing near the fountain?", "people"),
        ("What does the sign say?", "sign"),
        ("Where is the cat?", "cat"),
        ("Is there a bicycle in the image?", "bicycle"),
        ("Which is the brand of the laptop on the desk?", "laptop"),
        ("What is the breed of the dog?", "dog"),
        ("Is the lamp above the table or below it?", "lamp. table"),
        ("Tell me the color of the car parked behind the truck.", "car"),
        # vzero's synthetic scenes
        ("What is the color of the small triangle near the top left?", "small triangle"),
        ("What is the shape of the small purple object near the bottom?", "small purple object"),
    ],
)
def test_rule_based_extractor_on_benchmark_questions(question, phrase):
    assert RuleBasedExtractor()(question) == phrase


def test_unmatched_questions_fall_back_to_a_few_content_words():
    phrase = RuleBasedExtractor()(
        "Describe everything about the tiny rusty bolt holding the old wooden fence together"
    )
    assert phrase == "Describe everything about tiny rusty bolt"
    assert len(phrase.split()) <= 6


def test_question_stem_drops_options():
    assert question_stem("What colour?\n(A) red\n(B) blue") == "What colour?"
    assert question_stem("What colour is it? (A) red (B) blue") == "What colour is it?"


def sample(question, target=None):
    return Sample.create(
        image="x.png", image_sha256="0" * 64, width=10, height=10, question=question, target=target
    )


def test_extract_phrase_prefers_the_samples_target():
    assert (
        extract_phrase(sample("What is the color of the cup?", target="  small   red cup "))
        == "small red cup"
    )
    assert extract_phrase(sample("What is the color of the cup?")) == "cup"
    assert extract_phrase(sample("What is the color of the cup?"), extractor=lambda q: "mug") == "mug"


def test_extract_phrase_rejects_an_empty_extraction():
    with pytest.raises(ValueError, match="no phrase could be extracted"):
        extract_phrase(sample("What?"), extractor=lambda q: " ")


@pytest.mark.parametrize(
    "phrase, parts",
    [("cat", ["cat"]), ("a cat.  the   dog.", ["a cat", "the dog"]), ("Red Car. dog", ["Red Car", "dog"])],
)
def test_split_phrases(phrase, parts):
    assert split_phrases(phrase) == parts


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ("the red car", "red car"),
        ("Object: umbrella\nbecause...", "umbrella"),
        ("", ""),
        ("this is a very long answer that goes on and on", ""),
        ("1234 !!", ""),
    ],
)
def test_vlm_answers_are_cleaned(answer, phrase):
    assert VLMPhraseExtractor.clean_answer(answer) == phrase


def test_vlm_extractor_runs_a_tiny_model_and_falls_back_on_garbage(tiny_model_path):
    extractor = VLMPhraseExtractor(
        str(tiny_model_path("qwen2_5_vl")), device="cpu", fallback=lambda q: "FALLBACK"
    )
    phrase = extractor("What is the color of the small triangle?")
    assert isinstance(phrase, str) and phrase
    assert phrase == "FALLBACK" or len(phrase.split()) <= 6
