"""The napari workbench: open a tracked session, review with the keys, reload from disk.

Run under a display (``xvfb-run -a pytest -m gui``).  The sample is tracked
once per test session into a temporary directory.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from annotator._qt import _napari_compat as compat
from annotator._qt.table import COLUMNS
from annotator.features.motion import body_motion, face_motion_energy
from annotator.napari.keybindings import ACTIONS, DEFAULT_SHORTCUTS, find_clashes


def _make_clip(path: Path, frames: int = 90) -> None:
    """A short clip of the astronaut portrait drifting sideways (for the background-tracking test)."""
    import av
    from skimage import data, transform

    img = (transform.resize(data.astronaut()[:400, 50:450], (480, 480)) * 255).astype(np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 480, 480, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(img, int(6 * np.sin(i / 20)), axis=1), format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def _press(viewer, key: str) -> None:
    """A key press as napari's canvas delivers it (through the active keymap chain)."""
    compat.press_key(viewer, key)


@pytest.fixture
def workbench(make_napari_viewer, workbench_session, qtbot):
    from annotator._qt.app import open_workbench

    viewer = make_napari_viewer()
    viewer, dock = open_workbench(workbench_session, coder="tester", viewer=viewer)
    yield viewer, dock
    dock.close_workbench()


# -- Qt-free ----------------------------------------------------------------------------------
def test_shortcut_table_has_no_clashes():
    assert find_clashes(DEFAULT_SHORTCUTS) == {}


def test_motion_curves_are_nan_safe():
    T = 20
    lm = np.random.default_rng(0).normal(100, 1, (T, 478, 3)).astype(np.float32)
    present = np.ones(T, bool)
    present[5:8] = False
    lm[5:8] = np.nan
    lm[:, :, :2] += np.arange(T)[:, None, None] * 10.0  # pure translation does not count
    face = face_motion_energy(lm, present, fps=30)
    assert face.shape == (T,) and np.isnan(face[5:9]).all()
    assert np.nanmax(face) < 30 * 3  # jitter only, not the 300 px/s glide
    assert np.isnan(body_motion(None, None, 30, n_frames=T)).all()
    pose = np.zeros((T, 33, 4), np.float32)
    pose[..., 3] = 1
    pose[:, 15, 0] = np.arange(T) * 2.0  # a wrist moving 2 px per frame
    body = body_motion(pose, np.ones(T, bool), fps=30)
    assert np.allclose(body[1:], 60.0 / 17)


def test_motion_curves_match_a_plain_computation_across_passes():
    """The cache-sized passes give the plain whole-array answer, pass boundaries,
    absent frames and single missing points included."""
    from annotator.features.motion import FRAMES_PER_PASS, _speed

    rng = np.random.default_rng(1)
    T = 2 * FRAMES_PER_PASS + 37
    pts = rng.normal(100, 5, (T, 40, 2)).astype(np.float32)
    absent = np.zeros(T, bool)
    absent[[0, FRAMES_PER_PASS - 1, FRAMES_PER_PASS, 300, T - 1]] = True
    pts[5, 3] = np.nan  # one point missing in one frame
    dt = np.full(T - 1, 1 / 30)

    ref = pts.astype(np.float64)
    ref[absent] = np.nan
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref -= np.nanmean(ref, axis=1, keepdims=True)
        step = np.linalg.norm(np.diff(ref, axis=0), axis=-1)
        expected = np.nanmean(step, axis=1) / dt
    got = _speed(pts, dt, absent=absent, centred=True)
    assert np.array_equal(np.isnan(got[1:]), np.isnan(expected))
    assert np.allclose(got[1:], expected, rtol=1e-4, equal_nan=True)


