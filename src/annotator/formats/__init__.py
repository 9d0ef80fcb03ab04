"""The I/O layer: the field's formats, read and written through one protocol.

A format is a class with ``read`` and ``write`` over :class:`Record` (one coder's
segments on one clip, with the video's clock), registered through the
``annotator.formats`` entry points; the built-in ones live in this package and
register the same way third-party plugins do (``plugins/`` has one to copy).
:func:`load_file` and :func:`save_file` pick a format by name, suffix or content.

==============  ==============  ======================================================
module          formats         frames
==============  ==============  ======================================================
``casme``       casme-csv       0-based (napari's slider)
``casme``       casme-xlsx      CASME II image numbers (1-based by default)
``samm``        samm-xlsx       SAMM image numbers (1-based by default), header row 13
``casme2``      casme2-xlsx     1-based, offset 0 = apex, no header
``megc``        megc-csv        1-based by default
``eaf``         eaf             integer ms from the video's own timestamps
``native``      annotator-json  0-based
``face_tools``  openface-csv    1-based; per-frame tracks, not labels (read only)
``face_tools``  pyfeat-csv      0-based; per-frame tracks, not labels (read only)
==============  ==============  ======================================================

The two face-tool formats fill a session's ``tracks.zarr`` instead of a coder's
labels (their ``imports`` is ``"tracks"``; :func:`.tracks_import.import_tracks`).
"""

from __future__ import annotations

from .base import BaseFormat, Format, FormatError, direction_of
from .facade import as_records, load_file, resolve_format, save_file
from .records import Collected, Record, Timing, collect_records, record_from_labels, session_timing
from .registry import (
    ENTRY_POINT_GROUP,
    FormatPluginWarning,
    available_formats,
    format_names,
    get_format,
)

__all__ = [
    "ENTRY_POINT_GROUP", "BaseFormat", "Collected", "Format", "FormatError", "FormatPluginWarning", "Record",
    "Timing", "as_records", "available_formats", "collect_records", "direction_of", "format_names", "get_format",
    "load_file", "record_from_labels", "resolve_format", "save_file", "session_timing",
]
