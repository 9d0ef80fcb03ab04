"""What ``annotator quiz SOURCE...`` reads: session folders, or projects filtered by consent.

Real faces are personal data.  A project records, per subject, the uses their
footage may be put to; a quiz takes only the sessions of subjects who agreed to
``quiz``, and says how many subjects it left out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import AnnotatorError

#: The consent a subject must have given for their footage to appear in a quiz.
QUIZ_USE = "quiz"


def quiz_sessions(sources: Sequence[str | os.PathLike]) -> tuple[list, list[str]]:
    """The sessions behind ``sources`` and notes on what was left out.

    A session folder (or a video with one) is taken as it is: whoever names it
    answers for it.  A project contributes only its sessions whose subject
    consented to ``quiz``.

    Raises
    ------
    AnnotatorError
        A source that is neither, or a project with no subject who consented.
    """
    from ..project import Project, is_project_dir
    from ..session import Session

    sessions, notes, seen = [], [], set()
    for source in sources:
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