def test_reader_declines_files_that_are_not_ours(tmp_path, workbench_session):
    from annotator.napari._reader import napari_get_reader

    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")  # (photos are ours now: a PNG opens as one frame)
    (tmp_path / "plain_dir").mkdir()
    (tmp_path / "notes.mp4").write_text("not a video, only named like one\n")
    (tmp_path / "empty.mp4").write_bytes(b"")
    for path in ("notes.txt", "table.csv", "plain_dir", "notes.mp4", "empty.mp4"):
        assert napari_get_reader(str(tmp_path / path)) is None, path
    # a list is taken only when every path in it is ours
    assert napari_get_reader([str(workbench_session), str(tmp_path / "notes.mp4")]) is None
    assert napari_get_reader([]) is None
    from annotator.session import Session

    session = Session.open(workbench_session)
    read = napari_get_reader([str(workbench_session), str(session.video_path)])
    layers = read([str(workbench_session), str(session.video_path)])
    images = [(data, kw) for data, kw, kind in layers if kind == "image"]
    assert len(images) == 2
    for data, kw in images:
        assert data.shape == (session.n_frames, session.meta["video"]["height"], session.meta["video"]["width"], 3)
        assert kw["rgb"] is True


# -- GUI --------------------------------------------------------------------------------------
def test_lines_of_a_session_without_body_tracking():
    """Face only (``track --no-pose``): the lines are the contours, absent faces draw nothing."""
    from types import SimpleNamespace

    from annotator.napari.overlays import FACE_CONTOURS, FrameOverlays

    face = np.random.default_rng(0).uniform(10, 200, (3, 478, 3)).astype(np.float32)
    face[1] = np.nan
    face[2, 61] = np.nan  # one landmark lost: its two lip connections go, the others stay
    tracks = SimpleNamespace(face_landmarks=face, face_present=np.array([True, False, True]),
                             pose_landmarks=None, pose_present=None)
    overlays = FrameOverlays(tracks)
    n = sum(len(v) for v in FACE_CONTOURS.values())
    assert not overlays.has_skeleton and overlays.parts["skeleton"] == slice(n, n)
    lines = [overlays.frame_data(f)["lines"] for f in range(3)]
    assert all(x.shape == (n, 2, 2) for x in lines)
    length = [np.abs(x[:, 1]).sum(axis=1) for x in lines]
    assert (length[0] > 0).all() and (length[1] == 0).all()
    assert (length[2] == 0).sum() == 2
    overlays.show_parts(skeleton=True)  # nothing to show: stays off
    assert overlays.shown == {"contours": True, "skeleton": False}


@pytest.mark.gui
def test_every_action_has_a_handler(workbench):
    viewer, dock = workbench
    assert set(ACTIONS) <= set(dock.handlers)
    for spec in DEFAULT_SHORTCUTS:
        for key in spec.keys:
            from napari.utils.key_bindings import coerce_keybinding

            assert coerce_keybinding(key) in viewer.keymap


@pytest.mark.gui
def test_review_edit_undo_redo_and_reload(workbench, workbench_session):
    from annotator.session import Session

    viewer, dock = workbench
    editor = dock.editor
    proposal = editor.next_unreviewed(dock.frame)  # the least confident one first
    dock.trigger("next_unreviewed")
    assert dock.frame == proposal.onset
    _press(viewer, "Enter")  # accept, through napari's keymap
    own = editor.own(proposal.id)
    assert own is not None and own.status == "accepted"
    target = min(own.apex + 1, own.offset)
    dock.set_frame(own.apex)
    _press(viewer, "Right")
    assert dock.frame == own.apex + 1
    dock.set_frame(target)
    _press(viewer, "A")  # set apex
    assert editor.own(proposal.id).apex == target
    _press(viewer, "1")  # emotion 1: joy, not napari's "pan/zoom mode"
    assert editor.own(proposal.id).emotion == "joy"
    dock.trigger("undo")
    assert editor.own(proposal.id).emotion == proposal.emotion
    dock.trigger("undo")
    assert editor.own(proposal.id).apex == own.apex
    dock.trigger("redo")
    assert editor.own(proposal.id).apex == target
    saved = [s.to_dict() for s in editor.labels.sorted()]
    rows = dock.table.rowCount()
    dock.close_workbench()
    viewer.close()

    reloaded = Session.open(workbench_session).load_labels("tester")
    assert [s.to_dict() for s in reloaded.sorted()] == saved
    assert rows == len(editor.visible())


