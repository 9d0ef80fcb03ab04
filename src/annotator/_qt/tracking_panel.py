"""The tracking panel: offer to track an untracked video (or propose a tracked one), run it
in the background, cancel it, and stop its child when the window closes."""

from __future__ import annotations

import os
from pathlib import Path

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget


class TrackingPanel(QWidget):
    """*Track this video* (or *Propose*), a progress bar and *Cancel*; hidden until offered.

    After Cancel, or a failure, the button comes back and resumes from the
    blocks already written.

    Signals
    -------
    status(str)
        A line for the dock's status label.
    tracked(str)
        The session folder, once tracking and proposing finished.

    Parameters
    ----------
    state : dict
        Shared with the dock's cleanup: ``state["worker"]`` is the running worker and
        ``state["child"]`` its tracking child (stopped when the window closes).
    """

    status = Signal(str)
    tracked = Signal(str)

    def __init__(self, state: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self._state = state
        self._video: Path | None = None
        self._into: Path | None = None
        self._propose_only = False
        self.worker = None
        self.child = None
        # Shared with the worker's slots, which must not touch this panel once it is gone.
        self._alive = alive = {"on": True}
        self.destroyed.connect(lambda *_: alive.update(on=False))
        self.track_button = QPushButton("Track this video")
        self.track_button.setToolTip("Find the face and body in every frame, then propose segments")
        self.track_button.clicked.connect(lambda: self.start())
        self.propose_button = QPushButton("Propose")
        self.propose_button.setToolTip("Spot segments in the tracks, for the coder to review")
        self.propose_button.clicked.connect(lambda: self.start(propose_only=True))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        row = QHBoxLayout()
        row.addWidget(self.track_button)
        row.addWidget(self.propose_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        for w in (self.track_button, self.propose_button, self.cancel_button, self.progress):
            w.hide()
        for w in (self.track_button, self.propose_button, self.cancel_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def offer(self, video, into=None, reason: str = "") -> None:
        """Show the button for ``video`` (tracked into the session folder ``into``, default beside it)."""
        self._video = Path(video)
        self._into = Path(into) if into is not None else None
        self.status.emit((reason + "\n" if reason else "") + f"{self._video.name} has no tracks yet.")
        self.propose_button.hide()
        self.track_button.show()

    def offer_propose(self, video, into) -> None:
        """Show *Propose* for a session that was tracked but never proposed."""
        self._video, self._into = Path(video), Path(into)
        self.status.emit(f"{self._video.name} is tracked but has no proposals yet.")
        self.track_button.hide()
        self.propose_button.show()

    def start(self, propose_only: bool = False) -> None:
        """Track the video in the background (cancellable), then propose; or only propose."""
        from napari.qt.threading import create_worker
        from napari.utils import progress

        from .workers import TrackingChild, track_and_propose

        if self.worker is not None:
            return
        self._propose_only = propose_only
        self.track_button.setEnabled(False)
        self.propose_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.show()
        self.progress.setRange(0, 0)
        pbar = progress(total=0, desc="proposing" if propose_only else "tracking")
        self.child = self._state["child"] = TrackingChild()
        worker = create_worker(track_and_propose, self._video, self._into,
                               workers=min(2, os.cpu_count() or 1), child=self.child,
                               propose_only=propose_only, _start_thread=False,
                               # our errored handler says it in one line; napari would re-raise
                               _ignore_errors=True)

        def on_yield(value):
            done, total, message = value
            self.status.emit(f"{message}: block {done} of {total}" if total else f"{message}…")
            if total:
                self.progress.setRange(0, total)
                self.progress.setValue(done)
                pbar.total = total
                pbar.n = done
                pbar.refresh()

        def finished(message: str | None = None, again: bool = True) -> None:
            pbar.close()
            self._finished(again)
            if message:
                self.status.emit(message)

        def on_done(session_dir):
            if session_dir is None:
                finished("tracking cancelled; finished blocks are kept: Resume tracking goes on from them")
                return
            finished(again=False)
            self.tracked.emit(str(session_dir))

        alive = self._alive

        def guard(slot):
            # The worker's last signals can arrive after the window (and this panel) closed.
            return lambda *a: slot(*a) if alive["on"] else None

        worker.yielded.connect(guard(on_yield))
        worker.returned.connect(guard(on_done))
        what = "proposing" if propose_only else "tracking"
        worker.errored.connect(guard(lambda exc: finished(f"{what} failed: {exc}")))
        worker.aborted.connect(guard(
            lambda *_: finished("tracking cancelled; finished blocks are kept: Resume tracking goes on from them")))
        self.worker = self._state["worker"] = worker
        worker.start()

    def cancel(self) -> None:
        """Stop the run: the child is interrupted now, and the worker ends at once."""
        if self.child is not None:
            self.child.stop()

    def stop_now(self) -> None:
        """Stop the child and wait for it (the window is closing); the panel stops listening."""
        self._alive["on"] = False
        stop_child(self._state)

    def _finished(self, again: bool) -> None:
        self.worker = self._state["worker"] = None
        self.child = self._state["child"] = None
        self.cancel_button.hide()
        self.progress.hide()
        for button in (self.track_button, self.propose_button):
            button.setEnabled(True)
            button.hide()
        if again:  # cancelled or failed: offer the same again, resuming from what was written
            button = self.propose_button if self._propose_only else self.track_button
            if not self._propose_only:
                button.setText("Resume tracking")
            button.show()


def stop_child(state: dict) -> None:
    """Interrupt ``state``'s tracking child and wait for it (it keeps its finished blocks)."""
    child = state.get("child")
    if child is not None:
        child.stop(wait=True)
