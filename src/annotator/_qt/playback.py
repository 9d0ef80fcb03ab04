"""Playback: the current frame, stepping, playing, and looping a segment at reduced speed.

The frame lives in napari's dims (the slider); this controller only moves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import QObject, QTimer

if TYPE_CHECKING:
    import napari


class Playback(QObject):
    """Moves napari's slider: one step, play from here, or loop a segment.

    Parameters
    ----------
    viewer : napari.Viewer
    session : callable
        Returns the open :class:`~annotator.session.Session`, or ``None`` (read on each use,
        since the dock opens one later).
    current_segment : callable
        Returns the segment a loop plays (the one under the cursor), or ``None``.
    say : callable
        Shows a one-line message to the coder.
    """

    def __init__(self, viewer: "napari.Viewer", session: Callable, current_segment: Callable,
                 say: Callable[[str], None], parent: QObject | None = None):
        super().__init__(parent)
        self.viewer = viewer
        self._session = session
        self._current_segment = current_segment
        self._say = say
        self._loop: tuple[int, int] | None = None
        self._speed = 1.0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)

    @property
    def frame(self) -> int:
        return int(self.viewer.dims.current_step[0]) if self.viewer.dims.ndim else 0

    @property
    def n_frames(self) -> int:
        session = self._session()
        if session is not None:
            return session.n_frames
        # Before tracking there is no session, but the video layer is there to step through.
        return int(self.viewer.dims.nsteps[0]) if self.viewer.dims.ndim else 1

    def set_frame(self, frame: int) -> None:
        """Move the slider to ``frame``, clipped to the video."""
        self.viewer.dims.set_current_step(0, int(np.clip(frame, 0, self.n_frames - 1)))

    def step(self, delta: int) -> None:
        """Stop playing and move ``delta`` frames."""
        self.stop()
        self.set_frame(self.frame + delta)

    def play_pause(self) -> None:
        """Play from the current frame at the video's rate, or pause."""
        if self.timer.isActive():
            self.stop()
        else:
            self._loop = None
            self.timer.start(max(1, round(1000 / self._session().fps)))

    def loop(self, speed: float) -> None:
        """Play the current segment over and over at ``speed`` (again: stop)."""
        seg = self._current_segment()
        if seg is None:
            self._say("no segment here to loop")
            return
        if self.timer.isActive() and self._loop == (seg.onset, seg.offset) and self._speed == speed:
            self.stop()
            return
        self._loop, self._speed = (seg.onset, seg.offset), speed
        self.set_frame(seg.onset)
        self.timer.start(max(1, round(1000 / (self._session().fps * speed))))
        self._say(f"looping {seg.emotion} at {speed:g}×")

    def stop(self) -> None:
        self.timer.stop()
        self._loop = None

    def _tick(self) -> None:
        nxt = self.frame + 1
        if self._loop is not None:
            lo, hi = self._loop
            nxt = lo if not lo <= nxt <= hi else nxt
        elif nxt >= self.n_frames:
            self.stop()
            return
        self.set_frame(nxt)