@pytest.mark.gui
def test_current_frame_layers_hold_one_frame(workbench):
    from annotator.napari.overlays import FACE_CONTOURS, POSE_CONNECTIONS

    viewer, dock = workbench
    overlays = dock.overlays
    n_contours = sum(len(v) for v in FACE_CONTOURS.values())
    n_lines = n_contours + (len(POSE_CONNECTIONS) if overlays.has_skeleton else 0)
    assert not overlays.points.visible  # the dense mesh is off by default; hidden layers are not fed
    overlays.points.visible = True
    for frame in (0, 7, dock.n_frames - 1):
        dock.set_frame(frame)
        expected = overlays.frame_data(frame)
        assert overlays.points.data.shape[0] <= 478 and overlays.points.ndim == 2
        np.testing.assert_allclose(overlays.points.data, expected["points"])
        face = dock.tracks.face_landmarks[frame]
        np.testing.assert_allclose(overlays.points.data, face[np.isfinite(face).all(1)][:, 1::-1], atol=1e-4)
        # One vector per connection on every frame (undrawable ones have length zero), so
        # the colours never change.
        assert overlays.lines.data.shape == (n_lines, 2, 2)
        np.testing.assert_allclose(overlays.lines.data, expected["lines"])
        contours = overlays.lines.data[overlays.parts["contours"]]
        if dock.tracks.face_present[frame]:
            (a, b), (start, step) = FACE_CONTOURS["lips"][0], contours[0]
            np.testing.assert_allclose(start, face[a, 1::-1], atol=1e-4)
            np.testing.assert_allclose(start + step, face[b, 1::-1], atol=1e-4)
    assert len(overlays.lines.edge_color) == n_lines


@pytest.mark.gui
def test_contours_and_skeleton_show_and_hide_apart(workbench):
    viewer, dock = workbench
    overlays = dock.overlays
    frame = int(np.flatnonzero(dock.tracks.face_present)[0])
    dock.set_frame(frame)
    contours, skeleton = overlays.parts["contours"], overlays.parts["skeleton"]
    drawn = lambda part: np.abs(overlays.lines.data[part][:, 1]).sum(axis=1) > 0  # noqa: E731
    assert drawn(contours).any()
    before = overlays.lines.data.copy()

    dock.show_contours.setChecked(False)
    assert not drawn(contours).any()
    np.testing.assert_array_equal(overlays.lines.data[skeleton], before[skeleton])
    dock.set_frame(frame + 1)  # stays hidden while stepping
    assert not drawn(contours).any()
    dock.show_contours.setChecked(True)
    assert drawn(contours).any()

    assert dock.show_skeleton.isEnabled() == overlays.has_skeleton
    if overlays.has_skeleton:
        dock.show_skeleton.setChecked(False)
        assert not drawn(skeleton).any() and drawn(contours).any()
    # Hiding the layer hides both; it is fed again when shown.
    overlays.lines.visible = False
    dock.set_frame(frame + 2)
    overlays.lines.visible = True
    np.testing.assert_allclose(overlays.lines.data, overlays.frame_data(frame + 2)["lines"])


@pytest.mark.gui
def test_close_unbinds_keys_and_stops_playback(workbench, qtbot):
    from napari.utils.key_bindings import coerce_keybinding

    viewer, dock = workbench
    dock.trigger("play_pause")
    assert dock.play_timer.isActive()
    qtbot.wait(120)
    dock.close_workbench()
    assert not dock.play_timer.isActive()
    assert coerce_keybinding("Enter") not in viewer.keymap
    assert coerce_keybinding("Right") not in viewer.keymap  # napari's own Right (class keymap) is back


