"""OpenFace 2.0 and Py-Feat CSVs imported as tracks: store contract, features, proposals, bad input.

The CSVs are synthetic, written from the tools' documented column layouts by
``tests/fixtures/face_tools.py`` (no real OpenFace or Py-Feat output was at hand
offline): OpenFace's header and values exactly as its CSV recorder separates them
(``", "``), with ``frame`` 1-based; Py-Feat's ``Fex.to_csv`` layout with its
unnamed index column, ``frame`` 0-based and empty cells where no face was found.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.errors import AnnotatorError
from annotator.features import features_from_tracks
from annotator.features.aus import CHANNELS
from annotator.features.motion import motion_curves
from annotator.formats import get_format, load_file
from annotator.session import Session
from annotator.tracking.store import load_tracks, verify_tracks

from .fixtures.face_tools import OPENFACE_C, SMILE, write_openface_csv, write_pyfeat_csv
from .fixtures.videos import HEIGHT, WIDTH, make_h264_mp4

FRAMES = 150


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_h264_mp4(tmp_path_factory.mktemp("face_tools"), n=FRAMES).path


@pytest.fixture
def clip(video, tmp_path) -> Path:
    """A fresh copy of the video, so each test starts without a session."""
    target = tmp_path / "clip.mp4"
    target.write_bytes(video.read_bytes())
    return target


def _import(fmt: str, csv: Path, clip: Path, *extra: str) -> int:
    return main(["import", fmt, str(csv), "--video", str(clip), *extra])


def test_openface_csv_becomes_tracks_that_propose_the_smile(clip, tmp_path, capsys):
    csv = write_openface_csv(tmp_path / "of.csv", FRAMES, WIDTH, HEIGHT, no_face=(100, 101), skip=(120,))
    assert ", AU01_r, " in csv.read_text().splitlines()[0]  # OpenFace's own separators
    assert _import("openface-csv", csv, clip) == 0
    assert "147 of 150 frames with a face" in capsys.readouterr().out
    session = Session.open(clip.with_suffix(".annot"))
    tracks = load_tracks(session)
    assert tracks.attrs["schema_version"] == 3 and tracks.face_backend == "openface_2_csv"
    assert verify_tracks(session) == []
    # 1-based frames: row "frame 1" is frame 0; success 0 and a missing row are absent
    assert tracks.face_present[[0, 99, 102, 149]].all()
    assert not tracks.face_present[[100, 101, 120]].any()
    assert np.isnan(tracks.face68_landmarks[120]).all() and np.isfinite(tracks.face68_landmarks[0]).all()
    assert tracks.face68_landmarks.shape == (FRAMES, 68, 2)
    assert tracks.au_names == tuple(f"AU{u}" for u in OPENFACE_C)
    assert tracks.au_source == "openface-2.0"
    au12 = tracks.au_names.index("AU12")
    assert tracks.au_values[70, au12] == pytest.approx((3.5 + 0.1) / 5, abs=0.05)  # 0-5 scaled to 0..1
    assert tracks.au_occurrence[70, au12] == 1 and tracks.au_occurrence[0, au12] == 0
    assert np.isnan(tracks.au_values[:, tracks.au_names.index("AU28")]).all()  # AU28 has only _c
    np.testing.assert_allclose(tracks.time, np.arange(FRAMES) / 30.0, atol=1e-6)  # the video's clock
    # the timeline's data: AU channels from the tool, face motion from its 68 points
    features = features_from_tracks(tracks)
    assert features.source == "external"
    smile = features.values[:, CHANNELS.index("L12")]
    assert smile[70] > 0.6 > 0.1 > smile[10]
    assert smile[70] == features.values[70, CHANNELS.index("R12")]  # one value for both sides
    assert np.isfinite(motion_curves(tracks)["face motion"][5:95]).all()
    assert np.isfinite(features.head_speed[5:95]).all()
    # the workbench's overlay shows the tool's 68 points (no mesh contours to draw)
    from annotator.napari.overlays import FrameOverlays

    shown = FrameOverlays(tracks).frame_data(5)
    np.testing.assert_allclose(shown["points"], tracks.face68_landmarks[5][:, ::-1])
    assert not shown["lines"].any()
    assert main(["propose", str(session.root)]) == 0
    proposals = session.load_labels("auto").segments
    assert [s.emotion for s in proposals] == ["joy"]
    assert abs(proposals[0].onset - SMILE[0]) <= 3 and abs(proposals[0].offset - SMILE[3]) <= 3


def test_openface_timestamps_off_the_video_clock_are_noted(clip, tmp_path, capsys):
    csv = write_openface_csv(tmp_path / "of.csv", FRAMES, WIDTH, HEIGHT, fps=25.0)  # made at another rate
    assert _import("openface-csv", csv, clip) == 0
    out = capsys.readouterr().out
    assert "note: timestamps disagree with the video's clock by up to 993 ms (row 151)" in out
    table = get_format("openface-csv").read_tracks(csv, FRAMES, times=np.arange(FRAMES) / 25.0)
    assert table.notes == []


def test_newer_openface_columns_are_ignored(clip, tmp_path):
    csv = write_openface_csv(tmp_path / "of.csv", FRAMES, WIDTH, HEIGHT, newer=True)
    assert "face_id" in csv.read_text().splitlines()[0]
    table = get_format("openface-csv").read_tracks(csv, FRAMES)
    assert table.present.all() and table.landmarks.shape == (FRAMES, 68, 2)


def test_pyfeat_csv_becomes_tracks(clip, tmp_path, capsys):
    csv = write_pyfeat_csv(tmp_path / "fex.csv", FRAMES, WIDTH, HEIGHT, no_face=(10,), skip=(11,),
                           second_face=(30, 31))
    assert _import("pyfeat-csv", csv, clip) == 0
    out = capsys.readouterr().out
    assert "148 of 150 frames with a face" in out and "2 row(s) of other faces" in out
    session = Session.open(clip.with_suffix(".annot"))
    tracks = load_tracks(session)
    assert tracks.face_backend == "pyfeat_csv" and verify_tracks(session) == []
    assert not tracks.face_present[[10, 11]].any() and tracks.face_present[[0, 12, 30]].all()
    # 0-based frames; the most confident face of frame 30 was kept, not the one 40 px away
    lm = tracks.face68_landmarks
    assert abs(lm[30, :, 0].mean() - lm[29, :, 0].mean()) < 2
    assert tracks.au_names[-1] == "AU43" and len(tracks.au_names) == 20
    assert np.isnan(tracks.au_occurrence).all()  # Py-Feat makes no presence calls
    features = features_from_tracks(tracks)
    assert features.source == "external" and features.au("AU12")[70] > 0.8
    assert main(["propose", str(session.root)]) == 0
    assert [s.emotion for s in session.load_labels("auto").segments] == ["joy"]
    capsys.readouterr()
    assert main(["info", str(session.root)]) == 0
    info = capsys.readouterr().out
    assert "imported from pyfeat-csv file fex.csv: aus/occurrence, aus/values, emotions/values" in info
    assert tracks.frame(70)["face68_landmarks"].shape == (68, 2)


def test_existing_tracks_need_force(clip, tmp_path, capsys):
    csv = write_openface_csv(tmp_path / "of.csv", FRAMES, WIDTH, HEIGHT)
    assert _import("openface-csv", csv, clip) == 0
    store = clip.with_suffix(".annot") / "tracks.zarr"
    before = sorted(p.name for p in store.rglob("*"))
    capsys.readouterr()
    assert _import("openface-csv", csv, clip) == 2
    assert "pass --force" in capsys.readouterr().err
    assert sorted(p.name for p in store.rglob("*")) == before
    assert _import("openface-csv", csv, clip, "--force") == 0
    assert "(replaced)" in capsys.readouterr().out
    assert [p.name for p in store.parent.iterdir() if p.name.endswith(".tmp")] == []  # no temporaries


def test_loading_a_tracks_csv_as_labels_says_how_to_import_it(tmp_path):
    csv = write_openface_csv(tmp_path / "of.csv", 5, WIDTH, HEIGHT)
    with pytest.raises(AnnotatorError, match="per-frame tracks, not labels.*--video VIDEO"):
        load_file(csv)  # sniffed as OpenFace by its header


def _break(csv: Path, line: int, column: str, value: str, sep: str) -> Path:
    rows = csv.read_text().splitlines()
    names = [c.strip() for c in rows[0].split(",")]
    cells = rows[line - 1].split(sep)
    cells[names.index(column)] = value
    rows[line - 1] = sep.join(cells)
    csv.write_text("\n".join(rows) + "\n")
    return csv


@pytest.mark.parametrize("case, expected", [
    ("missing", "row 1 (header): column 'x_17' is missing"),
    ("text", "row 5, column 'AU12_r': 'abc' is not a number"),
    ("past", "row 7, column 'frame': frame 151 is past the end of the video (150 frames, numbered from 1)"),
    ("zero", "row 2, column 'frame': frame 0 is before the video's first frame (1;"),
    ("fraction", "row 3, column 'frame': 2.5 is not a frame number"),
])
def test_bad_openface_input_is_one_line_and_writes_nothing(clip, tmp_path, capsys, case, expected):
    csv = write_openface_csv(tmp_path / "of.csv", FRAMES, WIDTH, HEIGHT)
    if case == "missing":
        rows = [r.split(", ") for r in csv.read_text().splitlines()]
        drop = rows[0].index("x_17")
        csv.write_text("\n".join(", ".join(c for i, c in enumerate(r) if i != drop) for r in rows) + "\n")
    else:
        line, column, value = {"text": (5, "AU12_r", "abc"), "past": (7, "frame", "151"),
                               "zero": (2, "frame", "0"), "fraction": (3, "frame", "2.5")}[case]
        _break(csv, line, column, value, ", ")
    assert _import("openface-csv", csv, clip) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(csv) in err and expected in err
    assert not clip.with_suffix(".annot").exists()  # no session, no store, no temporary


def test_bad_pyfeat_input_names_the_row_and_column(clip, tmp_path, capsys):
    csv = _break(write_pyfeat_csv(tmp_path / "fex.csv", FRAMES, WIDTH, HEIGHT), 4, "AU06", "1.7", ",")
    assert _import("pyfeat-csv", csv, clip) == 2
    assert "row 4, column 'AU06': 1.7 is outside 0..1" in capsys.readouterr().err
    csv = _break(write_pyfeat_csv(tmp_path / "fex2.csv", FRAMES, WIDTH, HEIGHT), 9, "Yaw", "left", ",")
    assert _import("pyfeat-csv", csv, clip) == 2
    assert "row 9, column 'Yaw': 'left' is not a number" in capsys.readouterr().err
    assert not clip.with_suffix(".annot").exists()


def test_a_version_2_store_still_reads_and_verifies(tmp_path):
    """Stores made before the optional arrays (schema 2) keep reading: no face68, no external AUs."""
    import zarr

    csv = write_openface_csv(tmp_path / "of.csv", 40, WIDTH, HEIGHT)
    clip = make_h264_mp4(tmp_path, n=40).path
    assert _import("openface-csv", csv, clip) == 0
    store = clip.with_suffix(".annot") / "tracks.zarr"
    group = zarr.open_group(str(store), mode="r+")
    # what a version-2 writer made: no optional arrays, no attribute for them
    for key in ("face68", "aus"):
        del group[key]
    names = [n for n in group["block_checksums"].attrs["arrays"] if not n.startswith(("face68", "aus"))]
    sums = np.asarray(group["block_checksums"][:])[:, :len(names)]
    del group["block_checksums"]
    group.create_array("block_checksums", shape=sums.shape, dtype="uint8", chunks=(1, *sums.shape[1:]),
                       attributes={"arrays": names})[:] = sums
    attrs = dict(group.attrs)
    del attrs["extra_arrays"]
    group.attrs.clear()
    group.attrs.update({**attrs, "schema_version": 2})
    tracks = load_tracks(store)
    assert tracks.face68_landmarks is None and tracks.au_values is None and tracks.au_names == ()
    assert verify_tracks(store) == []
    assert tracks.frame(3)["face68_landmarks"] is None


def test_frames_csv_is_a_write_only_format_of_the_formats_layer(clip, tmp_path, capsys):
    import pandas as pd

    from annotator.formats import available_formats, save_file

    assert _import("openface-csv", write_openface_csv(tmp_path / "of.csv", FRAMES, WIDTH, HEIGHT), clip) == 0
    capsys.readouterr()
    assert main(["formats"]) == 0
    assert "frames-csv  (write, .csv)" in capsys.readouterr().out
    assert available_formats()["frames-csv"].can_read is False
    root = clip.with_suffix(".annot")
    out = tmp_path / "frames.csv"
    assert main(["export", "frames-csv", str(root), "-o", str(out)]) == 0
    assert f"{out}: {FRAMES} frames" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert len(table) == FRAMES and list(table.columns[:3]) == ["frame", "time", "face_present"]
    assert table["AU12"][70] > 0.6 > table["AU12"][10]  # the imported smile, per frame
    assert table["joy"][70] > table["joy"][10]
    again = tmp_path / "again.csv"
    assert save_file(Session.open(root), again, format="frames-csv") == []
    assert again.read_text() == out.read_text()
    # refused in one line, nothing written: importing it, labels, a session without tracks
    assert main(["import", "frames-csv", str(out), "--into", str(root)]) == 2
    assert "can only be written" in capsys.readouterr().err
    with pytest.raises(AnnotatorError, match="tracks, not labels"):
        get_format("frames-csv").write([], tmp_path / "labels.csv")
    bare = tmp_path / "bare.mp4"
    bare.write_bytes(clip.read_bytes())
    Session.create(bare)
    assert main(["export", "frames-csv", str(bare.with_suffix(".annot")), "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no tracks yet" in err and not (tmp_path / "x.csv").exists()


def test_verify_checks_the_optional_arrays(tmp_path):
    import zarr

    clip = make_h264_mp4(tmp_path, n=40).path
    assert _import("openface-csv", write_openface_csv(tmp_path / "of.csv", 40, WIDTH, HEIGHT), clip) == 0
    store = clip.with_suffix(".annot") / "tracks.zarr"
    assert "aus/values" in zarr.open_group(str(store), mode="r")["block_checksums"].attrs["arrays"]
    group = zarr.open_group(str(store), mode="r+")
    group["aus/values"][3, 0] = 0.99  # rewritten behind the checksums' back
    lines = verify_tracks(store)
    assert len(lines) == 1 and "block 0 (frames 0-39) damaged: aus/values differs from its checksum" in lines[0]
    with pytest.raises(AnnotatorError, match="aus/values differs from its checksum"):
        _ = load_tracks(store).au_values
    (store / "face68" / "landmarks" / "c" / "0" / "0" / "0").unlink()
    assert any("face68/landmarks chunk missing" in line for line in verify_tracks(store))
