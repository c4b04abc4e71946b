"""Arrow schemas of the store's tables: the contract between curation and training.

Every per-sample table carries ``config_hash`` (which curation config produced the row); boxes are
``xyxy`` floats in pixels of the original image; free-form structures are JSON strings.
"""

from __future__ import annotations

import pyarrow as pa

BOX = pa.list_(pa.float64(), 4)

SAMPLES = pa.schema(
    [
        ("sample_id", pa.string()),
        ("image", pa.string()),
        ("image_sha256", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("question", pa.string()),
        ("answer", pa.string()),
        ("options", pa.list_(pa.string())),
        ("target", pa.string()),
        ("boxes", pa.list_(pa.list_(pa.float64()))),
        ("source", pa.string()),
        ("metadata", pa.string()),
        ("config_hash", pa.string()),
        ("run_id", pa.string()),
    ]
)

IMAGES = pa.schema(
    [
        ("sha256", pa.string()),
        ("format", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("bytes", pa.binary()),
    ]
)

REGIONS = pa.schema(
    [
        ("region_id", pa.string()),
        ("sample_id", pa.string()),
        ("config_hash", pa.string()),
        ("rank", pa.int32()),
        ("box", BOX),
        ("score", pa.float64()),
        ("phrase", pa.string()),
        ("grounder", pa.string()),
        ("model", pa.string()),
        ("params", pa.string()),
        ("selected", pa.bool_()),
    ]
)

VIEWS = pa.schema(
    [
        ("view_id", pa.string()),
        ("sample_id", pa.string()),
        ("config_hash", pa.string()),
        ("kind", pa.string()),
        ("strategy", pa.string()),
        ("params", pa.string()),
        ("seed", pa.int64()),
        ("box", BOX),
        ("source_image_sha256", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("image_format", pa.string()),
        ("image_quality", pa.int32()),  # JPEG/WebP quality the view was encoded at; null for PNG
        ("image_bytes", pa.binary()),
        ("overlap_iou", pa.float64()),
        ("overlap_target", pa.float64()),
        ("valid", pa.bool_()),
        ("checks", pa.string()),
    ]
)

REJECTS = pa.schema(
    [
        ("sample_id", pa.string()),
        ("config_hash", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("run_id", pa.string()),
    ]
)

RUNS = pa.schema(
    [
        ("run_id", pa.string()),
        ("config_hash", pa.string()),
        ("recipe", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("package_versions", pa.string()),
        ("timings", pa.string()),
        ("counts", pa.string()),
        ("status", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)

# Perceptual fingerprints (:mod:`vzero_data.fingerprints`) of stored images (``subject`` "image",
# ``subject_id`` its sha256) and of positive crops (``subject`` "view", ``subject_id`` the view id,
# with its sample, config and window in the source image). ``keypoints`` holds little-endian
# float32 ``(n, 2)`` x y pixels of the fingerprinted picture, ``descriptors`` the ``(n, 32)`` ORB
# bytes. Stores curated before fingerprints existed have none until ``vzero-data fingerprint``.
FINGERPRINTS = pa.schema(
    [
        ("subject", pa.string()),
        ("subject_id", pa.string()),
        ("sample_id", pa.string()),
        ("config_hash", pa.string()),
        ("image_sha256", pa.string()),
        ("box", BOX),
        ("algorithm", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("phash", pa.uint64()),
        ("keypoints", pa.binary()),
        ("descriptors", pa.binary()),
    ]
)
FINGERPRINT_SUBJECTS = ("image", "view")

# The evidence audit (vzero_data.audit): one row per (sample, context) a teacher scored. Keyed by the
# teacher's identity and the audit's config hash, so audits by several teachers coexist; joins
# ``views`` on ``view_id`` (the view in the crop slot) and ``samples`` on ``sample_id``.
AUDITS = pa.schema(
    [
        ("sample_id", pa.string()),
        ("config_hash", pa.string()),  # the curation config of the scored views
        ("view_id", pa.string()),  # null for full_image and text_only
        ("context", pa.string()),  # positive, negative, full_image, crop_only, text_only
        ("strategy", pa.string()),  # the view's strategy; null for full_image and text_only
        ("teacher", pa.string()),  # the teacher as named: a folder or a hub id
        ("teacher_revision", pa.string()),  # hub commit, or sha256 of the weight files
        ("teacher_id", pa.string()),  # name@revision: the key
        ("audit_hash", pa.string()),
        ("mode", pa.string()),  # labelled or label_free
        ("reference", pa.string()),  # the answer scored as the reference
        ("reference_index", pa.int32()),  # its index among candidates
        ("candidates", pa.list_(pa.string())),  # the answers scored, options in the order shown
        ("logprob", pa.float64()),  # summed log-prob of the reference (end of turn included)
        ("tokens", pa.int32()),  # the reference's token count
        ("candidate_logprobs", pa.list_(pa.float64())),
        ("correct", pa.bool_()),  # the most likely candidate is the reference; null for open questions
        ("gap", pa.float64()),  # negatives and text_only: logprob under positive minus here
        ("gate_weight", pa.float64()),  # negatives: the trainer's weight of the reference
        ("gate_weights", pa.list_(pa.float64())),  # negatives: the weight of every candidate
        ("score_std", pa.float64()),  # negatives: spread of the candidates' evidence scores
        ("flags", pa.list_(pa.string())),
        ("flag_details", pa.string()),  # JSON {flag: why}
        ("accepted", pa.bool_()),  # false: this audit rejected the view (a rejects row says why)
        ("run_id", pa.string()),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "samples": SAMPLES,
    "images": IMAGES,
    "regions": REGIONS,
    "views": VIEWS,
    "rejects": REJECTS,
    "runs": RUNS,
    "fingerprints": FINGERPRINTS,
    "audits": AUDITS,
}

VIEW_KINDS = ("positive", "negative")

# Rows per Parquet row group: small for tables of encoded images so a reader that needs a few rows
# decompresses little; large for narrow tables.
ROW_GROUP_ROWS = {"images": 32, "views": 64, "fingerprints": 256}
DEFAULT_ROW_GROUP_ROWS = 8192
