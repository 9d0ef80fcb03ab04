"""Training examples from a dataset folder (``annotator train DATASET``), the same as from its project.

A dataset carries each source session's AU features for every frame
(``sessions/<session>/features.parquet``) and one manifest row per labelled
segment, so the apex features, the LOSO folds (over the dataset's subjects) and
the spotter calibration come out as they would from the project with the same
labels.  The dataset is checked first (every file's sha256, :func:`annotator.dataset.open_dataset`),
and a subject without ``train`` consent recorded in its manifest is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AnnotatorError
from ..labels.model import Segment
from ..spotting.spotter import Spotter
from .examples import SessionExamples, TrainingSet, _labels_digest, emotion_rows

TRAIN_USE = "train"


@dataclass(frozen=True)
class DatasetSession:
    """What a training set keeps of a session it read from a dataset (no video, no tracks)."""

    root: Path
    name: str
    sha256: str
    n_frames: int
    subject: str


def _segments(rows) -> list[Segment]:
    out = []
    for row in rows.itertuples(index=False):
        aus = [a for a in str(row.aus or "").split() if a]
        out.append(Segment(onset=int(row.onset), apex=int(row.apex), offset=int(row.offset), emotion=str(row.emotion),
                           kind=str(row.kind), aus=aus, status="accepted", source=str(row.coders or "")))
    return sorted(out, key=lambda s: (s.onset, s.offset))


def gather_dataset(path, *, coder: str | None = None, say=None) -> tuple[TrainingSet, dict]:
    """``(training set, what to record of the dataset)`` from the dataset folder ``path``."""
    from ..dataset import open_dataset
    from ..io import sha256_file

    ds = open_dataset(path)
    made_for = str(ds.settings.get("coder") or "")
    if coder is not None and coder != made_for:
        raise AnnotatorError(ds.root, f"holds the labels of {made_for or 'an unnamed coder'}, not {coder}; "
                                      "build a dataset with `annotator dataset PROJECT --coder NAME`")
    m = ds.manifest
    subjects = sorted(set(m["subject"].astype(str)))
    if "consent" not in m.columns:
        raise AnnotatorError(ds.root / "manifest.parquet", "records no consent (made by an older annotator); "
                                                           "rebuild it with `annotator dataset`")
    kept = [s for s in subjects if TRAIN_USE in ds.consent(s)]
    skipped = [s for s in subjects if s not in kept]
    if skipped and say is not None:
        say(f"{ds.root}: left out subjects without consent to train: {', '.join(skipped)}")
    if not kept:
        raise AnnotatorError(ds.root, "has no subject who consented to training (the manifest's consent column)")
    out = TrainingSet()
    xs, ys, gs = [], [], []
    spotter = Spotter()
    for session_id, info in ds.sessions.items():
        subject = str(info.get("subject"))
        if subject not in kept:
            continue
        rows = m[m["session"].astype(str) == session_id]
        features = ds.session_features(session_id)
        segments = _segments(rows)
        for s in segments:
            if s.offset >= len(features.present):
                raise AnnotatorError(ds.root / "manifest.parquet",
                                     f"a {session_id} segment ends at frame {s.offset}, past its last frame")
        stand_in = DatasetSession(ds.root, session_id, str(info.get("sha256", "")), len(features.present), subject)
        out.sessions.append(SessionExamples(stand_in, subject, made_for, features, segments,
                                            _labels_digest(segments)))
        X, y = emotion_rows(features, segments, spotter)
        xs.append(X)
        ys.append(y)
        gs.append(np.full(len(y), subject, dtype=object))
        out.channels = tuple(features.channels)
    if not out.sessions:
        raise AnnotatorError(ds.root, "records no source sessions; rebuild it with this version of "
                                      "`annotator dataset`")
    out.X = np.concatenate(xs)
    out.y = np.concatenate(ys)
    out.groups = np.concatenate(gs)
    record = {"path": str(ds.root), "manifest_sha256": sha256_file(ds.root / "manifest.parquet"),
              "split": ds.settings.get("split"), "coder": made_for, "samples": int(len(m))}
    return out, record
