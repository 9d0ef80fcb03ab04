"""Other face tools' per-frame CSVs, imported as tracks: OpenFace 2.0 (``openface-csv``) and Py-Feat (``pyfeat-csv``).

Footage those tools already processed becomes a session whose ``tracks.zarr``
holds their 68 landmarks (``face68/landmarks``), their AU intensities
(``aus/values``, with ``aus/occurrence``), their head pose as ``face/matrix`` and
their confidence as ``face/score`` (layout: :mod:`annotator.tracking.store`).
The features then take the AUs from there (:func:`annotator.features.aus.external_channels`),
so the timeline shows them and ``annotator propose`` runs.

Frames: a row's ``frame`` column says which frame it is.  **OpenFace counts from
1** (``frame_base=1``); Py-Feat's ``detect_video`` counts from 0 (``frame_base=0``;
*recall*: pass ``--frame-base`` if your file differs).  Frames the CSV has no row
for, and rows where the tool found no face (OpenFace ``success`` 0, Py-Feat's
empty cells), are absent (``face/present`` False, NaN).  Where a frame has
several rows (several faces), the most confident one is kept and the rest are
reported.  The times in the store are the video's own, never the CSV's.

Bad input (a missing column, a non-numeric cell, a frame past the video's end or
repeated) is refused in one line naming the file, the row (the file's line
number) and the column, before anything is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .base import BaseFormat, FormatError, require_file
from .records import Record

N_POINTS = 68
LANDMARK_COLUMNS = [f"x_{i}" for i in range(N_POINTS)] + [f"y_{i}" for i in range(N_POINTS)]
#: Py-Feat's emotion columns, in the order ``emotions/values`` keeps them.
PYFEAT_EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


@dataclass
class FaceTable:
    """A face tool's CSV read into per-frame arrays for one video of ``frames`` frames.

    Attributes
    ----------
    present : ndarray [T] bool
    score : ndarray [T] float32
    landmarks : ndarray [T, 68, 2] float32
    matrix : ndarray [T, 4, 4] float32
        Head rotation (and translation where the tool gives one).
    au_names : tuple of str
    au_values : ndarray [T, K] float32
        Intensities in 0..1.
    au_occurrence : ndarray [T, K] float32
        0/1, NaN where the tool makes no presence call.
    au_scale : float
        What the tool's intensities were divided by (5 for OpenFace, 1 for Py-Feat).
    emotions : ndarray [T, 7] float32 or None
        Py-Feat's emotion probabilities (:data:`PYFEAT_EMOTIONS`).
    rows : int
        Rows read.
    notes : list of str
        What was left out (other faces' rows).
    """

    present: np.ndarray
    score: np.ndarray
    landmarks: np.ndarray
    matrix: np.ndarray
    au_names: tuple[str, ...]
    au_values: np.ndarray
    au_occurrence: np.ndarray
    au_scale: float
    emotions: np.ndarray | None = None
    rows: int = 0
    notes: list[str] = field(default_factory=list)


def rotation_matrix(rx: np.ndarray, ry: np.ndarray, rz: np.ndarray) -> np.ndarray:
    """``[T, 3, 3]`` rotations ``Rx @ Ry @ Rz`` from angles in radians (OpenFace's Euler convention)."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    one, zero = np.ones_like(rx), np.zeros_like(rx)
    mx = np.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], -1).reshape(-1, 3, 3)
    my = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    mz = np.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return mx @ my @ mz


# -- reading the CSV ----------------------------------------------------------------------
def _read(path: Path, wanted) -> "Any":
    from .tables import read_csv

    # OpenFace separates its header (and its values) with ", ": skipinitialspace strips them.
    frame = read_csv(path, skipinitialspace=True, usecols=lambda c: wanted(str(c).strip()))
    if not len(frame.columns):
        raise FormatError(path, "row 1 (header): column 'frame' is missing, and every other this tool writes "
                                "(is the file comma-separated?)")
    if not len(frame):
        raise FormatError(path, "no rows after the header (the tool found nothing, or the file was cut short)")
    _check_row_lengths(path)
    return frame


