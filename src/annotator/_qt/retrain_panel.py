"""*Retrain now*: learn from the coder's reviews in a background thread, then re-propose
the unreviewed part of the session; a progress bar, Cancel, and one line saying how it went.

The work is :func:`annotator.train.retrain_session` (the library's online loop);
this panel runs it in napari's thread worker so the event loop keeps going,
and cancels it between its steps (its ``cancelled`` hook says so), before
anything is re-proposed.
"""

from __future__ import annotations

import threading

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

#: How long closing the window waits for a retraining to reach its next step and stop.
STOP_WAIT_SECONDS = 30.0


class RetrainPanel(QWidget):
    """The *Retrain now* button, a busy bar with the current step, Cancel, and the proposer line.

    Signals
    -------
    status(str)
        One line for the dock's status bar.
    retrained(object)
        The :class:`~annotator.train.TrainResult`, once the session is re-proposed (GUI thread).
    """

    status = Signal(str)
    retrained = Signal(object)
    _step = Signal(str)  # from the worker thread; Qt queues it to the GUI thread

    def __init__(self, keys: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = None
        self._cancel: threading.Event | None = None
        self._done: threading.Event | None = None
        self._alive = alive = {"on": True}
        self.destroyed.connect(lambda *_: alive.update(on=False))
        self.button = QPushButton("Retrain now" + (f" ({keys})" if keys else ""))
        self.button.setToolTip("Learn from your accepts, rejects and emotion changes, then re-propose the "
                               "segments you have not reviewed (reviewed ones stay as they are)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop retraining after the current step; the proposals stay as they were")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        for button in (self.button, self.cancel_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: the steps have no known length
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.line = QLabel("")
        self.line.setWordWrap(True)
        self.proposer = QLabel("")
        self.proposer.setWordWrap(True)
        self.proposer.setToolTip("Which spotter and model made the proposals you have not reviewed yet")
        row = QHBoxLayout()
        row.addWidget(self.button, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.line)
        layout.addWidget(self.proposer)
        self._step.connect(self._show_step)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def show_proposer(self, text: str) -> None:
        """Say which spotter and model made the proposals shown."""
        self.proposer.setText(f"Proposals shown: {text}")

    def start(self, session, coder: str, project=None) -> None:
        """Retrain on ``coder``'s reviews (in ``project``, else ``session``), then re-propose ``session``."""
        from napari.qt.threading import create_worker

        from ..train import retrain_session

        if self.worker is not None:
            self.status.emit("retraining already; Cancel stops it")
            return
        cancel, done = threading.Event(), threading.Event()
        alive, step_signal = self._alive, self._step

        def step(message: str) -> None:  # in the worker thread, between retraining's steps
            if alive["on"]:
                try:
                    step_signal.emit(message)
                except RuntimeError:  # the panel is gone (the window closed)
                    pass

        def run():
            try:
                step("gathering your reviews")
                return retrain_session(session, coder, project=project, progress=step, cancelled=cancel.is_set)
            finally:
                done.set()

        # Our own errored handler: create_worker would otherwise re-raise (a traceback).
        worker = create_worker(run, _start_thread=False, _ignore_errors=True)

        def guard(slot):
            # The worker's last signals can arrive after the window (and this panel) closed.
            return lambda *a: slot(*a) if alive["on"] else None

        worker.returned.connect(guard(self._returned))
        worker.errored.connect(guard(self._errored))
        self.worker, self._cancel, self._done = worker, cancel, done
        self.button.setEnabled(False)
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.progress.show()
        self._show_step("starting")
        worker.start()

    def cancel(self) -> None:
        """Stop at the next step (a step under way finishes first); nothing is proposed then."""
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self._say("cancelling: retraining stops after the current step")

    def stop_now(self, timeout: float = STOP_WAIT_SECONDS) -> None:
        """Cancel and wait (the window is closing): no proposals are written after it closed."""
        self._alive["on"] = False
        if self._cancel is not None:
            self._cancel.set()
        if self._done is not None:
            self._done.wait(timeout)

    # -- in the GUI thread -------------------------------------------------------------------------
    def _show_step(self, message: str) -> None:
        self.line.setText(f"retraining: {message}…")

    def _say(self, message: str) -> None:
        self.line.setText(message)
        self.status.emit(message)

    def _finished(self) -> None:
        self.worker = self._cancel = self._done = None
        self.button.setEnabled(True)
        self.cancel_button.hide()
        self.progress.hide()

    def _returned(self, result) -> None:
        self._finished()
        meta = result.model.metadata
        examples = sum((meta.get("examples") or {}).values())
        self._say(f"retrained: model {result.model.model_id} from {examples} emotion examples "
                  f"and {meta.get('rejected', 0)} rejections ({result.model_path.name})")
        self.retrained.emit(result)

    def _errored(self, exc: BaseException) -> None:
        from ..errors import AnnotatorError
        from ..train import RetrainCancelled

        self._finished()
        if isinstance(exc, RetrainCancelled):
            self._say("retraining cancelled; the proposals are as they were")
        elif isinstance(exc, AnnotatorError):
            self._say(f"cannot retrain: {exc.message}")
        else:  # a bug: one line here, the traceback to the log
            import logging

            logging.getLogger(__name__).error("retraining failed", exc_info=exc)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            self._say(f"retraining failed: {type(exc).__name__}" + (f": {first}" if first else ""))
