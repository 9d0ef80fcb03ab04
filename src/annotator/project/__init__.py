"""Projects: a corpus of sessions with their subjects, metadata and consent.

:class:`Project` reads and edits ``project.json`` (:mod:`.file`);
:func:`project_status` says where each session stands (:mod:`.status`);
:func:`resolve_sessions` turns command-line arguments that may name projects
into their videos or sessions.
"""

from .file import (
    CONSENT_USES,
    PROJECT_FILE,
    Project,
    ProjectError,
    ProjectSession,
    Subject,
    is_project_dir,
    parse_consent,
    project_schema,
)
from .status import SessionStatus, project_status, session_status

__all__ = [
    "CONSENT_USES", "PROJECT_FILE", "Project", "ProjectError", "ProjectSession", "SessionStatus", "Subject",
    "expand_project_args", "is_project_dir", "parse_consent", "project_schema", "project_status", "session_status",
]


def expand_project_args(paths, what: str = "session"):
    """Each path as given, except a project directory, which becomes its sessions' paths.

    ``what`` is ``"session"`` (the ``.annot`` folders, for ``propose``) or ``"video"``
    (for ``track``, which makes the sessions beside the videos as the project expects).
    """
    from pathlib import Path

    out = []
    for path in paths:
        if is_project_dir(path):
            project = Project.open(path)
            if not project.sessions:
                raise ProjectError(project.root, "has no sessions yet; add some with `annotator project add`")
            out.extend(e.session if what == "session" else e.video for e in project.sessions)
        else:
            out.append(Path(path))
    return out
