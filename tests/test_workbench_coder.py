"""The coder's day in the workbench (issue 17 items 1-11, 10.3, 12.5/12.6), as a coder meets it:
real napari on the virtual screen, keys pressed on the canvas, the coder's file read back.

Every test codes as its own coder, so edits made by one never leak into another.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from annotator._qt import _napari_compat as compat
from annotator._qt.table import COLUMNS
from annotator.labels.editor import LabelsEditor
from annotator.labels.file import Labels, make_segment
from annotator.labels.model import Segment

from .test_workbench import _press

_coders = itertools.count()


@pytest.fixture
def bench(make_napari_viewer, workbench_session, qtbot):
    """Open the workbench as a fresh coder; yields ``(viewer, dock, session)``."""
    from annotator._qt.app import open_workbench
    from annotator.session import Session

    viewer, dock = open_workbench(workbench_session, coder=f"coder{next(_coders)}", viewer=make_napari_viewer())
    yield viewer, dock, Session.open(workbench_session)
    dock.close_workbench()


def _saved(session, coder):
    return {s.id: s for s in session.load_labels(coder).segments} if session.has_labels(coder) else {}


# -- 17.1: keys act on the current segment ------------------------------------------------------
@pytest.mark.gui
def test_keys_edit_the_new_segment_not_the_proposal_under_the_cursor(bench):
    """The issue's case: N at frame 225, step 10, O. The new segment gets the offset."""
    import dataclasses

    viewer, dock, session = bench
    editor = dock.editor
    # The issue's proposal, 229-253-270 (macro), beside the sample's own (in memory only:
    # proposals are read-only to the editor).
    auto = editor.proposals
    issue = make_segment(auto, 229, 253, 270, emotion="anger", status="proposed", source="spotter", confidence=0.6)
    assert issue.kind == "macro" and all(not (p.onset <= 235 <= p.offset) for p in auto.segments)
    editor.proposals = dataclasses.replace(auto, segments=auto.segments + [issue])
    dock.segments.refresh(editor)
    dock.set_frame(225)
    _press(viewer, "N")
    new = editor.labels.segments[-1]
    assert dock.table.selected_id() == new.id and dock.timeline.current_id == new.id
    _press(viewer, "Shift-Right")
    assert dock.frame == 235
    under = editor.at(235)
    assert under.id == issue.id
    before = under.to_dict()
    _press(viewer, "O")
    saved = _saved(session, dock.coder)
    assert saved[new.id].offset == 235 and saved[new.id].onset == new.onset
    assert under.id not in saved and editor.find(under.id).to_dict() == before  # still 229-253-270, macro
    _press(viewer, "Shift-Right")  # 245: inside the proposal only
    _press(viewer, "1")
    assert _saved(session, dock.coder)[new.id].emotion == "joy" and issue.id not in _saved(session, dock.coder)
    assert "not the anger one under the cursor" in viewer.status  # said, never silent
    # Esc: no current segment, so the keys go back to the one under the cursor.
    _press(viewer, "Escape")
    _press(viewer, "Enter")
    assert _saved(session, dock.coder)[under.id].status == "accepted"
    assert dock.table.selected_id() == under.id == dock.timeline.current_id


# -- 17.2: U moves on, most uncertain first -----------------------------------------------------
@pytest.mark.gui
def test_u_moves_on_in_uncertainty_order_and_the_table_shows_confidence(bench):
    viewer, dock, session = bench
    editor = dock.editor
    order = editor.review_order()
    assert len(order) >= 3
    assert all(s.uncertainty is not None for s in order)
    assert [s.uncertainty for s in order] == sorted((s.uncertainty for s in order), reverse=True)
    visited = []
    for _ in range(len(order) + 1):
        _press(viewer, "U")
        visited.append(dock.segments.current_segment().id)
        assert dock.frame == editor.find(visited[-1]).onset
    assert visited[: len(order)] == [s.id for s in order], "each U moves on (a skip), never sticks"
    assert visited[-1] == order[0].id, "skipped proposals come round again"
    _press(viewer, "Shift-U")
    assert dock.segments.current_segment().id == order[-1].id
    confs = {dock.table.cell_text(r, COLUMNS.index("conf")) for r in range(dock.table.rowCount())}
    assert len(confs) > 1 and confs != {"1.0"}


