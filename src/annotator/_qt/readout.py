"""The readout at the cursor: one line under the title, from :class:`annotator.features.readout.CursorReadout`."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QFontDatabase
from qtpy.QtWidgets import QLabel, QSizePolicy


class ReadoutPanel:
    """Shows the timecode, frame, AU values, per-frame emotion and the current segment's phase.

    Parameters
    ----------
    dock : WorkbenchDock
        Supplies the frame and the current segment.
    """

    def __init__(self, dock):
        self.dock = dock
        self.model = None
        self.label = QLabel("")
        self.label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.label.setWordWrap(True)
        # A fixed height: a new text never re-lays out the dock on a frame step.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.label.setFixedHeight(3 * self.label.fontMetrics().lineSpacing() + 4)
        self.last = None

    def load(self, time, fps: float, curves: dict, emotions=None, emotion_names=()) -> None:
        """Read from per-frame arrays (``time`` ``None``: no tracks, the frame and its time only)."""
        import numpy as np

        from ..features.readout import CursorReadout

        if time is None:
            time = np.arange(self.dock.n_frames) / fps
        self.model = CursorReadout(time, fps, curves, emotions, emotion_names)

    def update(self) -> None:
        if self.model is None:
            return
        editor = self.dock.editor
        intervals = editor.labels.au_intervals if editor is not None else ()
        self.last = self.model.at(self.dock.frame, self.dock.segments.current_segment(), intervals)
        self.label.setText(self.last.format_text())
