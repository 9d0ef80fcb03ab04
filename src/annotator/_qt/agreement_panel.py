"""Agreement and consensus in the workbench: how far the compared coders agree, and stepping
through the consensus segments that need a person's decision.

The numbers and the consensus come from :mod:`annotator.agreement`; this
controller only shows them and moves the cursor.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QFontDatabase
from qtpy.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout


class AgreementPanel:
    """The *Agreement* box of the dock (shown when comparing coders).

    Parameters
    ----------
    dock : WorkbenchDock
        Supplies the session, the coder and the coders compared, and the cursor.
    """

    def __init__(self, dock):
        self.dock = dock
        self.agreement = None
        #: Consensus segments with a non-empty ``adjudication``, by onset.
        self.to_decide: list = []
        self.index = -1
        self.box = QGroupBox("Agreement")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.text.setMaximumHeight(110)
        self.decision = QLabel("")
        self.decision.setWordWrap(True)
        self.refresh_button = QPushButton("Recompute")
        self.refresh_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.refresh_button.clicked.connect(self.compute)
        self.next_button = QPushButton("Next to decide (J)")
        self.next_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.next_button.clicked.connect(lambda: self.step(1))
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self.box)
        layout.addWidget(self.text)
        layout.addWidget(self.decision)
        layout.addLayout(buttons)
        self.box.setVisible(False)

    @property
    def coders(self) -> list[str]:
        return [self.dock.coder] + [c for c in self.dock.compare if c != self.dock.coder]

    def compute(self) -> None:
        """Agreement and consensus of the coder and those compared, from their saved files."""
        from ..agreement import session_agreement, session_consensus
        from ..errors import AnnotatorError

        session = self.dock.session
        self.box.setVisible(session is not None and len(self.coders) > 1)
        if session is None or len(self.coders) < 2:
            return
        try:
            self.agreement = session_agreement(session, self.coders)
            consensus = session_consensus(session, self.coders)
        except AnnotatorError as exc:  # e.g. the coder has no labels yet
            self.agreement, self.to_decide, self.index = None, [], -1
            self.text.setPlainText(str(exc))
            self.decision.setText("")
            return
        self.text.setPlainText(self.agreement.format_text())
        self.to_decide = sorted((s for s in consensus.segments if s.adjudication),
                                key=lambda s: (s.onset, s.offset, s.id))
        self.index = -1
        self.decision.setText(f"{len(self.to_decide)} consensus segments need a decision (J steps through them)")

    def step(self, direction: int) -> None:
        """Move to the next (``-1``: previous) consensus segment that needs a decision, saying why."""
        if self.agreement is None:
            self.compute()
        if not self.to_decide:
            self.dock.say("no consensus segment needs a decision" if len(self.coders) > 1
                          else "compare with another coder first (--compare)")
            return
        self.index = (self.index + (1 if direction > 0 else -1)) % len(self.to_decide)
        seg = self.to_decide[self.index]
        self.dock.playback.stop()
        self.dock.set_frame(seg.onset)
        message = (f"{self.index + 1}/{len(self.to_decide)}: {seg.emotion} {seg.onset}–{seg.apex}–{seg.offset}"
                   f" · {seg.adjudication}")
        self.decision.setText(message)
        self.dock.say(message)
