"""Workbench benchmarks: frame stepping with overlays, and the timeline on one hour of data.

Prints figures and ratios measured in one run (no assertions)::

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/bench_workbench.py [SESSION]

1. One frame step (``viewer.dims.set_current_step`` until the canvas has drawn)
   with all overlays and docks, against the bare video Image layer.
   Goal: median ratio <= 1.2, p95 < 50 ms.  Also the time until the event loop
   is idle again, the cost of each step when an arrow key is held down.
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


def _wait_for_draw(app, canvas, step) -> tuple[float, float]:
    """Seconds from ``step()`` until vispy has drawn the canvas once, and until
    the event loop has done everything the step caused (layer list, docks, status).

    The second is what holding an arrow key feels like: the next key press
    waits for it.
    """
    drawn = []
    cb = lambda event: drawn.append(time.perf_counter())  # noqa: E731
    # Last, after the scene has drawn: vispy calls callbacks connected "first" by
    # default, and this one then timed only the way to the draw, not the draw.
    canvas.events.draw.connect(cb, position="last")
    try:
        t0 = time.perf_counter()
        step()
        deadline = t0 + 2.0
        while not drawn and time.perf_counter() < deadline:
            app.processEvents()
        app.processEvents()
        settled = time.perf_counter()
        return (drawn[0] if drawn else settled) - t0, settled - t0
    finally:
        canvas.events.draw.disconnect(cb)


def measure_steps(session_dir: Path, kind: str, n: int, canvas: tuple[int, int] | None = None) -> dict:
    """Step one viewer ``n`` frames (``kind``: ``"bare"`` video layer or ``"full"`` workbench).

    Runs in a process of its own (see :func:`bench_frame_step`).  The bare
    viewer gets empty docks sized so that its canvas is ``canvas`` pixels, the
    full workbench's: software GL costs in proportion to the canvas's pixels.
    """
    import napari
    from qtpy.QtWidgets import QApplication

    from annotator._qt.app import open_workbench
    from annotator.session import Session

    app = QApplication.instance()
    frames = Session.open(session_dir).n_frames
    if kind == "bare":
        viewer = napari.Viewer(show=True)
        viewer.open(str(session_dir), plugin="annotator")
    else:
        viewer, _dock = open_workbench(session_dir, coder="bench")
    viewer.window._qt_window.resize(1500, 950)
    app.processEvents()
    # The reader builds the frame proxy in the background: time steps only once it is done.
    video = next(layer.data for layer in viewer.layers if hasattr(layer.data, "has_proxy"))
    deadline = time.perf_counter() + 120
    while not video.has_proxy and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.05)
    if canvas is not None:
        _match_canvas(viewer, canvas)
    for _ in range(20):  # let the window settle
        app.processEvents()
        time.sleep(0.02)
    native = viewer.window._qt_viewer.canvas.native
    scene = viewer.window._qt_viewer.canvas._scene_canvas
    draw, settled = [], []
    for k in range(n + 5):
        t, done = _wait_for_draw(app, scene, lambda i=k % frames: viewer.dims.set_current_step(0, i))
        if k >= 5:  # the first steps warm caches and shaders
            draw.append(t * 1000)
            settled.append(done * 1000)
    return {"draw": draw, "settled": settled, "canvas": [native.width(), native.height()]}


def bench_frame_step(session_dir: Path, n: int = 100, rounds: int = 3) -> None:
    """Each viewer in a fresh process of its own, alternately, ``rounds`` times.

    Two viewers in one process (as this benchmark first did) leak work into each
    other's timings: whatever one left in the event loop ran while the other
    waited for its draw.
    """
    import json
    import subprocess

    results: dict[str, list[dict]] = {"bare": [], "full": []}
    for _ in range(rounds):
        for kind in ("full", "bare"):
            args = [sys.executable, __file__, "--steps", kind, str(session_dir), str(n)]
            if kind == "bare":
                args += [str(x) for x in results["full"][-1]["canvas"]]
            out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
            results[kind].append(json.loads(out.strip().splitlines()[-1]))
    print("canvas sizes (bare, full):", results["bare"][-1]["canvas"], results["full"][-1]["canvas"])
    stats = {}
    for kind, runs in results.items():
        for what in ("draw", "settled"):
            values = np.concatenate([r[what] for r in runs])
            # median of the rounds' medians (each round is a separate process), p95 over all steps
            stats[kind, what] = (float(np.median([np.median(r[what]) for r in runs])), float(np.percentile(values, 95)))
    for what, label, note in (("draw", "frame step until drawn", "goal <= 1.2x, p95 < 50 ms"),
                              ("settled", "event loop busy per step", "what holding an arrow key costs")):
        (mb, pb), (mf, pf) = stats["bare", what], stats["full", what]
        print(f"{label}, bare video     : median {mb:6.2f} ms  p95 {pb:6.2f} ms")
        print(f"{label}, full workbench : median {mf:6.2f} ms  p95 {pf:6.2f} ms")
        print(f"  ratio (median) {mf / mb:.2f}x   {note}")


def _match_canvas(bare, target: tuple[int, int]) -> None:
    """Give the bare viewer empty docks where the workbench has its docks, so its canvas is ``target``."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication, QWidget

    right, bottom = QWidget(), QWidget()
    bare.window.add_dock_widget(right, area="right", name="placeholder right")
    bare.window.add_dock_widget(bottom, area="bottom", name="placeholder bottom")
    app = QApplication.instance()
    for _ in range(6):
        app.processEvents()
        now = bare.window._qt_viewer.canvas.native.size()
        win = bare.window._qt_window
        dw_r, dw_b = _dock_of(right), _dock_of(bottom)
        win.resizeDocks([dw_r], [max(1, dw_r.width() + now.width() - target[0])], Qt.Orientation.Horizontal)
        win.resizeDocks([dw_b], [max(1, dw_b.height() + now.height() - target[1])], Qt.Orientation.Vertical)


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
    import json

    from qtpy.QtWidgets import QApplication

    from screenshot import ensure_session

    import napari  # noqa: F401  (creates the Qt application with napari's settings)
    from napari._qt.qt_event_loop import get_qapp

    get_qapp()
    if argv[:1] == ["--steps"]:  # one viewer, in a child process of bench_frame_step
        kind, session, n, *canvas = argv[1:]
        result = measure_steps(Path(session), kind, int(n), tuple(map(int, canvas)) if canvas else None)
        print(json.dumps(result))
        return 0
    session_dir = Path(argv[0]) if argv else ensure_session()
    print(f"session: {session_dir}")
    bench_frame_step(session_dir)
    bench_timeline()
    QApplication.instance().processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
