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
    number of segments, and ``reviewed`` to how many of the proposals they have
    accepted, edited or rejected (their copies keep the proposal's id, the rule
    the workbench's "to review" count follows); ``agreed`` is true when a consensus
    file exists and none of its segments awaits adjudication.
    """

    entry: ProjectSession
    tracked: str
    proposals: int | None = None
    coders: dict[str, int] = field(default_factory=dict)
    consensus: int | None = None
    to_adjudicate: int = 0
    problem: str = ""
    reviewed: dict[str, int] = field(default_factory=dict)

    @property
    def proposed(self) -> bool:
        return self.proposals is not None

    @property
    def agreed(self) -> bool:
        return self.consensus is not None and self.to_adjudicate == 0

    @property
    def coded(self) -> bool:
        return bool(self.coders)

    def progress(self, coder: str) -> tuple[int, int]:
        """``(reviewed, proposals)`` for ``coder``: how far they are through this session's proposals."""
        return self.reviewed.get(coder, 0), self.proposals or 0

    def uncoded_by(self, coder: str) -> bool:
        """Whether ``coder`` has work here: tracked, and not every proposal reviewed (nothing coded, when none).

        Sessions that are untracked, partly tracked or missing are not offered: there is
        nothing to review in them yet.
        """
        if self.tracked != "complete":
            return False
        if self.proposals:
            return self.reviewed.get(coder, 0) < self.proposals
        return coder not in self.coders

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry.id, "subject": self.entry.subject, "session": str(self.entry.session),
            "tracked": self.tracked, "proposals": self.proposals, "coders": dict(self.coders),
            "consensus": self.consensus, "to_adjudicate": self.to_adjudicate, "agreed": self.agreed,
            "reviewed": dict(self.reviewed), "problem": self.problem,
        }

    # What ``annotator project list`` prints and the workbench's project dock shows, said once.
    def proposed_text(self) -> str:
        return "-" if self.proposals is None else str(self.proposals)

    def coders_text(self) -> str:
        return ", ".join(f"{c} ({n})" for c, n in self.coders.items()) or "-"

    def agreed_text(self) -> str:
        if self.consensus is None:
            return "-"
        return f"{self.to_adjudicate} to adjudicate" if self.to_adjudicate else "yes"

    def progress_text(self) -> str:
        """Each coder's reviewed/proposals (``"alice 3/7, bob 7/7"``); ``"-"`` without proposals or coders."""
        if not self.proposals or not self.coders:
            return "-"
        return ", ".join(f"{c} {self.reviewed.get(c, 0)}/{self.proposals}" for c in self.coders)

    def format_line(self) -> str:
        line = f"{self.entry.id}  subject {self.entry.subject}  tracked {self.tracked}  " \
               f"proposed {self.proposed_text()}  coded by {self.coders_text()}  agreed {self.agreed_text()}"
        if self.progress_text() != "-":
            line += f"  reviewed {self.progress_text()}"
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

    def segments(coder: str):
        if not session.labels_path(coder).is_file():
            return None
        try:
            return session.load_labels(coder).segments
        except AnnotatorError as exc:
            problems.append(exc.message)
            return None

    auto = segments(AUTO_CODER)
    proposal_ids = {s.id for s in auto or ()}
    coders, reviewed = {}, {}
    for coder in session.coders():
        if coder not in (CONSENSUS_CODER, AUTO_CODER):
            own = segments(coder)
            if own is not None:
                coders[coder] = len(own)
                reviewed[coder] = len(proposal_ids & {s.id for s in own})
    consensus = segments(CONSENSUS_CODER)
    return SessionStatus(entry, tracked, None if auto is None else len(auto), coders,
                         None if consensus is None else len(consensus),
                         sum(1 for s in consensus or () if s.adjudication), "; ".join(problems), reviewed)


def project_status(project: Project) -> list[SessionStatus]:
    return [session_status(e) for e in project.sessions]


def next_uncoded(statuses: list[SessionStatus], coder: str, after: str | None = None) -> SessionStatus | None:
    """The first session after ``after`` (a session id; project order, wrapping round) that ``coder`` has work in.

    ``after`` itself comes last, so the session open now is offered only when it is the
    only one left.  ``None`` when every session is coded (or none can be reviewed yet).
    """
    ids = [st.entry.id for st in statuses]
    start = ids.index(after) + 1 if after in ids else 0
    for st in statuses[start:] + statuses[:start]:
        if st.uncoded_by(coder):
            return st
    return None


def session_to_open(project: Project, coder: str) -> ProjectSession:
    """The session to open a project at: the first ``coder`` has work in, else the first tracked, else the first."""
    from .file import ProjectError

    if not project.sessions:
        raise ProjectError(project.root, "has no sessions yet; add some with `annotator project add`")
    statuses = project_status(project)
    st = next_uncoded(statuses, coder) or next((s for s in statuses if s.tracked == "complete"), statuses[0])
    return st.entry