# -- 17.3: relabelling clears the machine's evidence ----------------------------------------------
def test_relabelling_clears_what_only_the_machine_said(tmp_path):
    from annotator.labels.file import VideoRef

    video = VideoRef(path="clip.mp4", sha256="0" * 64, fps=30.0, frames=300)
    auto = Labels(coder="auto", video=video)
    prop = make_segment(auto, 10, 15, 20, emotion="joy", status="proposed", aus=["AU6", "AU12"], confidence=1.0,
                        uncertainty=0.2, intensity=0.8, emotion_scores={"joy": 0.9, "surprise": 0.1}, source="spotter")
    auto.segments = [prop]
    editor = LabelsEditor(Labels(coder="alice", video=video), tmp_path / "alice.json", proposals=auto)
    editor.set_emotion(prop.id, "surprise")
    saved = json.loads((tmp_path / "alice.json").read_text())["segments"][0]
    assert saved["emotion"] == "surprise" and saved["status"] == "edited"
    assert saved["aus"] == [] and saved["confidence"] is None and saved["emotion_scores"] is None
    assert saved["uncertainty"] is None and saved["intensity"] is None
    editor.set_aus(prop.id, ["AU1", "AU2"])
    editor.set_emotion(prop.id, "fear")
    assert editor.own(prop.id).aus == ["1", "2"], "the coder's own AUs stay"
    editor.set_emotion(prop.id, "fear")  # the same emotion again changes nothing
    # Accepting as it is keeps the machine's evidence: the coder agreed with it.
    other = make_segment(auto, 40, 45, 50, emotion="joy", status="proposed", confidence=0.7, source="spotter")
    auto.segments.append(other)
    assert editor.accept(other.id).confidence == 0.7
    # Moving the frames drops the machine's confidence about its own frames.
    assert editor.set_frame(other.id, "offset", 55).confidence is None


# -- 17.4: new segments ---------------------------------------------------------------------------
@pytest.mark.gui
def test_a_new_segment_spans_the_cursor_and_stays_unfinished_until_it_has_an_emotion(bench):
    viewer, dock, session = bench
    free = next(f for f in range(20, dock.n_frames - 20) if dock.editor.at(f) is None
                and all(dock.editor.at(f + d) is None for d in range(-8, 9)))
    dock.set_frame(free)
    _press(viewer, "N")
    new = _saved(session, dock.coder)[dock.segments.selected_id]
    half = round(0.1 * session.fps)
    assert (new.onset, new.apex, new.offset) == (free - half, free, free + half)
    assert new.status == "unfinished" and new.emotion == "other"
    _press(viewer, "Enter")  # accepting needs an emotion first: said, nothing changes
    assert "emotion" in viewer.status and _saved(session, dock.coder)[new.id].status == "unfinished"
    _press(viewer, "5")
    done = _saved(session, dock.coder)[new.id]
    assert (done.emotion, done.status) == ("fear", "accepted")


# -- 17.5: undo moves the cursor --------------------------------------------------------------------
@pytest.mark.gui
def test_undo_and_redo_move_the_cursor_to_the_segment_they_change(bench):
    viewer, dock, session = bench
    first, second = dock.editor.review_order()[:2]
    dock.segments.goto(first)
    _press(viewer, "Enter")
    dock.segments.goto(second)
    _press(viewer, "X")
    dock.set_frame(0)
    _press(viewer, "Escape")
    _press(viewer, "Control-Z")  # the reject of the second
    assert dock.frame == second.onset and dock.segments.current_segment().id == second.id
    dock.set_frame(dock.n_frames - 1)
    _press(viewer, "Control-Z")  # the accept of the first
    assert dock.frame == first.onset and dock.segments.current_segment().id == first.id
    dock.set_frame(0)
    _press(viewer, "Control-Y")
    assert dock.frame == first.onset and _saved(session, dock.coder)[first.id].status == "accepted"


# -- 17.6: the video fits the canvas ------------------------------------------------------------------
@pytest.mark.gui
def test_the_video_opens_fitted_to_the_canvas_after_the_docks_settle(bench, qtbot):
    viewer, dock, session = bench
    viewer.window.show()
    viewer.window._qt_window.resize(1500, 950)  # noqa: SLF001 - the window napari made, sized as a user would
    dock.load_session(session.root)  # as on opening: the fit waits for the layout to settle
    qtbot.wait(100)
    canvas = compat.canvas_widget(viewer)
    h, w = dock.video_layer.data.shape[1:3]
    zoom = viewer.camera.zoom
    cw, ch = canvas.width(), canvas.height()
    assert zoom * w <= cw + 2 and zoom * h <= ch + 2, "the whole frame is in view"
    assert zoom * w >= 0.8 * cw or zoom * h >= 0.8 * ch, "and it fills the canvas one way"