@pytest.mark.gui
def test_timeline_follows_slider_and_drags_edges(workbench, qtbot):
    viewer, dock = workbench
    dock.set_frame(12)
    # The timeline follows from the event loop, once the video frame is drawn.
    qtbot.waitUntil(lambda: dock.timeline.cursor.value() == 12, timeout=2000)
    dock.timeline.frameRequested.emit(30)
    assert dock.frame == 30
    seg = dock.editor.new_segment(30, length=5)
    dock.timeline.boundaryMoved.emit(seg.id, "offset", 40)
    assert dock.editor.own(seg.id).offset == 40
    # The redrawn span covers frames 30-40 whole, and the edges sit on the new offset.
    (au_plot, spans), *_ = dock.timeline._spans
    assert au_plot is dock.timeline.au_plot
    drawn = np.concatenate([g[2] for g in spans._groups])
    assert ((drawn[:, 0] == 29.5) & (drawn[:, 1] == 40.5)).sum() == 1
    assert dock.timeline.current_id == seg.id
    apex = dock.editor.own(seg.id).apex
    assert sorted(h.value() for h in dock.timeline._handles) == sorted([29.5, apex, 40.5])


@pytest.mark.gui
def test_plugins_menu_widget_finds_the_session(make_napari_viewer, workbench_session):
    viewer = make_napari_viewer()
    viewer.open(str(workbench_session), plugin="annotator")
    _, dock = viewer.window.add_plugin_dock_widget("annotator", "Workbench")
    assert dock.session is not None and dock.session.root == Path(workbench_session)
    # the overlays and the timeline are up, on this session's tracks
    from annotator.napari.overlays import LAYER_NAMES

    names = [layer.name for layer in viewer.layers]
    assert all(n in names for n in LAYER_NAMES.values()), names
    assert dock.overlays.tracks.n_frames == dock.session.n_frames
    assert dock.timeline.cursor.value() == dock.frame
    dock.close_workbench()


@pytest.mark.gui
@pytest.mark.slow
def test_untracked_video_is_tracked_in_the_background(make_napari_viewer, workbench_session, tmp_path, qtbot):
    from annotator._qt.app import open_workbench
    from annotator.session import Session

    video = tmp_path / "clip.mp4"
    _make_clip(video, frames=40)
    viewer, dock = open_workbench(video, coder="tester", viewer=make_napari_viewer())
    assert dock.session is None and not dock.track_button.isHidden()
    dock.start_tracking()
    qtbot.wait(300)
    dock.cancel_tracking()  # cancelling leaves the UI ready to try again
    qtbot.waitUntil(lambda: dock.worker is None, timeout=30_000)
    dock.start_tracking()
    qtbot.waitUntil(lambda: dock.session is not None, timeout=120_000)
    assert Session.open(tmp_path / "clip.annot").has_labels("auto")
    assert dock.overlays.tracks.complete and dock.overlays.tracks.n_frames == 40
    dock.close_workbench()


@pytest.mark.gui
def test_saving_the_video_layer_exports_labels(workbench, tmp_path):
    from napari.plugins.io import save_layers

    viewer, dock = workbench
    seg = dock.editor.new_segment(10, length=4, emotion="fear")
    out = tmp_path / "labels.csv"
    written = save_layers(str(out), [dock.video_layer], plugin="annotator")
    assert written == [str(out)]
    import pandas as pd

    table = pd.read_csv(out)
    ours = table[table.Coder == dock.editor.labels.coder]
    rows = sorted(tuple(r) for r in ours[["OnsetFrame", "ApexFrame", "OffsetFrame", "Estimated Emotion"]].itertuples(index=False))
    # every segment of the coder's (the shared session may hold earlier tests' too), the new one among them
    assert rows == sorted((s.onset, s.apex, s.offset, s.emotion) for s in dock.editor.labels.segments)
    assert (seg.onset, seg.apex, seg.offset, "fear") in rows


@pytest.mark.gui
def test_compare_shows_other_coders_read_only(make_napari_viewer, workbench_session):
    from annotator._qt.app import open_workbench
    from annotator.labels.file import make_segment
    from annotator.session import Session

    session = Session.open(workbench_session)
    proposals = session.load_labels("auto").segments
    free = next(f for f in range(3, session.n_frames - 3)
                if not any(p.onset - 3 <= f <= p.offset + 3 for p in proposals))
    other = session.load_labels("rater2", create=True)
    other.segments.append(make_segment(other, free - 2, free, free + 2, emotion="anger"))
    session.save_labels(other)
    viewer, dock = open_workbench(workbench_session, coder="tester3", compare=["rater2"], viewer=make_napari_viewer())
    coders = [dock.table.cell_text(r, COLUMNS.index("coder")) for r in range(dock.table.rowCount())]
    assert "rater2" in coders
    before = [s.to_dict() for s in dock.editor.labels.segments]
    dock.set_frame(free)
    dock.trigger("accept")  # nothing of ours here: the other coder's segment stays untouched
    assert [s.to_dict() for s in dock.editor.labels.segments] == before
    assert session.load_labels("rater2").segments[0].emotion == "anger"
    dock.close_workbench()


