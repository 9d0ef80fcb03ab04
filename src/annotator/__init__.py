"""annotator: a workbench for labelling facial micro-expressions in video.

The library never imports napari or Qt; heavy modules load on first use.
"""

from __future__ import annotations

from ._lazy import lazy_getattr

__version__ = "0.1.0"

_LAZY = {
    "open_video": ("annotator.media", "open_video"),
    "VideoSource": ("annotator.media", "VideoSource"),
    "Segment": ("annotator.labels", "Segment"),
    "Labels": ("annotator.labels", "Labels"),
    "load_labels": ("annotator.labels", "load_labels"),
    "save_labels": ("annotator.labels", "save_labels"),
    "AnnotatorError": ("annotator.errors", "AnnotatorError"),
    "load_file": ("annotator.formats", "load_file"),
    "save_file": ("annotator.formats", "save_file"),
}


__getattr__ = lazy_getattr("annotator", _LAZY)

__all__ = sorted(_LAZY)
