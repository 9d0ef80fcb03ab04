"""Segments and labels files (see :mod:`annotator.labels.model`)."""

from .facs import AU, INTENSITIES, format_aus, lane_name, normalize_aus, parse_au, parse_aus
from .file import (
    Labels,
    VideoRef,
    check_segments,
    load_labels,
    make_segment,
    save_labels,
    validate_labels,
    validate_labels_dict,
)
from .model import (
    AUTO_CODER,
    EMOTION_LABELS,
    EMOTIONS,
    KINDS,
    MICRO_MAX_SECONDS,
    STATUSES,
    AUInterval,
    Segment,
    kind_for,
    valid_coder,
)
from .schema import SCHEMA_FILENAME, SCHEMA_VERSION, labels_schema, migrate

__all__ = [
    "AU",
    "AUInterval",
    "AUTO_CODER",
    "INTENSITIES",
    "format_aus",
    "lane_name",
    "migrate",
    "normalize_aus",
    "parse_au",
    "parse_aus",
    "EMOTIONS",
    "EMOTION_LABELS",
    "KINDS",
    "MICRO_MAX_SECONDS",
    "SCHEMA_FILENAME",
    "SCHEMA_VERSION",
    "STATUSES",
    "Labels",
    "Segment",
    "VideoRef",
    "check_segments",
    "kind_for",
    "labels_schema",
    "load_labels",
    "make_segment",
    "save_labels",
    "valid_coder",
    "validate_labels",
    "validate_labels_dict",
]
