"""The CAS(ME)² coding sheet (``CAS(ME)^2code_final.xlsx``, ``casme2-xlsx``).

No header row; the columns are subject, video, onset, apex, offset, AU, emotion,
type (``micro-expression``/``macro-expression``), self-report.  **Frames are
1-based**, and an offset of 0 means "offset = apex".  Emotions in CAS(ME)²:
positive, negative, surprise, others.  Reading maps positive → joy, negative and
others → other; writing maps joy → positive, sadness/anger/fear/contempt/disgust
→ negative, neutral/other → others.
"""

from __future__ import annotations

from pathlib import Path

from .base import BaseFormat, FormatError
from .casme import _xlsx_first_cells
from .tables import TableFormat, emotion_mapping_text, frame_cell

CASME2LONG_TO_OURS = {"positive": "joy", "negative": "other", "surprise": "surprise", "others": "other"}
OURS_TO_CASME2LONG = {
    "joy": "positive", "surprise": "surprise", "sadness": "negative", "anger": "negative", "fear": "negative",
    "contempt": "negative", "disgust": "negative", "neutral": "others", "other": "others",
}


class Casme2Xlsx(TableFormat, BaseFormat):
    """The CAS(ME)² coding sheet: no header, 1-based frames, offset 0 = apex.

    A 0 in the onset or apex column cannot be a 1-based frame: it is reported as
    a file written 0-based.  Emotions: positive ↔ joy, negative/others → other on
    reading; the five negative emotions are written as negative, neutral/other as
    others.
    """

    name = "casme2-xlsx"
    description = "CAS(ME)² coding sheet (xlsx, no header)"
    suffix = ".xlsx"
    dataset = "CAS(ME)²"
    header = None
    base = 1
    default_fps = 30.0
    frame_base = "1-based frames; offset 0 means offset = apex"
    columns = {"subject": 0, "video": 1, "onset": 2, "apex": 3, "offset": 4, "aus": 5, "emotion": 6}
    extra_columns = {"kind": 7, "notes": 8}
    to_ours = CASME2LONG_TO_OURS
    to_theirs = OURS_TO_CASME2LONG
    emotions = emotion_mapping_text(CASME2LONG_TO_OURS, OURS_TO_CASME2LONG)

    def _offset(self, path, label, row, base, onset, apex):
        text = self._cell(row, "offset").strip()
        if text in ("0", "0.0"):
            if apex is None:
                raise FormatError(path, f"{label}, {self._colname('offset')}: offset 0 means offset = apex, but the apex is missing")
            return apex
        return frame_cell(path, label, self._colname("offset"), text, base)

    def _row(self, record, seg, base):
        out = super()._row(record, seg, base)
        out["kind"] = f"{seg.kind}-expression"
        return out

    def sniff(self, path: Path) -> bool:
        cells = _xlsx_first_cells(path, 0)
        if len(cells) < 7:
            return False
        try:
            [int(float(c)) for c in cells[2:5]]
        except ValueError:
            return False
        return True
