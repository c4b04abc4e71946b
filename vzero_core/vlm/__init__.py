"""Vision-language models as both halves use them: loading a model with its processor
(:mod:`.models`), prompt templates and their encoding (:mod:`.prompts`), and teacher-forced scoring
of given responses (:mod:`.replay`), with each image encoded once (:mod:`.vision_cache`) and a shared
prompt prefix run once (:mod:`.prefix_replay`). Training replays the student's rollouts through the
teacher with these; curation's evidence audit scores views with the same code."""
