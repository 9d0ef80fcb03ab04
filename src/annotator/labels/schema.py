"""The JSON Schema of a labels file, built from the model's own constants.

``schemas/labels.v1.schema.json`` is the published copy; a test fails when it
and :func:`labels_schema` (and so the model) drift apart.
"""

from __future__ import annotations

from typing import Any

from .facs import INTENSITIES
from .model import (
    AU_PATTERN,
    CODER_PATTERN,
    EMOTION_LABELS,
    KINDS,
    LANE_PATTERN,
    MAX_FRAMES,
    SHA256_PATTERN,
    STATUSES,
)

SCHEMA_NAME = "annotator.labels"
#: 2: AU lanes (``au_intervals``), and ``aus`` in FACS notation, one unit per item
#: (version 1 files are read through :func:`migrate`).
SCHEMA_VERSION = 2
#: Versions :func:`migrate` brings up to :data:`SCHEMA_VERSION`.
READABLE_VERSIONS: tuple[int, ...] = (1, 2)
SCHEMA_ID = f"https://annotator.invalid/schemas/labels.v{SCHEMA_VERSION}.schema.json"
SCHEMA_FILENAME = f"labels.v{SCHEMA_VERSION}.schema.json"


def _segment_schema() -> dict[str, Any]:
    frame = {"type": "integer", "minimum": 0, "maximum": MAX_FRAMES - 1}
    unit = {"type": "number", "minimum": 0, "maximum": 1}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "onset", "apex", "offset", "kind", "emotion", "status", "source"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 64},
            "onset": {**frame, "description": "first frame of the expression (0-based)"},
            "apex": {**frame, "description": "frame of peak intensity (0-based)"},
            "offset": {**frame, "description": "last frame of the expression (0-based)"},
            "kind": {"enum": list(KINDS)},
            "emotion": {"enum": list(EMOTION_LABELS)},
            "emotion_scores": {
                "type": ["object", "null"],
                "propertyNames": {"enum": list(EMOTION_LABELS)},
                "additionalProperties": unit,
            },
            "aus": {"type": "array", "items": {"type": "string", "pattern": AU_PATTERN}},
            "intensity": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "uncertainty": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "status": {"enum": list(STATUSES)},
            "source": {"type": "string"},
            "notes": {"type": "string"},
            "adjudication": {
                "type": "string",
                "description": "why a consensus segment needs a decision (tie, unmatched); empty when none",
            },
            "created": {"type": "string", "format": "date-time"},
            "modified": {"type": "string", "format": "date-time"},
        },
    }


def _interval_schema() -> dict[str, Any]:
    frame = {"type": "integer", "minimum": 0, "maximum": MAX_FRAMES - 1}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "au", "onset", "offset", "intensity"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 64},
            "au": {"type": "string", "pattern": LANE_PATTERN, "description": "the lane: one AU, FACS notation (12, R12)"},
            "onset": {**frame, "description": "first frame the AU shows (0-based)"},
            "offset": {**frame, "description": "last frame the AU shows (0-based)"},
            "intensity": {"enum": ["", *INTENSITIES], "description": "FACS intensity A-E; empty: not scored yet"},
            "notes": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "modified": {"type": "string", "format": "date-time"},
        },
    }


def migrate(data: Any) -> Any:
    """A labels file of an older readable version as version :data:`SCHEMA_VERSION` (a new dict).

    Version 1 had no AU lanes, and its ``aus`` mixed spellings (``AU4+AU7``, ``R12``);
    each is rewritten in FACS notation, one unit per item.  What does not parse is
    left as it was, for the schema to name.  Anything else is returned unchanged.
    """
    from .facs import normalize_aus

    if not isinstance(data, dict) or data.get("schema") != SCHEMA_NAME or data.get("schema_version") != 1:
        return data
    out = {**data, "schema_version": SCHEMA_VERSION, "au_intervals": []}
    segments = data.get("segments")
    if isinstance(segments, list):
        new = []
        for seg in segments:
            if isinstance(seg, dict) and isinstance(seg.get("aus"), list):
                try:
                    seg = {**seg, "aus": normalize_aus(seg["aus"])}
                except ValueError:
                    pass
            new.append(seg)
        out["segments"] = new
    return out


def labels_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a labels file, version :data:`SCHEMA_VERSION`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "annotator labels file",
        "description": (
            "Segments (onset, apex, offset, emotion, action units) and AU intervals (one lane "
            "per AU, FACS intensity A-E) coded by one coder on one video. Frame indices are 0-based."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["schema", "schema_version", "coder", "video", "micro_max_seconds", "segments"],
        "properties": {
            "schema": {"const": SCHEMA_NAME},
            "schema_version": {"const": SCHEMA_VERSION},
            "coder": {"type": "string", "pattern": CODER_PATTERN},
            "video": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "sha256", "fps", "frames"],
                "properties": {
                    "path": {"type": "string"},
                    "sha256": {"type": "string", "pattern": SHA256_PATTERN},
                    "fps": {"type": "number", "exclusiveMinimum": 0},
                    "frames": {"type": "integer", "minimum": 1, "maximum": MAX_FRAMES},
                },
            },
            "micro_max_seconds": {"type": "number", "exclusiveMinimum": 0},
            "segments": {"type": "array", "items": {"$ref": "#/$defs/segment"}},
            "au_intervals": {"type": "array", "items": {"$ref": "#/$defs/au_interval"}},
        },
        "$defs": {"segment": _segment_schema(), "au_interval": _interval_schema()},
    }
