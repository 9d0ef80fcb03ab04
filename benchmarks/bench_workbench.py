"""Workbench benchmarks: frame stepping with overlays, and the timeline on one hour of data.

Prints figures and ratios measured in one run (no assertions)::

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/bench_workbench.py [SESSION]

1. One frame step (``viewer.dims.set_current_step`` until the canvas has drawn)
   with all overlays and docks, against the bare video Image layer.
   Goal: median ratio <= 1.2, p95 < 50 ms.
2. The timeline on a synthetic one-hour session (108,000 frames, 7 curves,
   300 segments): moving the cursor and setting the x range, each with a repaint.
   Goal: < 30 ms.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _wait_for_draw(app, canvas, step) -> float:
    """Seconds from ``step()`` until vispy has drawn the canvas once."""
    drawn = []
    cb = lambda event: drawn.append(time.perf_counter())  # noqa: E731
    canvas.events.draw.connect(cb)
    try:
        t0 = time.perf_counter()
        step()
        deadline = t0 + 2.0
        while not drawn and time.perf_counter() < deadline:
            app.processEvents()
        return (drawn[0] if drawn else time.perf_counter()) - t0
    finally:
        canvas.events.draw.disconnect(cb)


def bench_frame_step(session_dir: Path, n: int = 150) -> None:
    """Both viewers open at once and stepped alternately, so load from other
    processes (this runs on shared machines) hits both the same way."""
    import napari
    from qtpy.QtWidgets import QApplication

    from annotator._qt.app import open_workbench
    from annotator.session import Session

    app = QApplication.instance()
    frames = Session.open(session_dir).n_frames
    bare = napari.Viewer(show=True)
    bare.open(str(session_dir), plugin="annotator")
    viewer, dock = open_workbench(session_dir, coder="bench")
    for v in (bare, viewer):
        v.window._qt_window.resize(1500, 950)
    app.processEvents()
    # the reader builds each video's frame proxy in the background: time steps only once both are done
    deadline = time.perf_counter() + 120
    videos = [v.layers[-1].data if not hasattr(v.layers[0].data, "has_proxy") else v.layers[0].data
              for v in (bare, viewer)]
    while not all(getattr(d, "has_proxy", True) for d in videos) and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.05)
    _match_canvas(bare, viewer)
    sizes = [v.window._qt_viewer.canvas.native.size() for v in (bare, viewer)]
    print("canvas sizes (bare, full):", [(q.width(), q.height()) for q in sizes])
    times: dict[str, list[float]] = {"bare": [], "full": []}
    for k in range(n + 5):
        i = k % frames
        pair = [("bare", bare), ("full", viewer)]
        # Alternate who goes first: a frame decoded by one viewer may be cached for the other.
        for name, v in pair if k % 2 else pair[::-1]:
            canvas = v.window._qt_viewer.canvas._scene_canvas
            t = _wait_for_draw(app, canvas, lambda v=v, i=i: v.dims.set_current_step(0, i))
            if k >= 5:  # the first steps warm caches and shaders
                times[name].append(t * 1000)
    dock.close_workbench()
    viewer.close()
    bare.close()
    t_bare, t_full = np.array(times["bare"]), np.array(times["full"])
    mb, mf = np.median(t_bare), np.median(t_full)
    print(f"frame step, bare video      : median {mb:6.2f} ms  p95 {np.percentile(t_bare, 95):6.2f} ms")
    print(f"frame step, full workbench  : median {mf:6.2f} ms  p95 {np.percentile(t_full, 95):6.2f} ms")
    print(f"  ratio (median) {mf / mb:.2f}x   goal <= 1.2x, p95 < 50 ms")


def _match_canvas(bare, full) -> None:
    """Give the bare viewer empty docks where the workbench has its docks.

    Software GL (Xvfb + Mesa) costs in proportion to the canvas's pixels, so
    the two canvases must be the same size for the ratio to mean anything.
    """
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication, QWidget

    target = full.window._qt_viewer.canvas.native.size()
    right, bottom = QWidget(), QWidget()
    bare.window.add_dock_widget(right, area="right", name="placeholder right")
    bare.window.add_dock_widget(bottom, area="bottom", name="placeholder bottom")
    app = QApplication.instance()
    for _ in range(6):
        app.processEvents()
        now = bare.window._qt_viewer.canvas.native.size()
        win = bare.window._qt_window
        dw_r, dw_b = _dock_of(right), _dock_of(bottom)
        win.resizeDocks([dw_r], [max(1, dw_r.width() + now.width() - target.width())], Qt.Orientation.Horizontal)
        win.resizeDocks([dw_b], [max(1, dw_b.height() + now.height() - target.height())], Qt.Orientation.Vertical)


def _dock_of(widget):
    from qtpy.QtWidgets import QDockWidget

    while widget is not None and not isinstance(widget, QDockWidget):
        widget = widget.parentWidget()
    return widget


def bench_timeline(n_frames: int = 108_000, n_segments: int = 300, repeats: int = 40) -> None:
    from qtpy.QtWidgets import QApplication

    from annotator._qt.timeline import TimelineWidget
    from annotator.labels.model import EMOTIONS, Segment

    app = QApplication.instance()
    rng = np.random.default_rng(0)
    t = np.arange(n_frames)
    curves = {f"AU{k}": np.clip(0.2 + 0.1 * np.sin(t / (50 + 7 * k)) + rng.normal(0, 0.03, n_frames), 0, 1)
              for k in (1, 2, 4, 6, 9, 12, 15, 20)}
    motion = {"face motion": np.abs(rng.normal(0, 5, n_frames)), "body motion": np.abs(rng.normal(0, 5, n_frames))}
    onsets = np.sort(rng.choice(n_frames - 40, n_segments, replace=False))
    statuses = ("proposed", "accepted", "rejected", "edited")
    segments = [Segment(int(o), int(o) + 5, int(o) + 12, emotion=EMOTIONS[i % 7], status=statuses[i % 4])
                for i, o in enumerate(onsets)]

    w = TimelineWidget(n_frames, 30.0)
    w.resize(1500, 260)
    w.show()
    t0 = time.perf_counter()
    w.set_channels(curves)
    w.set_motion(motion)
    w.set_segments(segments, current_id=segments[10].id)
    app.processEvents()
    build = (time.perf_counter() - t0) * 1000

    def timed(fn) -> np.ndarray:
        # The paint happens in processEvents, as in the app (only the dirty region is redrawn).
        out = []
        for k in range(repeats):
            t0 = time.perf_counter()
            fn(k)
            app.processEvents()
            out.append((time.perf_counter() - t0) * 1000)
        return np.array(out[3:])

    w.set_x_range(0, 600)
    app.processEvents()
    cursor = timed(lambda k: w.set_cursor(100 + 10 * k))
    zoom_in = timed(lambda k: w.set_x_range(1000 * k, 1000 * k + 900))
    whole = timed(lambda k: w.set_x_range(0, n_frames - k))
    redraw_segments = timed(lambda k: w.set_segments(segments, current_id=segments[k].id))
    for name, v in (("move cursor", cursor), ("set x range, 30 s view", zoom_in),
                    ("set x range, whole hour", whole), ("redraw 300 segments (an edit)", redraw_segments)):
        print(f"timeline {name:32s}: median {np.median(v):6.2f} ms  p95 {np.percentile(v, 95):6.2f} ms")
    print(f"timeline build (1 h, 10 curves, {n_segments} segments): {build:.0f} ms   goal < 30 ms per repaint")
    w.close()


def main(argv: list[str]) -> int:
    from qtpy.QtWidgets import QApplication

    from screenshot import ensure_session

    import napari  # noqa: F401  (creates the Qt application with napari's settings)
    from napari._qt.qt_event_loop import get_qapp

    get_qapp()
    session_dir = Path(argv[0]) if argv else ensure_session()
    print(f"session: {session_dir}")
    bench_frame_step(session_dir)
    bench_timeline()
    QApplication.instance().processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