@pytest.mark.gui
def test_real_key_presses_on_the_canvas_reach_the_actions(workbench, monkeypatch):
    """Qt key events, as a keyboard sends them, against napari's own bindings (digits, Ctrl-Y, Space)."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    viewer, dock = workbench
    got = []
    monkeypatch.setattr(dock, "trigger", got.append)
    canvas = compat.canvas_widget(viewer)
    K, M = Qt.Key, Qt.KeyboardModifier
    cases = {
        "step_forward": (K.Key_Right, M.NoModifier),
        "play_pause": (K.Key_Space, M.NoModifier),
        "emotion_joy": (K.Key_1, M.NoModifier),
        "accept": (K.Key_Return, M.NoModifier),
        "undo": (K.Key_Z, M.ControlModifier),
        "redo": (K.Key_Y, M.ControlModifier),
        "help": (K.Key_Question, M.ShiftModifier),
        "loop_quarter": (K.Key_L, M.AltModifier),
    }
    for action, (key, mod) in cases.items():
        got.clear()
        QTest.keyClick(canvas, key, mod)
        assert got == [action]


@pytest.mark.gui
def test_timeline_spans_show_at_every_zoom(qtbot):
    """A 12-frame segment in a one-hour timeline is visible with the hour in view
    (a one-pixel line) and filled when zoomed in; spans outside the view are not drawn."""
    from qtpy.QtCore import QPointF
    from qtpy.QtGui import QColor, QImage

    from annotator._qt.timeline import TimelineWidget
    from annotator.labels.model import Segment
    from annotator.napari.overlays import EMOTION_COLORS

    n = 108_000
    w = TimelineWidget(n, 30.0)
    qtbot.addWidget(w)
    w.resize(1200, 260)
    w.show()
    qtbot.waitExposed(w)
    joy = Segment(50_000, 50_006, 50_011, emotion="joy", status="accepted")
    anger = Segment(90_000, 90_004, 90_009, emotion="anger", status="proposed")
    w.set_segments([joy, anger])

    def column(frame: float) -> np.ndarray:
        """The AU plot's pixels (RGB) in the screen column of ``frame``, ±1 px."""
        image = w.glw.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        pos = w.glw.mapFromScene(w.au_plot.vb.mapViewToScene(QPointF(frame, 0.5)))
        top = w.glw.mapFromScene(w.au_plot.vb.mapViewToScene(QPointF(frame, 0.9))).y()
        bottom = w.glw.mapFromScene(w.au_plot.vb.mapViewToScene(QPointF(frame, 0.1))).y()
        ptr = image.constBits()
        ptr.setsize(image.sizeInBytes())
        rgb = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)[..., 2::-1]
        return rgb[top:bottom, pos.x() - 1 : pos.x() + 2].reshape(-1, 3)

    def has(pixels: np.ndarray, color: str, tol: int = 24) -> bool:
        c = QColor(color)
        return bool((np.abs(pixels.astype(int) - (c.red(), c.green(), c.blue())).max(axis=1) <= tol).any())

    w.set_x_range(0, n)
    qtbot.wait(50)
    assert has(column(50_005.5), EMOTION_COLORS["joy"])
    assert has(column(90_004.5), EMOTION_COLORS["anger"])
    assert not has(column(70_000), EMOTION_COLORS["joy"])

    w.set_x_range(49_990, 50_030)
    qtbot.wait(50)
    inside, outside = column(50_005.5), column(50_020)
    # The fill is the emotion colour over the dark background, so inside differs from outside.
    assert np.abs(inside.astype(int).mean(axis=0) - outside.astype(int).mean(axis=0)).max() > 15
    assert not has(inside, EMOTION_COLORS["anger"])  # the anger span is out of view


