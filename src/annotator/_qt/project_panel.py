"""The project dock: the sessions of the project the open session belongs to, where each
stands, each coder's progress, and *Open next uncoded session*.

Every figure comes from :func:`annotator.project.project_status`, the same as
``annotator project list`` prints; this panel only lays it out and asks the dock
to switch sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtGui import QFont
from qtpy.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout

#: The table's columns: a header and the status's text for it.
COLUMNS: tuple[tuple[str, Callable], ...] = (
    ("session", lambda st: st.entry.id),
    ("subject", lambda st: st.entry.subject),
    ("tracked", lambda st: st.tracked),
    ("proposed", lambda st: st.proposed_text()),
    ("coded by", lambda st: st.coders_text()),
    ("reviewed", lambda st: st.progress_text()),
    ("agreed", lambda st: st.agreed_text()),
)

#: After an edit the open session's row is read again once the coder pauses this long.
REFRESH_DELAY_MS = 400


class ProjectPanel(QGroupBox):
    """The project's sessions and the coders' progress; hidden when the session is in no project.

    Signals
    -------
    openRequested(str)
        A session folder the coder asked to open (next uncoded, or a row activated).

    Parameters
    ----------
    say : callable
        Shows a one-line message.
    keys : str
        The keys of *Open next uncoded session*, for its label (``"Shift-N"``).
    """

    openRequested = Signal(str)

    def __init__(self, say: Callable[[str], None], keys: str = "", parent=None):
        super().__init__("Project", parent)
        self._say = say
        self.project = None
        self.current_id: str | None = None
        self.coder = ""
        self.statuses: list = []
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels([name for name, _ in COLUMNS])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setMaximumHeight(150)
        self.tree.setToolTip("Double-click (or Enter on) a session to open it")
        self.tree.itemActivated.connect(self._activated)
        self.next_button = QPushButton("Open next uncoded session" + (f" ({keys})" if keys else ""))
        self.next_button.setToolTip("The next session (in project order) with proposals you have not reviewed")
        self.next_button.clicked.connect(self.open_next)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        for button in (self.next_button, self.refresh_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row = QHBoxLayout()
        row.addWidget(self.next_button)
        row.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        layout.addLayout(row)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh_current)
        self.hide()

    # -- what is shown ---------------------------------------------------------------------------
    def show_project(self, project, current_id: str | None, coder: str) -> None:
        """Show ``project`` with ``current_id`` (the open session's id) marked, as ``coder`` sees it."""
        self.project, self.current_id, self.coder = project, current_id, coder
        self.setTitle(f"Project {project.name or project.root.name}")
        self.refresh()
        self.show()

    def clear(self) -> None:
        """No project (the session belongs to none)."""
        self._timer.stop()
        self.project, self.current_id, self.statuses = None, None, []
        self.tree.clear()
        self.hide()

    def refresh(self) -> None:
        """Read the project file and every session's status again."""
        from ..errors import AnnotatorError
        from ..project import Project, project_status

        if self.project is None:
            return
        try:
            self.project = Project.open(self.project.root)  # sessions may have been added meanwhile
        except AnnotatorError as exc:
            self._say(str(exc))
        self.statuses = project_status(self.project)
        self._fill()

    def refresh_current(self) -> None:
        """Read the open session's status again (after the coder's edits); the others stay."""
        from ..project import session_status

        for i, st in enumerate(self.statuses):
            if st.entry.id == self.current_id:
                self.statuses[i] = session_status(st.entry)
                self._fill()
                return

    def schedule_refresh(self, *_args) -> None:
        """Refresh the open session's row once edits pause (connected to the editor's ``changed``)."""
        if self.project is not None:
            self._timer.start()

    def status_of(self, session_id: str):
        return next((st for st in self.statuses if st.entry.id == session_id), None)

    def _fill(self) -> None:
        self.tree.clear()
        bold = QFont()
        bold.setBold(True)
        for st in self.statuses:
            item = QTreeWidgetItem([text(st) for _, text in COLUMNS])
            item.setData(0, Qt.ItemDataRole.UserRole, str(st.entry.session))
            if st.problem:
                item.setToolTip(0, st.problem)
            if st.entry.id == self.current_id:
                for c in range(len(COLUMNS)):
                    item.setFont(c, bold)
            self.tree.addTopLevelItem(item)
        for c in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(c)
        done = sum(1 for st in self.statuses if st.proposals and not st.uncoded_by(self.coder))
        reviewed = sum(st.progress(self.coder)[0] for st in self.statuses)
        total = sum(st.progress(self.coder)[1] for st in self.statuses)
        todo = sum(1 for st in self.statuses if st.uncoded_by(self.coder))
        self.summary.setText(
            f"{len(self.statuses)} sessions · {self.coder}: {reviewed}/{total} proposals reviewed, "
            f"{done} sessions done, {todo} to code"
        )

    # -- moving on -------------------------------------------------------------------------------
    def next_uncoded(self):
        """The status of the next session ``coder`` has work in (after the open one), or ``None``."""
        from ..project import next_uncoded

        self.refresh()
        return next_uncoded(self.statuses, self.coder, after=self.current_id)

    def open_next(self) -> None:
        """*Open next uncoded session*: ask the dock to switch to it, or say there is none."""
        if self.project is None:
            self._say("this session is in no project")
            return
        st = self.next_uncoded()
        if st is None or st.entry.id == self.current_id:
            others = "every other session" if st is not None else "every session"
            self._say(f"{others} of {self.project.name or self.project.root.name} is coded by {self.coder}"
                      " (or not tracked yet)")
            return
        self.openRequested.emit(str(st.entry.session))

    def _activated(self, item, _column) -> None:
        path = item.data(0, Qt.ItemDataRole.UserRole)
        current = self.status_of(self.current_id) if self.current_id else None
        if path and (current is None or Path(path) != current.entry.session):
            self.openRequested.emit(path)
