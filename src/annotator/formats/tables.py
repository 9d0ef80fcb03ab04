"""Shared reading of the datasets' tables: columns checked, frames and emotions mapped.

Every table is read with ``index_col=False`` (so a trailing comma never shifts the
columns) and as strings (so ``/`` in an apex cell is seen, not turned into NaN),
and its columns are validated before any row is used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from ..labels import EMOTION_LABELS, format_aus
from .base import FormatError, require_file

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def emotion_mapping_text(to_ours: Mapping[str, str], to_theirs: Mapping[str, str]) -> str:
    """One line stating both directions of an emotion mapping, for docs and ``annotator formats``."""
    read = ", ".join(f"{k}→{v}" for k, v in to_ours.items() if k != v)
    write = ", ".join(f"{k}→{v}" for k, v in to_theirs.items() if k != v)
    return f"read: {read or 'names kept'}; write: {write or 'names kept'}"


def map_emotion(value: str, to_ours: Mapping[str, str]) -> str:
    """Our emotion for a table's cell (case and spaces ignored; unknown names → ``other``)."""
    key = " ".join(str(value).split()).lower()
    if key in to_ours:
        return to_ours[key]
    return key if key in EMOTION_LABELS else "other"


def read_csv(path: str | os.PathLike, **kwargs) -> "pd.DataFrame":
    import warnings

    import pandas as pd

    path = require_file(path)
    try:
        with warnings.catch_warnings():
            # index_col=False: rows with one field too many would otherwise turn the first
            # column into the index and shift every value; pandas then only warns that it
            # drops the extra fields, and that loss is an error here.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False, **kwargs)
    except pd.errors.ParserWarning:
        raise FormatError(path, "rows have more fields than the header; fix the file's delimiters") from None
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"not a readable CSV ({exc.__class__.__name__}: {' '.join(str(exc).split())})") from None
    # pandas renames a repeated header name to "name.1": which column was meant is unknowable
    names = [str(c).strip() for c in frame.columns]
    repeated = sorted({n.rsplit(".", 1)[0] for n in names if "." in n and n.rsplit(".", 1)[0] in names
                       and n.rsplit(".", 1)[1].isdigit()})
    if repeated:
        raise FormatError(path, f"column {repeated[0]!r} appears more than once")
    frame.columns = names
    return frame


def read_xlsx(path: str | os.PathLike, *, header: int | None = 0, sheet: int | str = 0) -> "pd.DataFrame":
    import pandas as pd

    path = require_file(path)
    try:
        frame = pd.read_excel(
            path, sheet_name=sheet, header=header, dtype=str, keep_default_na=False, index_col=None,
            engine="openpyxl",
        )
    except (OSError, ValueError, KeyError, ImportError) as exc:
        raise FormatError(path, f"not a readable xlsx workbook ({exc.__class__.__name__}: {' '.join(str(exc).split())})") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile/xml errors of many kinds on a damaged file
        raise FormatError(path, f"not a readable xlsx workbook ({exc.__class__.__name__})") from None
    if header is not None:
        frame.columns = [" ".join(str(c).split()) for c in frame.columns]
    return frame


