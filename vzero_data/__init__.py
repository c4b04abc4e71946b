"""vzero_data: curate fine-grained visual-reasoning data (grounded crops and negative views)."""

from vzero_core import __version__
from vzero_core.boxes import Box, BoxError
from vzero_core.sample import Sample, SampleError

__all__ = ["Box", "BoxError", "Sample", "SampleError", "__version__"]
