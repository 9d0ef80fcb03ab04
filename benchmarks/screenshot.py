"""Screenshot of the workbench on the sample session, for the README.

Under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/screenshot.py [-o benchmarks/workbench.png]

Tracks and proposes the sample into a cache directory the first time
(``$ANNOTATOR_CACHE`` or ``~/.cache/annotator/screenshot``), opens the
workbench as coder ``demo`` comparing with ``peer`` (a second coder who
accepted every proposal, so the timeline has a lane per coder), accepts the
first proposal, marks AU 6 and AU 12 on their AU lanes with the keys' actions,
steps to its apex and saves the window as a palette PNG (< 300 KB).  Both
coders' files are removed again afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "astronaut.mp4"


def cache_dir() -> Path:
    base = os.environ.get("ANNOTATOR_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "annotator")
    return Path(base) / "screenshot"


def ensure_session(video: Path = SAMPLE) -> Path:
    """The sample's session in the cache, tracked and proposed (made once)."""
    from annotator.session import Session, default_session_dir, is_session_dir
    from annotator.spotting.propose import propose
    from annotator.tracking.run import track_videos
    from annotator.tracking.store import tracks_complete

    if not video.exists():
        raise SystemExit(f"{video}: sample video missing; run `make sample`")
    out = cache_dir()
    session_dir = default_session_dir(video, out)
    if is_session_dir(session_dir):
        session = Session.open(session_dir)
        moved = Path(session.video_path).resolve() != video.resolve()
        if moved or session.sha256 != _sha(video) or not _tracks_readable(session):
            # made from another checkout's sample (which may be gone), the sample was rebuilt,
            # or the tracks are of a layout this code no longer reads: start over
            import shutil

            shutil.rmtree(session_dir)
    if not (is_session_dir(session_dir) and tracks_complete(session_dir)):
        out.mkdir(parents=True, exist_ok=True)
        track_videos([video], out_dir=out, workers=2, progress=True)
    session = Session.open(session_dir)
    propose(session)  # cheap, and keeps the picture in step with the current proposer
    return session_dir


def _tracks_readable(session) -> bool:
    from annotator.errors import AnnotatorError
    from annotator.tracking.store import load_tracks, tracks_complete

    if not tracks_complete(session.root):
        return True  # not finished: tracking resumes below
    try:
        load_tracks(session)
    except AnnotatorError:
        return False
    return True


def _sha(video: Path) -> str:
    from annotator.media import open_video

    with open_video(video) as v:
        return v.sha256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "benchmarks" / "workbench.png")
    parser.add_argument("--session", type=Path, default=None)
    args = parser.parse_args(argv)

    session_dir = args.session or ensure_session()
    from annotator.session import Session

    coder, peer = "demo", "peer"
    session = Session.open(session_dir)
    for name in (coder, peer):
        if session.labels_path(name).exists():  # a clean state each time: the picture shows fresh proposals
            session.labels_path(name).unlink()
    from annotator.labels import AUTO_CODER

    if session.has_labels(AUTO_CODER):
        peer_labels = session.new_labels(peer)
        peer_labels.segments = [s.replace(status="accepted", source=peer)
                                for s in session.load_labels(AUTO_CODER).segments]
        session.save_labels(peer_labels)

    from qtpy.QtWidgets import QApplication

    from annotator._qt import _napari_compat as compat
    from annotator._qt.app import open_workbench

    viewer, dock = open_workbench(session_dir, coder=coder,
                                  compare=[peer] if session.labels_path(peer).exists() else [])
    app = QApplication.instance()
    window = dock.window()
    window.resize(1600, 1000)
    compat.layer_controls_dock(viewer).setVisible(False)
    todo = dock.editor.unreviewed()
    if todo:
        first = min(todo, key=lambda s: s.onset)
        dock.set_frame(first.onset)
        dock.trigger("accept")
        for lane, letter, start, end in (("6", "b", first.onset, first.apex),
                                         ("12", "c", first.onset, first.offset)):
            dock.au_lanes.set_lane(lane)  # what G and the dock's field do
            dock.set_frame(start)
            dock.trigger("au_begin")
            dock.set_frame(end)
            dock.trigger("au_end")
            dock.trigger(f"au_intensity_{letter}")
        dock.set_frame(first.apex)
        dock.table.select_id(first.id)
        dock.agreement.compute()  # now that demo has labels
    from qtpy.QtCore import Qt

    # room for the curves beside the two coder lanes and the AU lanes
    dock._timeline_dock.window().resizeDocks([dock._timeline_dock], [330], Qt.Orientation.Vertical)
    dock.timeline.set_x_range(0, dock.n_frames)
    app.processEvents()
    viewer.reset_view()
    for _ in range(10):
        app.processEvents()
        time.sleep(0.05)
    image = viewer.screenshot(canvas_only=False, flash=False)
    dock.close_workbench()
    viewer.close()
    for name in (coder, peer):
        session.labels_path(name).unlink(missing_ok=True)
    save_png(image, args.output)
    print(f"{args.output}: {args.output.stat().st_size // 1024} KB")
    return 0


def save_png(image, path: Path, max_kb: int = 300) -> None:
    """Save as an adaptive-palette PNG, shrinking until it fits ``max_kb``."""
    from PIL import Image

    img = Image.fromarray(image[..., :3])
    scale = 1.0
    while True:
        out = img if scale == 1.0 else img.resize((int(img.width * scale), int(img.height * scale)), Image.LANCZOS)
        out.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
        if path.stat().st_size <= max_kb * 1024 or scale < 0.5:
            return
        scale *= 0.9


if __name__ == "__main__":
    sys.exit(main())