# -- 17.7 and 10.3: the readout and the per-frame emotion ---------------------------------------------
@pytest.mark.gui
def test_the_readout_shows_time_aus_emotion_and_phase(bench, qtbot):
    from annotator.features import FRAME_EMOTIONS

    viewer, dock, session = bench
    seg = dock.editor.review_order()[0]
    dock.segments.goto(seg)
    for _ in range(seg.apex - seg.onset):
        _press(viewer, "Right")
    qtbot.waitUntil(lambda: dock.readout.last is not None and dock.readout.last.frame == seg.apex)
    reading = dock.readout.last
    text = dock.readout.label.text()
    assert f"frame {seg.apex}" in text and reading.timecode in text
    assert reading.phase == "apex" and "phase apex" in text
    assert {"AU12", "AU4"} <= set(reading.aus) and all(f"{k} " in text for k in reading.aus)
    assert reading.emotion in FRAME_EMOTIONS and f"{reading.emotion} {reading.emotion_p:.2f}" in text
    _press(viewer, "Left")
    qtbot.waitUntil(lambda: dock.readout.last.frame == seg.apex - 1)
    assert dock.readout.last.phase == "onset"
    # The per-frame emotion is a timeline channel: a band coloured by the likeliest emotion.
    image = dock.timeline._emotion_image.image  # noqa: SLF001 - our own widget's item
    assert image.shape[0] == session.n_frames and image[seg.apex, 0, 3] > 0


def test_timecode_counts_frames_within_the_second():
    from annotator.features.readout import timecode

    assert timecode(0.0, 30) == "00:00:00:00"
    assert timecode(7.5, 30) == "00:00:07:15"
    assert timecode(3661 + 29 / 30, 30) == "01:01:01:29"
    assert timecode(29 / 29.97, 29.97) == "00:00:00:29" and timecode(30 / 29.97, 29.97) == "00:00:01:00"


# -- 17.8 and 17.9: the timeline ---------------------------------------------------------------------
@pytest.mark.gui
def test_timeline_colours_units_legend_and_spans(qtbot):
    from annotator._qt.timeline import LEGEND_TOP, TimelineWidget, segment_brush

    w = TimelineWidget(300, 30.0)
    qtbot.addWidget(w)
    curves = {name: np.linspace(0, 1, 300) for name in ("AU1", "AU4", "AU9", "AU12", "AU15", "AU25")}
    w.set_channels(curves)
    colours = {n: w.channel_color(n) for n in curves}
    w.set_shown_channels(["AU25"])
    w.set_shown_channels(["AU12", "AU25", "AU1"])
    assert {n: w.channel_color(n) for n in curves} == colours
    assert w._items["AU25"].opts["pen"].color().name().lower() == colours["AU25"].lower()  # noqa: SLF001
    assert len(set(colours.values())) == len(colours)
    assert "0–1" in w.au_plot.getAxis("left").labelText
    assert w.au_plot.viewRange()[1][1] >= LEGEND_TOP - 0.01 and LEGEND_TOP > 1.2  # a strip above the data
    for unit, tick in (("frames", "150"), ("seconds", "5"), ("timecode", "00:00:05:00")):
        w.set_x_unit(unit)
        assert w.x_axis.tickStrings([150.0], 1, 30)[0] == tick
    accepted, edited = segment_brush("joy", "accepted"), segment_brush("joy", "edited")
    assert accepted.style() != edited.style()


@pytest.mark.gui
def test_compare_gives_each_coder_a_labelled_lane_and_the_agreement(make_napari_viewer, workbench_session):
    from annotator._qt.app import open_workbench
    from annotator.session import Session

    session = Session.open(workbench_session)
    proposals = session.load_labels("auto").sorted()
    me, them = f"coder{next(_coders)}", f"rater{next(_coders)}"
    for name, shift, emotions in ((me, 0, None), (them, 2, "disgust")):
        labels = session.load_labels(name, create=True)
        labels.segments = [p.replace(status="accepted", source=name, onset=p.onset + shift, apex=p.apex + shift,
                                     offset=p.offset + shift, emotion=emotions or p.emotion) for p in proposals]
        session.save_labels(labels)
    viewer, dock = open_workbench(workbench_session, coder=me, compare=[them], viewer=make_napari_viewer())
    try:
        assert dock.timeline.lane_names == [me, them]
        ticks = dock.timeline.lanes_plot.getAxis("left")._tickLevels[0]  # noqa: SLF001 - pyqtgraph's own store
        assert sorted(name for _pos, name in ticks) == sorted([me, them])
        assert dock.agreement.box.isVisibleTo(dock)
        text = dock.agreement.text.toPlainText()
        assert f"{me} vs {them}" in text and "emotion κ" in text
        # Every pair disagrees on the emotion (unless both said disgust): those need a decision.
        to_decide = dock.agreement.to_decide
        assert to_decide and all(s.adjudication for s in to_decide)
        dock.set_frame(0)
        _press(viewer, "J")
        assert dock.frame == to_decide[0].onset and to_decide[0].adjudication in viewer.status
        if len(to_decide) > 1:
            _press(viewer, "J")
            assert dock.frame == to_decide[1].onset
        _press(viewer, "Shift-J")
        assert dock.frame == to_decide[0].onset
    finally:
        dock.close_workbench()


