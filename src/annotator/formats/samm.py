"""The SAMM coding sheet (``SAMM_Micro_FACS_Codes_v2.xlsx``, ``samm-xlsx``).

Its header is on row 13 (twelve rows of notes above it).  Emotions in SAMM: Anger,
Contempt, Disgust, Fear, Happiness, Sadness, Surprise, Other: reading maps
Happiness → joy, the others to their lower-case names; writing maps joy →
Happiness, and neutral/other → Other.
"""

from __future__ import annotations

from pathlib import Path

from .base import BaseFormat
from .casme import _xlsx_first_cells
from .tables import TableFormat, emotion_mapping_text

SAMM_TO_OURS = {
    "anger": "anger", "contempt": "contempt", "disgust": "disgust", "fear": "fear", "happiness": "joy",
    "sadness": "sadness", "surprise": "surprise", "other": "other",
}
OURS_TO_SAMM = {
    "joy": "Happiness", "surprise": "Surprise", "sadness": "Sadness", "anger": "Anger", "fear": "Fear",
    "contempt": "Contempt", "disgust": "Disgust", "neutral": "Other", "other": "Other",
}
HEADER_ROW = 13  # 1-based, as the spreadsheet shows it


class SammXlsx(TableFormat, BaseFormat):
    """The SAMM coding sheet, header on row 13.

    Columns ``Subject, Filename, Inducement Code, Onset Frame, Apex Frame, Offset
    Frame, Duration, Type, Action Units, Estimated Emotion, Objective Classes,
    Notes``.  **Frames are SAMM's image numbers**, counted by default from 1 for
    the video's frame 0 (``--frame-base`` changes that).  The two SAMM clips whose
    apex lies outside onset–offset have it clamped to the nearer end.  Emotions:
    Happiness ↔ joy, the other six by name; neutral and other are written as Other.
    """

    name = "samm-xlsx"
    description = "SAMM coding sheet (xlsx, header on row 13)"
    suffix = ".xlsx"
    dataset = "SAMM"
    header = HEADER_ROW - 1
    base = 1
    default_fps = 200.0
    frame_base = "1-based image numbers, --frame-base to change"
    columns = {
        "subject": "Subject", "video": "Filename", "onset": "Onset Frame", "apex": "Apex Frame",
        "offset": "Offset Frame", "aus": "Action Units", "emotion": "Estimated Emotion",
    }
    extra_columns = {
        "inducement": "Inducement Code", "duration": "Duration", "kind": "Type",
        "objective": "Objective Classes", "notes": "Notes",
    }
    column_order = ("subject", "video", "inducement", "onset", "apex", "offset", "duration", "kind", "aus",
                    "emotion", "objective", "notes")
    to_ours = SAMM_TO_OURS
    to_theirs = OURS_TO_SAMM
    emotions = emotion_mapping_text(SAMM_TO_OURS, OURS_TO_SAMM)
    not_held = ("confidence", "status", "ids", "emotion scores", "intensity", "times")

    def _row(self, record, seg, base):
        out = super()._row(record, seg, base)
        out["duration"] = seg.offset - seg.onset + 1
        out["kind"] = seg.kind.capitalize()
        return out

    def write_preamble(self, xl, records) -> None:
        import pandas as pd

        note = pd.DataFrame([["SAMM-style coding sheet written by annotator; the header is on row 13."]])
        note.to_excel(xl, index=False, header=False, startrow=0)

    def sniff(self, path: Path) -> bool:
        cells = _xlsx_first_cells(path, self.header)
        return "Onset Frame" in cells and "Filename" in cells