def _check_row_lengths(path: Path) -> None:
    """Refuse a row shorter than the header: pandas would fill it with empty cells, which read as no face."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        rows = csv.reader(fh)
        width = len(next(rows, []))
        for line, row in enumerate(rows, start=2):
            if row and len(row) < width:
                raise FormatError(path, f"row {line} has {len(row)} fields, the header {width} "
                                        "(the file was cut short?)")


def _require(path: Path, frame, needed: list[str]) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise FormatError(path, f"row 1 (header): column {missing[0]!r} is missing{more}")


def _numbers(path: Path, frame, column: str) -> np.ndarray:
    """A column as float64; an empty cell is NaN, anything else not a number is refused naming its row."""
    import pandas as pd

    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
    bad = np.isnan(values) & (text != "").to_numpy() & ~text.str.lower().isin(["nan", "na", "-nan"]).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FormatError(path, f"row {i + 2}, column {column!r}: {text.iloc[i]!r} is not a number")
    return values


def _frame_index(path: Path, numbers: np.ndarray, frames: int, base: int, column: str = "frame") -> np.ndarray:
    """0-based frame of each row; a missing, fractional or out-of-range frame is refused naming its row."""
    for i, v in enumerate(numbers):
        if not np.isfinite(v) or v != int(v):
            raise FormatError(path, f"row {i + 2}, column {column!r}: {v!r} is not a frame number")
    index = numbers.astype(np.int64) - int(base)
    before = np.flatnonzero(index < 0)
    if before.size:
        i = int(before[0])
        raise FormatError(path, f"row {i + 2}, column {column!r}: frame {int(numbers[i])} is before the video's "
                                f"first frame ({base}; pass --frame-base if the file counts otherwise)")
    past = np.flatnonzero(index >= frames)
    if past.size:
        i = int(past[0])
        raise FormatError(path, f"row {i + 2}, column {column!r}: frame {int(numbers[i])} is past the end of the "
                                f"video ({frames} frames, numbered from {base})")
    return index


def _best_rows(index: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, int]:
    """For each frame, the row with the highest score (the first on a tie); how many rows were dropped."""
    key = np.nan_to_num(score, nan=-np.inf)
    order = np.lexsort((np.arange(len(index)), -key, index))
    first = np.ones(len(order), bool)
    first[1:] = index[order][1:] != index[order][:-1]
    keep = np.sort(order[first])
    return keep, len(index) - len(keep)


def _table(path: Path, frame, frames: int, *, base: int, score_column: str, found: np.ndarray,
           matrix: np.ndarray, au_names: list[str], au_values: np.ndarray, au_occ: np.ndarray, scale: float,
           emotions: np.ndarray | None = None) -> FaceTable:
    """Place the rows' values at their frames (one row per frame)."""
    index = _frame_index(path, _numbers(path, frame, "frame"), frames, base)
    score = _numbers(path, frame, score_column)
    xy = np.stack([np.stack([_numbers(path, frame, f"x_{i}"), _numbers(path, frame, f"y_{i}")], -1)
                   for i in range(N_POINTS)], axis=1)
    found = found & np.isfinite(xy).all(axis=(1, 2))
    keep, dropped = _best_rows(index, np.where(found, score, np.nan))
    notes = [f"{dropped} row(s) of other faces in frames that have several were left out (the most confident "
             "face of each frame is kept)"] if dropped else []
    rows, at = keep[found[keep]], index[keep[found[keep]]]

    def place(values: np.ndarray, dtype=np.float32) -> np.ndarray:
        out = np.full((frames, *values.shape[1:]), np.nan, dtype)
        out[at] = values[rows]
        return out

    present = np.zeros(frames, bool)
    present[at] = True
    return FaceTable(
        present=present, score=place(np.clip(score, 0.0, 1.0)), landmarks=place(xy), matrix=place(matrix),
        au_names=tuple(au_names), au_values=place(au_values), au_occurrence=place(au_occ), au_scale=scale,
        emotions=None if emotions is None else place(emotions), rows=len(frame), notes=notes,
    )


