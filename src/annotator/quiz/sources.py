"""What ``annotator quiz SOURCE...`` reads: session folders, projects or datasets, filtered by consent.

Real faces are personal data.  A project records, per subject, the uses their
footage may be put to, and a dataset carries that record in its manifest's
``consent`` column; a quiz takes only the subjects who agreed to ``quiz``, and
says how many subjects it left out.  A dataset is checked file by file
(:func:`annotator.dataset.open_dataset`) before anything is read from it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnnotatorError

#: The consent a subject must have given for their footage to appear in a quiz.
QUIZ_USE = "quiz"


@dataclass
class DatasetPart:
    """A checked dataset, and the subjects of it who consented to ``quiz``."""

    dataset: object  # annotator.dataset.Dataset
    subjects: frozenset


def _dataset_part(source) -> tuple[DatasetPart, list[str]]:
    from ..dataset import open_dataset

    ds = open_dataset(source)
    subjects = sorted(set(ds.manifest["subject"].astype(str)))
    if "consent" not in ds.manifest.columns:
        raise AnnotatorError(ds.root / "manifest.parquet", "records no consent (made by an older annotator); "
                                                           "rebuild it with `annotator dataset`")
    kept = [s for s in subjects if QUIZ_USE in ds.consent(s)]
    skipped = len(subjects) - len(kept)
    notes = []
    if skipped:
        samples = int((~ds.manifest["subject"].astype(str).isin(kept)).sum())
        notes.append(f"{ds.root}: skipped {skipped} subject(s) without {QUIZ_USE} consent ({samples} sample(s))")
    if not kept:
        raise AnnotatorError(ds.root, f"no subject has {QUIZ_USE} consent in the dataset's manifest; record it "
                                      f"in the project (`annotator project set PROJECT --subject S --consent "
                                      f"{QUIZ_USE}`) and build the dataset again")
    return DatasetPart(ds, frozenset(kept)), notes


def quiz_sessions(sources: Sequence[str | os.PathLike]) -> tuple[list, list[str]]:
    """The sessions (and dataset parts) behind ``sources``, and notes on what was left out.

    A session folder (or a video with one) is taken as it is: whoever names it
    answers for it.  A project contributes only its sessions whose subject
    consented to ``quiz``; a dataset only its samples of such subjects.

    Raises
    ------
    AnnotatorError
        A source that is neither, or a project with no subject who consented.
    """
    from ..dataset import is_dataset_dir
    from ..project import Project, is_project_dir
    from ..session import Session

    sessions, notes, seen = [], [], set()
    for source in sources:
        if is_dataset_dir(source):
            part, more = _dataset_part(source)
            notes += more
            sessions.append(part)
            continue
        if not is_project_dir(source):
            found = [Session.open(source)]
        else:
            project = Project.open(source)
            kept, skipped = project.sessions_allowing(QUIZ_USE)
            if skipped:
                notes.append(
                    f"{project.root}: skipped {len(skipped)} subject(s) without {QUIZ_USE} consent "
                    f"({sum(e.subject in skipped for e in project.sessions)} session(s))"
                )
            if not kept:
                raise AnnotatorError(
                    project.root,
                    f"no subject has {QUIZ_USE} consent; record it with "
                    f"`annotator project set {source} --subject S --consent {QUIZ_USE}`",
                )
            found = [entry.open() for entry in kept]
        for session in found:
            key = Path(session.root).resolve()
            if key not in seen:  # a session named twice (or in two projects) gives items once
                seen.add(key)
                sessions.append(session)
    return sessions, notes
