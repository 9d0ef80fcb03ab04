"""The tracking panel: offer to track an untracked video, run it in the background, cancel it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget


class TrackingPanel(QWidget):
    """A *Track this video* button, a progress bar and *Cancel*; hidden until :meth:`offer`.

    Signals
    -------
    status(str)
        A line for the dock's status label.
    tracked(str)
        The session folder, once tracking and proposing finished.

    Parameters
    ----------
    state : dict
        Shared with the dock's cleanup: ``state["worker"]`` is the running worker.
    """

    status = Signal(str)
    tracked = Signal(str)

    def __init__(self, state: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self._state = state
        self._video: Path | None = None
        self._into: Path | None = None
        self.worker = None
        self._cancel = threading.Event()
        self.track_button = QPushButton("Track this video")
        self.track_button.setToolTip("Find the face and body in every frame, then propose segments")
        self.track_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        row = QHBoxLayout()
        row.addWidget(self.track_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        for w in (self.track_button, self.cancel_button, self.progress):
            w.hide()
        for w in (self.track_button, self.cancel_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def offer(self, video, into=None, reason: str = "") -> None:
        """Show the button for ``video`` (tracked into the session folder ``into``, default beside it)."""
        self._video = Path(video)
        self._into = Path(into) if into is not None else None
        self.status.emit((reason + "\n" if reason else "") + f"{self._video.name} has no tracks yet.")
        self.track_button.show()

    def start(self) -> None:
        """Track the video in the background (cancellable), then propose."""
        from napari.qt.threading import create_worker
        from napari.utils import progress

        from .workers import track_and_propose

        self.track_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.show()
        self.progress.setRange(0, 0)
        pbar = progress(total=0, desc="tracking")
        self._cancel = cancel = threading.Event()
        worker = create_worker(track_and_propose, self._video, self._into,
                               workers=min(2, os.cpu_count() or 1), cancel=cancel, _start_thread=False)

        def on_yield(value):
            done, total, message = value
            self.status.emit(f"{message}: block {done} of {total}" if total else f"{message}…")
            if total:
                self.progress.setRange(0, total)
                self.progress.setValue(done)
                pbar.total = total
                pbar.n = done
                pbar.refresh()

        def finished(message: str | None = None) -> None:
            pbar.close()
            self._finished()
            if message:
                self.status.emit(message)

        def on_done(session_dir):
            if session_dir is None:  # cancelled: the child has exited
                finished("tracking cancelled; finished blocks are kept and resume next time")
                return
            finished()
            self.tracked.emit(str(session_dir))

        worker.yielded.connect(on_yield)
        worker.returned.connect(on_done)
        worker.errored.connect(lambda exc: finished(f"tracking failed: {exc}"))
        worker.aborted.connect(
            lambda *_: finished("tracking cancelled; finished blocks are kept and resume next time"))
        self.worker = self._state["worker"] = worker
        worker.start()

    def cancel(self) -> None:
        """Stop the tracking child; the panel is ready again once it has exited."""
        if self.worker is not None:
            self._cancel.set()
            self.status.emit("cancelling…")

    def _finished(self) -> None:
        self.worker = self._state["worker"] = None
        self.track_button.setEnabled(True)
        self.track_button.hide()
        self.cancel_button.hide()
        self.progress.hide()