def _answer_dialog(qtbot, text: str | None, tries: int = 100) -> None:
    """Fill the next modal text dialog with ``text`` and press OK (``None``: Cancel).

    Polls for the dialog for about two seconds, then gives up (the test's own
    assertions then fail), so a missing dialog never answers a later one.
    """
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication, QInputDialog

    def answer(left: int) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            if left:
                QTimer.singleShot(20, lambda: answer(left - 1))
            return
        if text is None:
            dialog.reject()
        else:
            dialog.setTextValue(text)
            dialog.accept()

    QTimer.singleShot(0, lambda: answer(tries))


@pytest.mark.gui
def test_notes_and_action_units_typed_from_the_keyboard(workbench, qtbot, workbench_session):
    from annotator.session import Session

    viewer, dock = workbench
    editor = dock.editor
    proposal = editor.next_unreviewed(dock.frame)
    dock.set_frame(proposal.apex)

    _answer_dialog(qtbot, "brief lip corner pull, left only")
    _press(viewer, "T")
    own = editor.own(proposal.id)
    assert own is not None and own.status == "edited" and own.notes == "brief lip corner pull, left only"

    _answer_dialog(qtbot, "AU6, AU12")
    _press(viewer, "Shift-A")
    assert editor.own(proposal.id).aus == ["6", "12"]
    row = dock.table.row_of(proposal.id)
    assert dock.table.cell_text(row, COLUMNS.index("AUs")) == "6+12"

    _answer_dialog(qtbot, "AU6 smile")  # not FACS: refused, nothing changes
    _press(viewer, "Shift-A")
    assert editor.own(proposal.id).aus == ["6", "12"]
    assert "smile" in viewer.status

    _answer_dialog(qtbot, None)  # cancel leaves the notes alone
    _press(viewer, "T")
    assert editor.own(proposal.id).notes == "brief lip corner pull, left only"

    dock.trigger("undo")
    assert editor.own(proposal.id).aus == proposal.aus
    reloaded = Session.open(workbench_session).load_labels("tester")
    assert reloaded.get(proposal.id).notes == "brief lip corner pull, left only"
    assert reloaded.get(proposal.id).aus == proposal.aus


@pytest.mark.gui
def test_frame_steps_do_not_recompile_the_overlay_shaders(make_napari_viewer, workbench_session, monkeypatch):
    """vispy rebuilt each Vectors layer's shader on every data change (vispy#2568);
    the workbench keeps them, so a step only uploads new vertices."""
    from annotator._qt.app import open_workbench

    program, build = compat.resolve(compat.SHADER_BUILD)

    viewer, dock = open_workbench(workbench_session, coder="tester", viewer=make_napari_viewer(show=True))
    try:
        dock.set_frame(10)
        viewer.screenshot(canvas_only=True, flash=False)  # draws once: every program is built
        builds = []
        original = getattr(program, build)
        monkeypatch.setattr(program, build, lambda self, *a, **k: (builds.append(1), original(self, *a, **k))[1])
        for frame in range(11, 16):
            dock.set_frame(frame)
            shown = viewer.screenshot(canvas_only=True, flash=False)
        assert dock.overlays.lines.visible and np.abs(dock.overlays.lines.data).sum() > 0
        assert builds == []
        # ...and the lines are still drawn: hiding them changes the picture.
        dock.overlays.lines.visible = False
        hidden = viewer.screenshot(canvas_only=True, flash=False)
        assert np.abs(shown[..., :3].astype(int) - hidden[..., :3].astype(int)).max() > 50
    finally:
        dock.close_workbench()