# -- 17.10: the table ------------------------------------------------------------------------------------
@pytest.mark.gui
def test_table_fits_the_dock_and_edits_notes_and_aus_in_place(bench, qtbot):
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QLineEdit

    viewer, dock, session = bench
    table = dock.table
    viewer.window.show()
    dock.resize(dock.minimumWidth(), 700)
    qtbot.wait(50)
    header = table.horizontalHeader()
    for name in ("AUs", "coder", "notes"):
        col = COLUMNS.index(name)
        assert header.sectionViewportPosition(col) + 20 <= table.viewport().width(), f"{name} is in view"
    assert table.horizontalScrollBar().maximum() == 0

    prop = dock.editor.review_order()[0]
    row = table.row_of(prop.id)
    for column, typed, shown, check in (("notes", "left only", "left only", lambda s: s.notes == "left only"),
                                        # typed in any spelling, shown in the one FACS style (17.20)
                                        ("AUs", "AU6 R12c", "6+R12C", lambda s: s.aus == ["6", "R12C"])):
        index = table.model().index(row, COLUMNS.index(column))
        table.setCurrentIndex(index)
        table.setFocus()
        qtbot.keyClick(table, Qt.Key.Key_F2)  # the edit key opens the cell
        editors = table.viewport().findChildren(QLineEdit)
        assert len(editors) == 1
        editor_widget = editors[0]
        editor_widget.selectAll()
        qtbot.keyClicks(editor_widget, typed)
        qtbot.keyClick(editor_widget, Qt.Key.Key_Return)  # Qt commits from the event loop
        qtbot.waitUntil(lambda check=check: prop.id in _saved(session, dock.coder)
                        and check(_saved(session, dock.coder)[prop.id]))
        row = table.row_of(prop.id)
        assert table.cell_text(row, COLUMNS.index(column)) == shown


# -- 17.11: pose on close-ups ----------------------------------------------------------------------------
def test_pose_face_points_and_off_image_connections_are_not_drawn():
    from types import SimpleNamespace

    from annotator.napari.overlays import BLAZEPOSE_FACE_POINTS, POSE_CONNECTIONS, FrameOverlays

    rng = np.random.default_rng(0)
    face = rng.uniform(10, 200, (2, 478, 3)).astype(np.float32)
    pose = np.zeros((2, 33, 4), np.float32)
    pose[..., :2] = rng.uniform(10, 200, (2, 33, 2))
    pose[..., 3] = 1.0
    pose[:, 27, 1] = 900  # the left knee, below the 240-pixel-high image
    tracks = SimpleNamespace(face_landmarks=face, face_present=np.array([True, False]), pose_landmarks=pose,
                             pose_present=np.array([True, True]), attrs={"width": 320, "height": 240})
    overlays = FrameOverlays(tracks)
    for frame, face_shown in ((0, True), (1, False)):
        skeleton = overlays.frame_data(frame)["lines"][overlays.parts["skeleton"]]
        drawn = np.abs(skeleton[:, 1]).sum(axis=1) > 0
        for (a, b), on in zip(POSE_CONNECTIONS, drawn, strict=True):
            if 27 in (a, b):
                assert not on, "a connection to a point outside the image"
            elif a < BLAZEPOSE_FACE_POINTS and b < BLAZEPOSE_FACE_POINTS:
                assert on == (not face_shown), "the pose's own face only without the mesh"
            else:
                assert on


def test_segment_phase():
    seg = Segment(10, 14, 20)
    assert [seg.phase(f) for f in (9, 10, 13, 14, 15, 20, 21)] == [
        None, "onset", "onset", "apex", "offset", "offset", None]
