"""npe2 sample data: the bundled astronaut micro-expression clip.

The clip and its ground truth are package data (``annotator/napari/sample/``,
links to the repository's ``sample_data/`` that the wheel stores as files), so
File ▸ Open Sample works after a plain ``pip install``, not only in a checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..errors import AnnotatorError

SAMPLE_DIR = Path(str(files("annotator.napari") / "sample"))
SAMPLE_VIDEO = SAMPLE_DIR / "astronaut.mp4"
SAMPLE_TRUTH = SAMPLE_DIR / "astronaut.truth.json"


def astronaut_sample():
    """The astronaut sample video as a lazy Image layer."""
    from .layers import video_layer_data

    if not SAMPLE_VIDEO.exists():
        raise AnnotatorError(SAMPLE_VIDEO, "sample video missing from the installed package; reinstall annotator")
    return video_layer_data(SAMPLE_VIDEO)