@pytest.mark.gui
def test_frame_steps_repaint_only_the_video_row_of_the_layer_list(
    make_napari_viewer, workbench_session, qtbot, monkeypatch
):
    """Qt's list view lays out and repaints every row on any change, and napari sends
    three per step; in the workbench a step repaints the one row whose thumbnail changed."""
    from qtpy.QtCore import Qt

    from annotator._qt.app import open_workbench

    viewer, dock = open_workbench(workbench_session, coder="tester", viewer=make_napari_viewer(show=True))
    try:
        dock.window().resize(1500, 950)  # room for all four rows
        qtbot.wait(100)
        view = compat.layer_list_view(viewer)
        assert view.viewport().height() >= 3 * view.sizeHintForRow(0)
        painted = []
        LayerDelegate = compat.layer_row_delegate()
        original = LayerDelegate.paint

        def paint(self, painter, option, index):
            painted.append(index.data(Qt.ItemDataRole.DisplayRole))
            return original(self, painter, option, index)

        monkeypatch.setattr(LayerDelegate, "paint", paint)
        for frame in range(10, 16):
            dock.set_frame(frame)
            qtbot.wait(20)
        assert len(viewer.layers) == 3
        assert set(painted) == {dock.video_layer.name}  # the thumbnail's row, and only it
        # Everything else still reaches the list the usual way.
        painted.clear()
        dock.overlays.lines.name = "lines"
        qtbot.waitUntil(lambda: "lines" in painted, timeout=2000)
        dock.overlays.lines.visible = False
        model = view.model()
        (index,) = [model.index(row, 0) for row in range(model.rowCount())
                    if model.index(row, 0).data(Qt.ItemDataRole.DisplayRole) == "lines"]
        assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    finally:
        dock.close_workbench()


@pytest.mark.gui
def test_overlays_follow_the_camera_but_skip_redundant_draw_updates(make_napari_viewer, workbench_session, monkeypatch):
    from annotator._qt.app import open_workbench

    vectors, level_and_corners = compat.resolve(compat.LEVEL_AND_CORNERS)
    viewer, dock = open_workbench(workbench_session, coder="tester", viewer=make_napari_viewer(show=True))
    try:
        lines = dock.overlays.lines
        viewer.screenshot(canvas_only=True, flash=False)
        zoom = lines.scale_factor
        calls = []
        original = getattr(vectors, level_and_corners)
        monkeypatch.setattr(vectors, level_and_corners,
                            lambda self, *a: (calls.append(self.name), original(self, *a))[1])
        for frame in range(5, 9):  # the camera stands still: napari's bookkeeping is skipped
            dock.set_frame(frame)
            viewer.screenshot(canvas_only=True, flash=False)
        assert calls == []
        viewer.scene.camera.zoom *= 2  # ...and still reaches the layer when it moves
        viewer.screenshot(canvas_only=True, flash=False)
        assert lines.name in calls
        assert lines.scale_factor == pytest.approx(zoom / 2)
        assert lines.scale_factor == pytest.approx(dock.video_layer.scale_factor)
    finally:
        dock.close_workbench()


