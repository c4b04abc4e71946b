"""Views: the positive crop and a library of negative-view strategies, checked and deterministic.

```python
from vzero_data.views import CropPolicy, positive_view, negative_view, view_seed
pos = positive_view(image, target, CropPolicy(margin_ratio=0.2), seed=view_seed(sid, "crop", 0))
neg = negative_view("downsampled_distractor", image, target, None, view_seed(sid, "downsampled_distractor", 0),
                    positive=pos)
row = neg.to_row(sid)  # a row of the store's views table
```
"""

from vzero_data.views.crop_policy import CropPolicy, crop_box
from vzero_data.views.errors import ViewParamsError, ViewRejected
from vzero_data.views.folder import SampleViews, read_views_folder, write_views_folder
from vzero_data.views.geometry import sample_window
from vzero_data.views.negative import negative_view, validate_params
from vzero_data.views.params import AvoidTargetParams, NegativeParams
from vzero_data.views.pool import ImagePool, InMemoryImagePool, PathImagePool, pool_from_paths
from vzero_data.views.positive import POSITIVE_STRATEGY, positive_view
from vzero_data.views.registry import (
    DEFAULT_NEGATIVE,
    NEGATIVE_STRATEGIES,
    UnknownStrategyError,
    get_strategy,
    register_strategy,
)
from vzero_data.views.seeds import view_seed
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext
from vzero_data.views.view import View

__all__ = [
    "sample_window",
    "DEFAULT_NEGATIVE",
    "NEGATIVE_STRATEGIES",
    "POSITIVE_STRATEGY",
    "AvoidTargetParams",
    "Candidate",
    "CropPolicy",
    "ImagePool",
    "InMemoryImagePool",
    "NegativeParams",
    "NegativeStrategy",
    "PathImagePool",
    "SampleViews",
    "StrategyContext",
    "UnknownStrategyError",
    "View",
    "ViewParamsError",
    "ViewRejected",
    "crop_box",
    "get_strategy",
    "negative_view",
    "pool_from_paths",
    "positive_view",
    "read_views_folder",
    "register_strategy",
    "validate_params",
    "view_seed",
    "write_views_folder",
]