def require_columns(path: Path, frame: "pd.DataFrame", needed: list[str], *, what: str, header_row: int = 1) -> None:
    """Raise naming the first missing column, and what the table has instead."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        have = ", ".join(repr(c) for c in list(frame.columns)[:12])
        raise FormatError(
            path, f"row {header_row}: missing column {missing[0]!r} (not a {what} table; its header has {have})"
        )


def frame_cell(path: Path, row: str, column: str, value: str, base: int, *, allow_slash: bool = False) -> int | None:
    """A 0-based frame from a table cell holding a ``base``-based frame number.

    ``/`` (an apex the coders did not mark) gives ``None`` when allowed.
    """
    text = str(value).strip()
    if allow_slash and text in ("/", "", "-"):
        return None
    try:
        number = float(text)
    except ValueError:
        raise FormatError(path, f"{row}, {column}: {text!r} is not a frame number") from None
    if number != int(number):
        raise FormatError(path, f"{row}, {column}: {text!r} is not a whole frame number")
    frame = int(number) - base
    if frame < 0:
        hint = " (frames in this table count from 1; was it written 0-based?)" if base == 1 else ""
        raise FormatError(path, f"{row}, {column}: frame {int(number)} is before the first frame{hint}")
    return frame


def split_aus(text: str) -> list[str]:
    """``"4+L10"``, ``"AU4, AU7"`` → ``["4", "L10"]``: a dataset's AU cell in our notation.

    The datasets write FACS's own style (CASME II ``4+L10``, SAMM ``R12+R14``);
    :func:`annotator.labels.facs.parse_au` reads each unit, and what it cannot read
    is kept as written, for the segment's own check to name.
    """
    import re

    from ..labels.facs import parse_au

    out = []
    for part in re.split(r"[+,;\s]+", str(text)):
        part = part.strip()
        if not part or part in ("/", "-"):
            continue
        try:
            out.append(str(parse_au(part)))
        except ValueError:
            out.append(part)
    return out


def apex_or_middle(onset: int, apex: int | None, offset: int) -> int:
    """The apex; the middle frame when the table gives none; clamped into onset–offset.

    SAMM has two clips whose apex lies outside onset–offset; our model needs
    ``onset <= apex <= offset``, so such an apex is moved to the nearer end.
    """
    if apex is None:
        return (onset + offset) // 2
    return min(max(apex, onset), offset)


class TableFormat:
    """A dataset's spreadsheet or CSV: one row per segment, columns named by ``columns``.

    Subclasses set the class attributes; :meth:`read` and :meth:`write` do the rest.
    ``columns`` maps our roles (``subject, video, onset, apex, offset, aus, emotion``,
    optionally ``kind``, ``notes``) to the table's column names; with
    ``header = None`` the names are positions in a table without a header.
    """

    # set by subclasses
    columns: dict[str, str | int] = {}
    extra_columns: dict[str, str | int] = {}
    header: int | None = 0
    base: int = 0
    default_fps: float = 30.0
    to_ours: dict[str, str] = {}
    to_theirs: dict[str, str] = {}
    dataset = "dataset"
    #: our fields a row cannot hold, named in the export's note
    not_held = ("confidence", "status", "ids", "emotion scores", "intensity", "times")

    # -- reading --------------------------------------------------------------------
    def _read_frame(self, path: Path) -> "pd.DataFrame":
        if str(self.suffix).lower() == ".csv":
            return read_csv(path)
        return read_xlsx(path, header=self.header)

    def _row_label(self, i: int) -> str:
        # spreadsheet row numbers as a user sees them: the header is one row, and
        # the rows before it (SAMM's 12-line preamble) are counted too
        first = (self.header + 2) if self.header is not None else 1
        return f"row {i + first}"

    def _cell(self, row, role: str, default: str = "") -> str:
        col = {**self.columns, **self.extra_columns}.get(role)
        if col is None:
            return default
        if isinstance(col, int):
            # a spreadsheet drops trailing empty columns, so an optional one may be absent
            value = row.iloc[col] if col < len(row) else default
        else:
            value = row.get(col, default)
        return "" if value is None else str(value)

    def _validate(self, path: Path, frame: "pd.DataFrame") -> None:
        if self.header is None:
            need = max(c for c in self.columns.values() if isinstance(c, int)) + 1
            if frame.shape[1] < need:
                raise FormatError(
                    path, f"has {frame.shape[1]} columns, a {self.dataset} table has at least {need} "
                    f"({', '.join(self.columns)})"
                )
            return
        needed = [str(c) for c in self.columns.values()]
        require_columns(path, frame, needed, what=self.dataset, header_row=self.header + 1)

    def _kind(self, path: Path, label: str, row, onset: int, offset: int, fps: float) -> str:
        from ..labels import kind_for

        text = self._cell(row, "kind").strip().lower()
        if text.startswith("micro") or text == "me":
            return "micro"
        if text.startswith("macro") or text == "mae":
            return "macro"
        return kind_for(onset, offset, fps)

    def _offset(self, path: Path, label: str, row, base: int, onset: int, apex: int | None) -> int:
        return frame_cell(path, label, self._colname("offset"), self._cell(row, "offset"), base)

    def _colname(self, role: str) -> str:
        """How a message names a column: its header, or its position and role in a headerless table."""
        col = {**self.columns, **self.extra_columns}[role]
        return f"column {col + 1} ({role})" if isinstance(col, int) else str(col)

    def read(self, path: str | os.PathLike, **options) -> list:
        from ..labels import Segment
        from .records import Record

        path = require_file(path)
        base = int(options.get("frame_base", self.base))
        fps = float(options.get("fps") or self.default_fps)
        coder = options.get("coder") or self.name
        frame = self._read_frame(path)
        self._validate(path, frame)
        records: dict[tuple[str, str], Record] = {}
        for i in range(len(frame)):
            row = frame.iloc[i]
            label = self._row_label(i)
            if not any(str(v).strip() for v in row.tolist()):
                continue  # blank spreadsheet rows between blocks
            video = self._cell(row, "video").strip()
            if not video:
                raise FormatError(path, f"{label}, {self._colname('video')}: the clip name is empty")
            subject = self._cell(row, "subject").strip()
            onset = frame_cell(path, label, self._colname("onset"), self._cell(row, "onset"), base)
            apex = frame_cell(path, label, self._colname("apex"), self._cell(row, "apex"), base,
                              allow_slash=True) if "apex" in self.columns else None
            offset = self._offset(path, label, row, base, onset, apex)
            if offset < onset:
                raise FormatError(path, f"{label}: offset {offset + base} is before onset {onset + base}")
            apex = apex_or_middle(onset, apex, offset)
            try:
                seg = Segment(
                    onset=onset, apex=apex, offset=offset,
                    emotion=map_emotion(self._cell(row, "emotion"), self.to_ours),
                    kind=self._kind(path, label, row, onset, offset, fps),
                    aus=split_aus(self._cell(row, "aus")),
                    notes=self._cell(row, "notes").strip(), source=coder,
                )
            except ValueError as exc:
                raise FormatError(path, f"{label}: {exc}") from None
            rec = records.setdefault((subject, video), Record(subject, video, coder, fps))
            rec.segments.append(seg)
            rec.origins.append(label)
        return list(records.values())

    # -- writing --------------------------------------------------------------------
    def _row(self, record, seg, base: int) -> dict:
        ours = {
            "subject": record.subject, "video": record.video,
            "onset": seg.onset + base, "apex": seg.apex + base, "offset": seg.offset + base,
            "aus": format_aus(seg.aus),
            "emotion": self.to_theirs.get(seg.emotion, seg.emotion),
            "kind": seg.kind, "notes": seg.notes,
        }
        return ours

    def table(self, records: list, base: int) -> "pd.DataFrame":
        import pandas as pd

        names = {**self.columns, **self.extra_columns}
        ordered = sorted(names.items(), key=lambda kv: list(self.column_order).index(kv[0]))
        rows = []
        for record in records:
            for seg in record.segments:
                ours = self._row(record, seg, base)
                rows.append([ours.get(role, "") for role, _ in ordered])
        return pd.DataFrame(rows, columns=[str(c) for _, c in ordered])

    column_order: tuple[str, ...] = ("subject", "video", "onset", "apex", "offset", "aus", "emotion", "kind", "notes")

    def lost(self, records: list) -> list[str]:
        """What the table cannot hold of these records, as export notes."""
        segs = [s for r in records for s in r.segments]
        if not segs:
            return []
        notes = [f"{self.name} does not hold {', '.join(self.not_held)}"]
        coarse = [s for s in segs if map_emotion(self.to_theirs.get(s.emotion, s.emotion), self.to_ours) != s.emotion]
        if coarse:
            names = ", ".join(sorted({s.emotion for s in coarse}))
            notes.append(f"{len(coarse)} segments' emotions ({names}) have no {self.dataset} class of their own "
                         "and were written as its nearest one")
        return notes

    def write(self, records: list, path: str | os.PathLike, **options) -> list[str]:
        from ..io import atomic_open, atomic_write_text

        base = int(options.get("frame_base", self.base))
        table = self.table(records, base)
        if str(self.suffix).lower() == ".csv":
            atomic_write_text(path, table.to_csv(index=False))
        else:
            import pandas as pd

            with atomic_open(path) as fh:
                with pd.ExcelWriter(fh, engine="openpyxl") as xl:
                    if self.header is None:
                        table.to_excel(xl, index=False, header=False)
                    else:
                        self.write_preamble(xl, records)
                        table.to_excel(xl, index=False, startrow=self.header)
        return self.lost(records)

    def write_preamble(self, xl, records: list) -> None:
        """Rows above the header (SAMM's); nothing by default."""
