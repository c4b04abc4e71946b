"""The curation store: Parquet shards (the truth) + a DuckDB catalog (the query layer).

>>> from vzero_data.store import open_store
>>> store = open_store("data/store", create=True)  # doctest: +SKIP
"""

from vzero_data.store.layout import StoreError, is_store
from vzero_data.store.records import RecordCounts, TrainingRecord, iter_raw_records, require_one_config
from vzero_data.store.store import Store, open_store
from vzero_data.store.writer import StoreWriter

__all__ = [
    "RecordCounts",
    "Store",
    "StoreError",
    "StoreWriter",
    "TrainingRecord",
    "is_store",
    "iter_raw_records",
    "open_store",
    "require_one_config",
]
