"""Where each session of a project stands: tracked, proposed, coded by whom, agreed.

Read from the files only (never under a lock, never writing), so ``annotator project
list`` is cheap on a large project and works while a coder has a session open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..agreement import CONSENSUS_CODER
from ..errors import AnnotatorError
from ..labels import AUTO_CODER
from .file import Project, ProjectSession


@dataclass(frozen=True)
class SessionStatus:
    """One session's progress.

    ``tracked`` is ``"complete"``, ``"partial"`` (a run stopped or is running),
    ``"no"`` or ``"missing"`` (the session folder or its video is gone).
    ``coders`` maps each coder (proposals and the consensus excluded) to their
    number of segments; ``agreed`` is true when a consensus file exists and none of
    its segments awaits adjudication.
    """

    entry: ProjectSession
    tracked: str
    proposals: int | None = None
    coders: dict[str, int] = field(default_factory=dict)
    consensus: int | None = None
    to_adjudicate: int = 0
    problem: str = ""

    @property
    def proposed(self) -> bool:
        return self.proposals is not None

    @property
    def agreed(self) -> bool:
        return self.consensus is not None and self.to_adjudicate == 0

    @property
    def coded(self) -> bool:
        return bool(self.coders)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry.id, "subject": self.entry.subject, "session": str(self.entry.session),
            "tracked": self.tracked, "proposals": self.proposals, "coders": dict(self.coders),
            "consensus": self.consensus, "to_adjudicate": self.to_adjudicate, "agreed": self.agreed,
            "problem": self.problem,
        }

    def format_line(self) -> str:
        proposed = "-" if self.proposals is None else str(self.proposals)
        coders = ", ".join(f"{c} ({n})" for c, n in self.coders.items()) or "-"
        if self.consensus is None:
            agreed = "-"
        elif self.to_adjudicate:
            agreed = f"{self.to_adjudicate} to adjudicate"
        else:
            agreed = "yes"
        line = f"{self.entry.id}  subject {self.entry.subject}  tracked {self.tracked}  proposed {proposed}  " \
               f"coded by {coders}  agreed {agreed}"
        return line + (f"  ({self.problem})" if self.problem else "")


def session_status(entry: ProjectSession) -> SessionStatus:
    """The status of one project session; a damaged file is reported, never raised."""
    from ..tracking.store import tracks_complete

    try:
        session = entry.open()
    except AnnotatorError as exc:
        return SessionStatus(entry, "missing", problem=exc.message)
    if not session.video_path.exists():
        tracked, problem = "missing", f"its video {session.video_path} is missing"
    else:
        tracked, problem = "no", ""
    if tracks_complete(session):
        tracked = "complete" if not problem else tracked
    elif session.tracks_path.is_dir() and not problem:
        tracked = "partial"
    problems = [problem] if problem else []

    def count(coder: str) -> tuple[int | None, int]:
        if not session.labels_path(coder).is_file():
            return None, 0
        try:
            labels = session.load_labels(coder)
        except AnnotatorError as exc:
            problems.append(exc.message)
            return None, 0
        return len(labels.segments), sum(1 for s in labels.segments if s.adjudication)

    proposals, _ = count(AUTO_CODER)
    coders = {}
    for coder in session.coders():
        if coder != CONSENSUS_CODER:
            n, _ = count(coder)
            if n is not None:
                coders[coder] = n
    consensus, pending = count(CONSENSUS_CODER)
    return SessionStatus(entry, tracked, proposals, coders, consensus, pending, "; ".join(problems))


def project_status(project: Project) -> list[SessionStatus]:
    return [session_status(e) for e in project.sessions]
