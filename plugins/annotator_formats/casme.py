"""CASME II-style spotting table (CSV), 0-based frames as on napari's slider."""

from __future__ import annotations

import os
from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.formats.registry import ExportRow
from annotator.io import atomic_write_text
from annotator.labels.model import EMOTION_LABELS, Segment, kind_for

COLUMNS = [
    "Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units",
    "Estimated Emotion", "Kind", "Confidence", "Status", "Coder",
]


class CasmeCsv:
    """``Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Action Units, Estimated Emotion``,
    then ``Kind, Confidence, Status, Coder``.  Action units are joined with ``+``."""

    name = "casme-csv"
    description = "CASME II-style spotting table (CSV)"
    suffix = ".csv"

    def export(self, rows: list[ExportRow], path: str | os.PathLike) -> None:
        import pandas as pd

        records = []
        for r in rows:
            s = r.segment
            records.append({
                "Subject": r.subject,
                "Filename": r.video,
                "OnsetFrame": s.onset,
                "ApexFrame": s.apex,
                "OffsetFrame": s.offset,
                "Action Units": "+".join(s.aus),
                "Estimated Emotion": s.emotion,
                "Kind": s.kind,
                "Confidence": "" if s.confidence is None else round(float(s.confidence), 4),
                "Status": s.status,
                "Coder": r.coder,
            })
        frame = pd.DataFrame.from_records(records, columns=COLUMNS)
        atomic_write_text(path, frame.to_csv(index=False))

    def read(self, path: str | os.PathLike, fps: float = 30.0) -> dict[tuple[str, str, str], list[Segment]]:
        """Segments per ``(subject, filename, coder)``.

        ``Kind`` is taken from the file; when absent it is derived from ``fps``.
        """
        import pandas as pd

        import warnings

        path = Path(path)
        try:
            with warnings.catch_warnings():
                # index_col=False: rows with one field too many would otherwise turn the
                # first column into the index and shift every value; pandas then only
                # warns that it drops the extra fields, and that loss is an error here.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False)
                header = pd.read_csv(path, dtype=str, keep_default_na=False, header=None, nrows=1, index_col=False)
        except pd.errors.ParserWarning:
            raise AnnotatorError(path, "rows have more fields than the header; fix the file's delimiters") from None
        except pd.errors.ParserError as exc:  # its message names the line and the field counts
            raise AnnotatorError(path, f"not a readable CSV ({exc})") from None
        except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise AnnotatorError(path, f"not a readable CSV ({exc.__class__.__name__})") from None
        names = [str(n) for n in header.iloc[0]] if len(header) else []
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise AnnotatorError(path, f"column {repeated[0]!r} appears more than once")
        needed = ["Filename", "OnsetFrame", "ApexFrame", "OffsetFrame"]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise AnnotatorError(path, f"missing column {missing[0]!r} (not a casme-csv export)")
        out: dict[tuple[str, str, str], list[Segment]] = {}
        for i, row in frame.iterrows():
            line = i + 2  # header is line 1
            try:
                onset, apex, offset = (int(row[c]) for c in ("OnsetFrame", "ApexFrame", "OffsetFrame"))
                emotion = (row.get("Estimated Emotion") or "other").strip().lower()
                if emotion not in EMOTION_LABELS:
                    emotion = "other"
                aus = [a for a in (row.get("Action Units") or "").split("+") if a.strip()]
                aus = [a if a.upper().startswith(("AU", "L", "R", "T", "B")) else f"AU{a}" for a in aus]
                kind = (row.get("Kind") or "").strip() or kind_for(onset, offset, fps)
                conf = row.get("Confidence") or ""
                seg = Segment(
                    onset=onset, apex=apex, offset=offset, emotion=emotion, kind=kind, aus=aus,
                    confidence=float(conf) if conf else None,
                    status=(row.get("Status") or "accepted").strip() or "accepted",
                    source=row.get("Coder") or "",
                )
            except (TypeError, ValueError) as exc:
                raise AnnotatorError(path, f"line {line}: {exc}") from None
            key = (row.get("Subject", ""), row["Filename"], row.get("Coder", ""))
            out.setdefault(key, []).append(seg)
        return out
