"""MEGC spotting submissions (``megc-csv``): ``vid,pred_onset,pred_offset,type``.

``type`` is ``me`` (micro) or ``mae`` (macro).  Some years name the columns
``onset,offset``: the header is configurable (``header=vid,onset,offset,type``).
**Frames are 1-based by default** as in the datasets' image numbers
(``frame_base=0`` for 0-based).  Submissions carry no emotion or apex: read
segments get emotion ``other`` and the middle frame as apex.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io import atomic_write_text
from ..labels import Segment
from .base import BaseFormat, FormatError
from .records import Record
from .tables import frame_cell, read_csv, require_columns

DEFAULT_HEADER = ("vid", "pred_onset", "pred_offset", "type")
KIND_CODES = {"micro": "me", "macro": "mae"}


def _header(options) -> tuple[str, str, str, str]:
    value = options.get("header") or DEFAULT_HEADER
    names = [c.strip() for c in value.split(",")] if isinstance(value, str) else list(value)
    if len(names) != 4 or not all(names):
        raise FormatError(None, f"megc-csv header must name 4 columns (video, onset, offset, type), got {value!r}")
    return tuple(names)  # type: ignore[return-value]


class MegcCsv(BaseFormat):
    """MEGC spotting submission CSV: ``vid,pred_onset,pred_offset,type`` (``me``/``mae``)."""

    name = "megc-csv"
    description = "MEGC spotting submission (CSV: vid,pred_onset,pred_offset,type)"
    suffix = ".csv"
    frame_base = "1-based by default (option frame_base=0)"
    emotions = "none (submissions carry no emotion; read as other)"

    def sniff(self, path: Path) -> bool:
        try:
            head = path.open("r", encoding="utf-8", errors="replace").readline().strip()
        except OSError:
            return False
        return head.split(",")[:1] == ["vid"]

    def write(self, records: list[Record], path: str | os.PathLike, **options) -> list[str]:
        import pandas as pd

        base = int(options.get("frame_base", 1))
        vid, onset, offset, kind = _header(options)
        rows = [
            [r.video, s.onset + base, s.offset + base, KIND_CODES[s.kind]] for r in records for s in r.segments
        ]
        atomic_write_text(path, pd.DataFrame(rows, columns=[vid, onset, offset, kind]).to_csv(index=False))
        if not rows:
            return []
        subjects = {r.video: set() for r in records}
        for r in records:
            subjects[r.video].add(r.subject)
        notes = ["megc-csv holds only intervals and micro/macro: apex, emotion, AUs, coder and status are left out"]
        clash = sorted(v for v, s in subjects.items() if len(s) > 1)
        if clash:
            notes.append(f"clip names repeat across subjects ({', '.join(clash[:3])}); the vid column cannot tell them apart")
        return notes

    def read(self, path: str | os.PathLike, **options) -> list[Record]:
        path = Path(path)
        base = int(options.get("frame_base", 1))
        fps = float(options.get("fps") or 30.0)
        coder = options.get("coder") or self.name
        vid, onset_col, offset_col, kind_col = _header(options)
        frame = read_csv(path)
        require_columns(path, frame, [vid, onset_col, offset_col], what="MEGC submission")
        out: dict[str, Record] = {}
        for i in range(len(frame)):
            row = frame.iloc[i]
            line = f"line {i + 2}"
            onset = frame_cell(path, line, onset_col, row[onset_col], base)
            offset = frame_cell(path, line, offset_col, row[offset_col], base)
            if offset < onset:
                raise FormatError(path, f"{line}: offset {offset + base} is before onset {onset + base}")
            code = str(row.get(kind_col, "")).strip().lower()
            if code not in ("me", "mae", ""):
                raise FormatError(path, f"{line}, {kind_col}: {code!r} is neither me nor mae")
            from ..labels import kind_for

            kind = {"me": "micro", "mae": "macro"}.get(code) or kind_for(onset, offset, fps)
            seg = Segment(onset=onset, apex=(onset + offset) // 2, offset=offset, kind=kind, status="proposed",
                          source=coder)
            rec = out.setdefault(row[vid], Record("", row[vid], coder, fps))
            rec.segments.append(seg)
            rec.origins.append(line)
        return list(out.values())
