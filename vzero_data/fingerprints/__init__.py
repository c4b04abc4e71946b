"""Perceptual fingerprints: near-duplicates and benchmark contamination at image and region level.

:mod:`.compute` fingerprints pixels (pHash + ORB features), :mod:`.rows` stores them,
:mod:`.phash_index` finds near hashes without comparing all pairs, :mod:`.regions` places one
picture inside another and checks the pixels agree, :mod:`.search` combines them into matches,
:mod:`.dedup` and :mod:`.contamination` are what ``vzero-data dedup`` and ``contamination`` run.
"""

from vzero_data.fingerprints.rows import (
    FINGERPRINT_ALGORITHM,
    Fingerprint,
    fingerprint_from_row,
    fingerprint_row,
)

__all__ = ["FINGERPRINT_ALGORITHM", "Fingerprint", "fingerprint_from_row", "fingerprint_row"]
