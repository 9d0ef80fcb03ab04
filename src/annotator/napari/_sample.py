"""npe2 sample data: the bundled astronaut micro-expression clip."""

from __future__ import annotations

from pathlib import Path

from ..errors import AnnotatorError

#: The sample lives in the repository's ``sample_data/`` folder.
SAMPLE_DIR = Path(__file__).resolve().parents[3] / "sample_data"
SAMPLE_VIDEO = SAMPLE_DIR / "astronaut.mp4"
SAMPLE_TRUTH = SAMPLE_DIR / "astronaut.truth.json"


def astronaut_sample():
    """The astronaut sample video as a lazy Image layer."""
    from .layers import video_layer_data

    if not SAMPLE_VIDEO.exists():
        raise AnnotatorError(SAMPLE_VIDEO, "sample video missing; run `make sample`")
    return video_layer_data(SAMPLE_VIDEO)