@pytest.mark.gui
def test_segment_table_sorts_keeps_the_selection_and_jumps(qtbot):
    from qtpy.QtCore import Qt

    from annotator._qt.table import SegmentTable
    from annotator.labels.model import Segment

    mine = [Segment(10, 12, 15, emotion="joy", status="accepted", confidence=0.9),
            Segment(40, 44, 50, emotion="fear", status="proposed", confidence=None),
            Segment(70, 71, 75, emotion="anger", status="proposed", confidence=0.3)]
    theirs = {"rater2": [Segment(20, 22, 24, emotion="disgust", status="accepted")]}
    table = SegmentTable()
    qtbot.addWidget(table)
    table.resize(600, 300)
    table.show()
    table.set_segments(mine, theirs, "me")
    frames, conf, coder = (COLUMNS.index(c) for c in ("frames", "conf", "coder"))
    assert [table.cell_text(r, frames) for r in range(table.rowCount())] == [
        "10–12–15", "20–22–24", "40–44–50", "70–71–75"]  # by onset

    table.sortByColumn(conf, Qt.SortOrder.DescendingOrder)  # confidence; none sorts last
    assert [table.cell_text(r, conf) for r in range(4)][:2] == ["0.9", "0.3"]
    table.select_id(mine[2].id)
    assert table.selected_id() == mine[2].id
    table.set_segments(mine, theirs, "me")  # an edit refills: order and selection stay
    assert table.cell_text(0, conf) == "0.9" and table.selected_id() == mine[2].id

    table.selectRow([table.cell_text(r, coder) for r in range(4)].index("rater2"))
    assert table.selected_id() == ""  # another coder's row is not ours to edit

    row = table.row_of(mine[1].id)
    rect = table.visualRect(table.model().index(row, 1))
    with qtbot.waitSignal(table.segmentActivated) as jumped:
        qtbot.mousePress(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert jumped.args == [mine[1].id, 44]


def _on_disk(workbench_session, coder: str = "tester") -> dict:
    """The coder's file as saved: ``{segment id: status}``."""
    from annotator.labels import load_labels
    from annotator.session import Session

    path = Session.open(workbench_session).labels_path(coder)
    return {s.id: s.status for s in load_labels(path).segments} if path.exists() else {}


@pytest.mark.gui
def test_reject_delete_undo_and_redo_by_real_keys(workbench, workbench_session):
    """X, Delete, Ctrl-Z and Ctrl-Shift-Z as a keyboard sends them; each step is on disk at once."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    viewer, dock = workbench
    editor = dock.editor
    canvas = compat.canvas_widget(viewer)
    K, M = Qt.Key, Qt.KeyboardModifier
    undo, redo = (K.Key_Z, M.ControlModifier), (K.Key_Z, M.ControlModifier | M.ShiftModifier)
    proposal = editor.next_unreviewed(0)
    dock.set_frame(proposal.apex)

    QTest.keyClick(canvas, K.Key_X)  # reject
    assert editor.own(proposal.id).status == "rejected" and _on_disk(workbench_session)[proposal.id] == "rejected"
    QTest.keyClick(canvas, *undo)
    assert editor.own(proposal.id) is None and proposal.id not in _on_disk(workbench_session)
    QTest.keyClick(canvas, *redo)
    assert editor.own(proposal.id).status == "rejected" and _on_disk(workbench_session)[proposal.id] == "rejected"

    QTest.keyClick(canvas, K.Key_Return)  # accept the rejected segment again
    assert _on_disk(workbench_session)[proposal.id] == "accepted"
    QTest.keyClick(canvas, K.Key_Delete)
    assert editor.own(proposal.id) is None and proposal.id not in _on_disk(workbench_session)
    QTest.keyClick(canvas, *undo)  # the deleted segment comes back, accepted
    assert editor.own(proposal.id).status == "accepted" and _on_disk(workbench_session)[proposal.id] == "accepted"
    QTest.keyClick(canvas, *redo)
    assert editor.own(proposal.id) is None and proposal.id not in _on_disk(workbench_session)


@pytest.mark.gui
def test_shortcuts_json_rebinds_the_workbench(make_napari_viewer, workbench_session, tmp_path, monkeypatch):
    """~/.config/annotator/shortcuts.json: Backspace rejects, and X, no longer bound, does nothing."""
    import json

    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    from annotator._qt.app import open_workbench

    monkeypatch.setenv("ANNOTATOR_CONFIG", str(tmp_path))
    (tmp_path / "shortcuts.json").write_text(json.dumps({"reject": "Backspace"}))
    viewer, dock = open_workbench(workbench_session, coder="rebinder", viewer=make_napari_viewer())
    try:
        assert [s.keys for s in dock.shortcuts if s.action == "reject"] == [("Backspace",)]
        canvas = compat.canvas_widget(viewer)
        proposal = dock.editor.next_unreviewed(0)
        dock.set_frame(proposal.apex)
        QTest.keyClick(canvas, Qt.Key.Key_X)
        assert dock.editor.own(proposal.id) is None
        QTest.keyClick(canvas, Qt.Key.Key_Backspace)
        assert dock.editor.own(proposal.id).status == "rejected"
        assert _on_disk(workbench_session, "rebinder")[proposal.id] == "rejected"
    finally:
        dock.close_workbench()
