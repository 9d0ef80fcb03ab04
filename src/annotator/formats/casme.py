"""CASME II tables: annotator's own CSV flavour (``casme-csv``) and the dataset's xlsx (``casme-xlsx``).

Emotions in CASME II: happiness, surprise, disgust, repression, sadness, fear,
others.  Reading maps happiness → joy and repression/others → other; writing maps
joy → happiness, and anger, contempt, neutral and other → others.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io import atomic_write_text
from ..labels import EMOTION_LABELS, Segment, format_aus, kind_for
from .base import BaseFormat, FormatError
from .records import Record
from .tables import TableFormat, emotion_mapping_text, read_csv, require_columns, split_aus

CASME2_TO_OURS = {
    "happiness": "joy", "surprise": "surprise", "disgust": "disgust", "sadness": "sadness", "fear": "fear",
    "repression": "other", "others": "other",
}
OURS_TO_CASME2 = {
    "joy": "happiness", "surprise": "surprise", "disgust": "disgust", "sadness": "sadness", "fear": "fear",
    "anger": "others", "contempt": "others", "neutral": "others", "other": "others",
}

CSV_COLUMNS = [
    "Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units",
    "Estimated Emotion", "Kind", "Confidence", "Status", "Coder",
]


class CasmeCsv(BaseFormat):
    """CASME II-style spotting table (CSV) with annotator's extra columns.

    ``Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Action Units,
    Estimated Emotion``, then ``Kind, Confidence, Status, Coder``.  **Frames are
    0-based**, as on napari's slider (not CASME II's image numbers: use
    ``casme-xlsx`` for those).  Emotions are our own names, unchanged; action units
    are joined with ``+``.
    """

    name = "casme-csv"
    description = "CASME II-style spotting table with annotator's columns (CSV)"
    suffix = ".csv"
    frame_base = "0-based frames (napari's slider)"
    emotions = "our names, unchanged (joy, surprise, ..., other)"

    def sniff(self, path: Path) -> bool:
        try:
            head = path.open("r", encoding="utf-8", errors="replace").readline()
        except OSError:
            return False
        names = {name.strip() for name in head.rstrip("\r\n").split(",")}
        return {"Filename", "OnsetFrame", "OffsetFrame"} <= names

    def write(self, records: list[Record], path: str | os.PathLike, **options) -> list[str]:
        import pandas as pd

        rows = []
        for r in records:
            for s in r.segments:
                rows.append([
                    r.subject, r.video, s.onset, s.apex, s.offset, format_aus(s.aus), s.emotion, s.kind,
                    "" if s.confidence is None else round(float(s.confidence), 4), s.status, r.coder,
                ])
        atomic_write_text(path, pd.DataFrame(rows, columns=CSV_COLUMNS).to_csv(index=False))
        return ["casme-csv does not hold ids, emotion scores, intensity, notes or times"] if rows else []

    def read(self, path: str | os.PathLike, **options) -> list[Record]:
        """Records per ``(subject, filename, coder)``; ``Kind`` derived from ``fps`` when absent."""
        path = Path(path)
        fps = float(options.get("fps") or 30.0)
        frame = read_csv(path)
        require_columns(path, frame, ["Filename", "OnsetFrame", "ApexFrame", "OffsetFrame"], what="casme-csv")
        out: dict[tuple[str, str, str], Record] = {}
        for i in range(len(frame)):
            row = frame.iloc[i]
            line = f"line {i + 2}"  # the header is line 1
            try:
                onset, apex, offset = (int(row[c]) for c in ("OnsetFrame", "ApexFrame", "OffsetFrame"))
                emotion = (row.get("Estimated Emotion") or "other").strip().lower()
                if emotion not in EMOTION_LABELS:
                    emotion = "other"
                conf = row.get("Confidence") or ""
                seg = Segment(
                    onset=onset, apex=apex, offset=offset, emotion=emotion,
                    kind=(row.get("Kind") or "").strip() or kind_for(onset, offset, fps),
                    aus=split_aus(row.get("Action Units") or ""),
                    confidence=float(conf) if conf else None,
                    status=(row.get("Status") or "accepted").strip() or "accepted",
                    source=row.get("Coder") or "",
                )
            except (TypeError, ValueError) as exc:
                raise FormatError(path, f"{line}: {exc}") from None
            key = (row.get("Subject", ""), row["Filename"], row.get("Coder", "") or options.get("coder") or "")
            rec = out.setdefault(key, Record(key[0], key[1], key[2], fps))
            rec.segments.append(seg)
            rec.origins.append(line)
        return list(out.values())


class CasmeXlsx(TableFormat, BaseFormat):
    """The CASME II coding sheet (``CASME2-coding-*.xlsx``).

    Columns ``Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Action Units,
    Estimated Emotion`` (the sheet's unnamed columns are ignored).  **Frames are
    CASME II's image numbers** (``img46.jpg`` is 46); by default frame 0 of the video
    is image 1 (``--frame-base`` changes that).  An apex of ``/`` is read as the
    middle frame.  Emotions: happiness ↔ joy, repression/others → other; anger,
    contempt, neutral and other are written as others.
    """

    name = "casme-xlsx"
    description = "CASME II coding sheet (xlsx)"
    suffix = ".xlsx"
    dataset = "CASME II"
    base = 1
    default_fps = 200.0
    frame_base = "1-based image numbers (imgN.jpg), --frame-base to change"
    columns = {
        "subject": "Subject", "video": "Filename", "onset": "OnsetFrame", "apex": "ApexFrame",
        "offset": "OffsetFrame", "aus": "Action Units", "emotion": "Estimated Emotion",
    }
    to_ours = CASME2_TO_OURS
    to_theirs = OURS_TO_CASME2
    emotions = emotion_mapping_text(CASME2_TO_OURS, OURS_TO_CASME2)

    def sniff(self, path: Path) -> bool:
        return _xlsx_first_cells(path, 0)[:2] == ["Subject", "Filename"] and "OnsetFrame" in _xlsx_first_cells(path, 0)


def _xlsx_first_cells(path: Path, row: int) -> list[str]:
    """The cells of one row of an xlsx's first sheet, read cheaply (for sniffing)."""
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            sheet = wb.worksheets[0]
            for i, values in enumerate(sheet.iter_rows(values_only=True)):
                if i == row:
                    return [" ".join(str(v).split()) if v is not None else "" for v in values]
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - sniffing never raises; the chosen reader reports problems
        return []
    return []


__all__ = ["CASME2_TO_OURS", "OURS_TO_CASME2", "CasmeCsv", "CasmeXlsx"]
