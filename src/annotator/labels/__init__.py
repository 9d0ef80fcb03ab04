"""Segments and labels files (see :mod:`annotator.labels.model`)."""

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
    Segment,
    kind_for,
    valid_coder,
)
from .schema import SCHEMA_FILENAME, SCHEMA_VERSION, labels_schema

__all__ = [
    "AUTO_CODER",
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