def _clock_notes(path: Path, frame, frames: int, base: int, times: np.ndarray) -> list[str]:
    """A note when the CSV's timestamps disagree with the video's clock by more than a frame.

    Rows are placed by their frame number; a timestamp far from that frame's own
    time suggests the CSV was made from another encoding of the video (another rate).
    """
    index = _frame_index(path, _numbers(path, frame, "frame"), frames, base)
    stamp = _numbers(path, frame, "timestamp")
    ok = np.isfinite(stamp)
    if not ok.any() or len(times) != frames:
        return []
    offset = times[0]  # OpenFace starts its clock at 0
    diff = np.abs(stamp[ok] - (times[index[ok]] - offset))
    step = float(np.median(np.diff(times))) if frames > 1 else 0.0
    worst = int(np.argmax(diff))
    if step and diff[worst] > step:
        row = int(np.flatnonzero(ok)[worst]) + 2
        return [f"timestamps disagree with the video's clock by up to {1000 * diff[worst]:.0f} ms (row {row}); "
                "rows were placed by their frame numbers: check the CSV was made from this video"]
    return []


class _FaceToolCsv(BaseFormat):
    """What the two tools' CSV formats share: they read tracks, never labels."""

    suffix = ".csv"
    can_write = False
    #: This format fills a session's tracks (``annotator import NAME FILE --video VIDEO``).
    imports = "tracks"
    emotions = "none: per-frame tracks, not labelled segments"
    backend = ""
    source = ""
    default_base = 0
    signature: tuple[str, ...] = ()

    def sniff(self, path: Path) -> bool:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                header = {c.strip() for c in fh.readline().split(",")}
        except OSError:
            return False
        return all(c in header for c in self.signature)

    def read(self, path: str | os.PathLike, **options: Any) -> list[Record]:
        raise FormatError(path, f"a {self.name} file holds per-frame tracks, not labels: use "
                                f"`annotator import {self.name} FILE --video VIDEO`")

    def read_tracks(self, path: str | os.PathLike, frames: int, **options: Any) -> FaceTable:
        """The CSV's rows placed on a video of ``frames`` frames (``frame_base`` may override the tool's)."""
        raise NotImplementedError

    def _base(self, options: dict[str, Any]) -> int:
        base = options.get("frame_base")
        try:
            return self.default_base if base is None else int(base)
        except (TypeError, ValueError):
            raise FormatError(None, f"frame_base must be an integer, got {base!r}") from None


_OPENFACE_AU = re.compile(r"AU(\d\d)_([rc])")


class OpenFaceCsv(_FaceToolCsv):
    """OpenFace 2.0 ``FeatureExtraction`` CSV: frame, timestamp, confidence, success, x_0..y_67, pose_R*, AUxx_r/_c.

    **Frames are 1-based** (``frame`` 1 is the video's frame 0).  ``success`` 0 means
    no face.  ``AUxx_r`` intensities (0-5) are divided by 5; ``AUxx_c`` (0/1) are the
    occurrence calls (AU28 has only ``_c``).  ``pose_Rx/Ry/Rz`` are radians and
    ``pose_Tx/Ty/Tz`` millimetres.  The header's ", " separators are stripped.
    """

    name = "openface-csv"
    description = "OpenFace 2.0 per-frame CSV, imported as tracks (68 landmarks, AUs, head pose)"
    frame_base = "1-based (OpenFace's frame column); frames without a row or with success 0 are absent"
    backend = "openface_2_csv"
    source = "openface-2.0"
    default_base = 1
    signature = ("frame", "success", "confidence", "AU01_r")
    POSE = ("pose_Rx", "pose_Ry", "pose_Rz")

    def read_tracks(self, path: str | os.PathLike, frames: int, **options: Any) -> FaceTable:
        path = require_file(path)
        base = self._base(options)
        head = {"frame", "timestamp", "confidence", "success", *self.POSE, "pose_Tx", "pose_Ty", "pose_Tz",
                *LANDMARK_COLUMNS}
        frame = _read(path, lambda c: c in head or bool(_OPENFACE_AU.fullmatch(c)))
        _require(path, frame, ["frame", "confidence", "success", *self.POSE, *LANDMARK_COLUMNS])
        units = sorted({m.group(1) for c in frame.columns if (m := _OPENFACE_AU.fullmatch(c))})
        if not any(f"AU{u}_r" in frame.columns for u in units):
            raise FormatError(path, "row 1 (header): no AUxx_r intensity columns (run FeatureExtraction with -aus)")
        T = len(frame)

        def column(name: str) -> np.ndarray:
            return _numbers(path, frame, name) if name in frame.columns else np.full(T, np.nan)

        values = np.stack([column(f"AU{u}_r") / 5.0 for u in units], -1)
        occurrence = np.stack([column(f"AU{u}_c") for u in units], -1)
        matrix = np.zeros((T, 4, 4))
        matrix[:, :3, :3] = rotation_matrix(*(column(c) for c in self.POSE))
        matrix[:, :3, 3] = np.stack([np.nan_to_num(column(c)) for c in ("pose_Tx", "pose_Ty", "pose_Tz")], -1)
        matrix[:, 3, 3] = 1.0
        success = column("success")
        table = _table(path, frame, frames, base=base, score_column="confidence", found=success > 0.5,
                       matrix=matrix, au_names=[f"AU{u}" for u in units], au_values=np.clip(values, 0.0, 1.0),
                       au_occ=occurrence, scale=5.0)
        times = options.get("times")
        if times is not None and "timestamp" in frame.columns:
            table.notes.extend(_clock_notes(path, frame, frames, base, np.asarray(times, np.float64)))
        return table


