"""vzero_data: curate fine-grained visual-reasoning data (grounded crops and negative views)."""

from vzero_data.boxes import Box, BoxError
from vzero_data.sample import Sample, SampleError

__version__ = "0.1.0"
__all__ = ["Box", "BoxError", "Sample", "SampleError", "__version__"]