_PYFEAT_AU = re.compile(r"AU\d\d")


class PyFeatCsv(_FaceToolCsv):
    """Py-Feat ``Fex`` CSV: frame, FaceRect*, FaceScore, x_0..y_67, Pitch/Roll/Yaw, AU01..AU43, emotions.

    **Frames are 0-based** (Py-Feat's ``frame`` column from ``detect_video``; *recall*,
    override with ``--frame-base``).  A row with an empty ``FaceScore`` or empty
    landmarks found no face.  AUs are already 0..1; Pitch, Roll and Yaw are degrees
    (*recall*).  The seven emotion probabilities are kept as ``emotions/values``.
    """

    name = "pyfeat-csv"
    description = "Py-Feat (Fex) per-frame CSV, imported as tracks (68 landmarks, AUs, head pose, emotions)"
    frame_base = "0-based (Py-Feat's frame column); frames without a row or a face are absent"
    backend = "pyfeat_csv"
    source = "py-feat"
    default_base = 0
    signature = ("frame", "FaceScore", "x_0")
    POSE = ("Pitch", "Yaw", "Roll")

    def read_tracks(self, path: str | os.PathLike, frames: int, **options: Any) -> FaceTable:
        path = require_file(path)
        base = self._base(options)
        head = {"frame", "FaceScore", *self.POSE, *LANDMARK_COLUMNS, *PYFEAT_EMOTIONS}
        frame = _read(path, lambda c: c in head or bool(_PYFEAT_AU.fullmatch(c)))
        _require(path, frame, ["frame", "FaceScore", *self.POSE, *LANDMARK_COLUMNS])
        units = sorted(c for c in frame.columns if _PYFEAT_AU.fullmatch(c))
        if not units:
            raise FormatError(path, "row 1 (header): no AU columns (AU01 ... AU43)")
        values = np.stack([_numbers(path, frame, u) for u in units], -1)
        bad = np.argwhere((values < -0.01) | (values > 1.01))
        if len(bad):
            i, k = (int(v) for v in bad[0])
            raise FormatError(path, f"row {i + 2}, column {units[k]!r}: {values[i, k]:g} is outside 0..1")
        pitch, yaw, roll = (np.radians(_numbers(path, frame, c)) for c in self.POSE)
        matrix = np.zeros((len(frame), 4, 4))
        matrix[:, :3, :3] = rotation_matrix(pitch, yaw, roll)
        matrix[:, 3, 3] = 1.0
        emotions = None
        if all(e in frame.columns for e in PYFEAT_EMOTIONS):
            emotions = np.stack([_numbers(path, frame, e) for e in PYFEAT_EMOTIONS], -1)
        score = _numbers(path, frame, "FaceScore")
        return _table(path, frame, frames, base=base, score_column="FaceScore", found=np.isfinite(score),
                      matrix=matrix, au_names=units, au_values=np.clip(values, 0.0, 1.0),
                      au_occ=np.full_like(values, np.nan), scale=1.0, emotions=emotions)


__all__ = ["FaceTable", "OpenFaceCsv", "PyFeatCsv", "rotation_matrix"]
