"""A dataset folder as the SOURCE of ``annotator train`` and ``annotator quiz``: checked, consented, the same results.

The browser runs of a quiz built from a dataset are in tests/test_quiz.py (parametrised
over the kind of source); these need no browser.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from annotator.cli import main
from tests.fixtures.project import make_project

ALL = ("dataset", "train", "quiz")


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def study(sample_session, tmp_path_factory):
    """A project of four subjects who consented to everything, and a LOSO dataset of it (pad 8 frames)."""
    root = tmp_path_factory.mktemp("study")
    project = make_project(root, sample_session, consent=ALL)
    out = root / "dataset"
    assert main(["dataset", str(project.root), "-o", str(out), "--pad", "8", "--coder", "alice", "-q"]) == 0
    return project, out


def test_the_manifest_carries_each_subjects_consent_and_every_session_s_features(study):
    import pandas as pd

    project, out = study
    m = pd.read_parquet(out / "manifest.parquet")
    assert set(m["consent"]) == {"dataset train quiz"}
    settings = json.loads((out / "dataset.json").read_text())
    assert set(settings["sessions"]) == {e.id for e in project.sessions}
    for info in settings["sessions"].values():
        df = pd.read_parquet(out / info["features"])
        assert len(df) == info["n_frames"] > 0 and {"yaw", "pitch", "roll", "present"} <= set(df.columns)
    listed = (out / "SHA256SUMS").read_text()
    assert all(info["features"] in listed for info in settings["sessions"].values())


def test_train_on_a_dataset_scores_as_training_on_its_project(study, tmp_path, capsys):
    from annotator.spotting.propose import model_file_info

    project, out = study
    code, said_project, err = _run(capsys, "train", str(project.root), "-o", str(tmp_path / "p.skops"),
                                   "--coder", "alice")
    assert code == 0, err
    code, said_dataset, err = _run(capsys, "train", str(out), "-o", str(tmp_path / "d.skops"))
    assert code == 0, err
    a, b = model_file_info(tmp_path / "p.skops"), model_file_info(tmp_path / "d.skops")
    assert a["scores"] == b["scores"], (a["scores"], b["scores"])
    assert a["scores"]["emotion_7"]["n"] == 18 and a["scores"]["spotting_f1_calibrated"] is not None
    assert a["subjects"] == b["subjects"] == ["s1", "s2", "s3", "s4"]
    assert a["examples"] == b["examples"] and a["labels"] == b["labels"]
    assert a["spotter_calibration"] == b["spotter_calibration"]
    assert b["dataset"]["samples"] == 18 and b["dataset"]["split"] == "loso"
    assert said_project.splitlines()[1] == said_dataset.splitlines()[1]  # the LOSO line, figure for figure


def _copy(out: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(out, dst)
    return dst


@pytest.mark.parametrize("damage", ["tampered clip", "missing tracks file", "tampered session features",
                                    "tampered manifest"])
@pytest.mark.parametrize("command", ["train", "quiz"])
def test_a_changed_or_missing_file_is_one_line_and_nothing_is_written(study, tmp_path, capsys, damage, command):
    _, out = study
    ds = _copy(out, tmp_path)
    if damage == "tampered clip":
        victim = ds / "samples" / "00003" / "clip.mp4"
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    elif damage == "missing tracks file":
        victim = next(p for p in sorted((ds / "samples" / "00001" / "tracks.zarr").rglob("*")) if p.is_file())
        victim.unlink()
    elif damage == "tampered session features":
        settings = json.loads((ds / "dataset.json").read_text())
        victim = ds / next(iter(settings["sessions"].values()))["features"]
        victim.write_bytes(victim.read_bytes() + b"\0")
    else:
        victim = ds / "manifest.parquet"
        import pandas as pd

        m = pd.read_parquet(victim)
        m.loc[0, "emotion"] = "fear"
        m.to_parquet(victim, index=False)
    target = tmp_path / ("m.skops" if command == "train" else "quiz")
    code, _, err = _run(capsys, command, str(ds), "-o", str(target))
    assert code == 2 and err.count("\n") == 1, err
    assert victim.name in err or str(victim.relative_to(ds).parts[0]) in err, err
    assert ("missing" if damage.startswith("missing") else "sha256") in err
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["copy"]


def _answer_key(root: Path) -> list[dict]:
    with open(root / "items" / "answer_key.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_quiz_from_a_dataset_keeps_to_consent_and_cuts_from_its_clips(sample_session, tmp_path, capsys):
    import pandas as pd

    project = make_project(tmp_path, sample_session, subjects=("q1", "q2", "n1"), consent=("dataset", "quiz"))
    assert main(["project", "set", str(project.root), "--subject", "n1", "--consent", "dataset"]) == 0
    ds = tmp_path / "ds"
    assert main(["dataset", str(project.root), "-o", str(ds), "--pad", "10", "-q"]) == 0
    capsys.readouterr()
    m = pd.read_parquet(ds / "manifest.parquet")
    assert set(m.loc[m["subject"] == "n1", "consent"]) == {"dataset"}
    quiz = tmp_path / "quiz"
    code, said, err = _run(capsys, "quiz", str(ds), "-o", str(quiz), "--items", "8", "--stage", "flash",
                           "--mode", "practice", "--seed", "4")
    assert code == 0, err
    n1 = int((m["subject"] == "n1").sum())
    assert f"skipped 1 subject(s) without quiz consent ({n1} sample(s))" in said
    key = _answer_key(quiz)
    assert len(key) == 8 and {r["subject"] for r in key} <= {"q1", "q2"}
    for r in key:
        row = m[(m["session"] == r["session"]) & (m["segment_id"] == r["segment"])].iloc[0]
        assert (int(r["onset"]), int(r["apex"]), int(r["offset"])) == (row["onset"], row["apex"], row["offset"])
        # the neutral frame is the same person's, before the onset, inside the clip's pad
        assert row["start_frame"] <= int(r["neutral_frame"]) < row["onset"]
    # stills show the apex frame: the dataset clip's apex, as the session's own apex frame
    stills = tmp_path / "stills"
    assert main(["quiz", str(ds), "-o", str(stills), "--items", "9", "--stage", "stills", "--seed", "4"]) == 0
    same = tmp_path / "same"
    assert main(["quiz", str(project.root), "-o", str(same), "--items", "9", "--stage", "stills", "--seed", "4"]) == 0
    capsys.readouterr()
    _same_apex_pictures(stills, same)
    # nobody left with quiz consent: refused in one line, nothing written
    for s in ("q1", "q2"):
        assert main(["project", "set", str(project.root), "--subject", s, "--consent", "dataset"]) == 0
    assert main(["dataset", str(project.root), "-o", str(ds), "--force", "-q"]) == 0
    capsys.readouterr()
    code, _, err = _run(capsys, "quiz", str(ds), "-o", str(tmp_path / "none"))
    assert code == 2 and "no subject has quiz consent" in err and err.count("\n") == 1
    assert not (tmp_path / "none").exists()


def _same_apex_pictures(a: Path, b: Path) -> None:
    """Items of the same segment in two quizzes show (nearly) the same apex picture."""
    import numpy as np
    from PIL import Image

    ka = {r["segment"]: r for r in _answer_key(a)}
    kb = {r["segment"]: r for r in _answer_key(b)}
    assert set(ka) == set(kb) and len(ka) == 9  # every segment of q1 and q2, once
    pairs = [(ka[k], kb[k]) for k in ka]
    for ra, rb in pairs:
        assert ra["apex"] == rb["apex"]
        pa = np.asarray(Image.open(a / "media" / f"item-{int(ra['item']):03d}-apex.jpg"), float)
        pb = np.asarray(Image.open(b / "media" / f"item-{int(rb['item']):03d}-apex.jpg"), float)
        assert pa.shape == pb.shape
        # a clip's H.264 round trip, not another frame (another frame differs by far more)
        assert np.abs(pa - pb).mean() < 6, np.abs(pa - pb).mean()


def test_a_face_cropped_dataset_gives_face_items_and_refuses_face_and_body(study, tmp_path, capsys):
    from PIL import Image

    project, _ = study
    ds = tmp_path / "cropped"
    assert main(["dataset", str(project.root), "-o", str(ds), "--crop", "face", "--size", "96", "--pad", "6",
                 "-q"]) == 0
    quiz = tmp_path / "quiz"
    code, _, err = _run(capsys, "quiz", str(ds), "-o", str(quiz), "--items", "4", "--stage", "stills")
    assert code == 0, err
    apex = sorted((quiz / "media").glob("item-*-apex.jpg"))
    assert len(apex) == 4 and all(Image.open(p).size == (256, 256) for p in apex)
    code, _, err = _run(capsys, "quiz", str(ds), "-o", str(tmp_path / "body"), "--view", "face+body",
                        "--stage", "stills", "--items", "2")
    assert code == 2 and err.count("\n") == 1 and "cropped to the face" in err
    assert not (tmp_path / "body").exists()


def test_a_dataset_that_records_no_consent_is_refused(study, tmp_path, capsys):
    """A dataset made before the consent column (its checksums rewritten to match) grants nothing."""
    import pandas as pd

    from annotator.io import sha256_file

    _, out = study
    ds = _copy(out, tmp_path)
    m = pd.read_parquet(ds / "manifest.parquet").drop(columns=["consent"])
    m.to_parquet(ds / "manifest.parquet", index=False)
    listing = [f"{sha256_file(p)}  {p.relative_to(ds).as_posix()}\n"
               for p in sorted(ds.rglob("*"), key=lambda p: p.relative_to(ds).as_posix())
               if p.is_file() and p.name != "SHA256SUMS"]
    (ds / "SHA256SUMS").write_text("".join(listing))
    for command, target in (("train", tmp_path / "m.skops"), ("quiz", tmp_path / "q")):
        code, _, err = _run(capsys, command, str(ds), "-o", str(target))
        assert code == 2 and err.count("\n") == 1 and "records no consent" in err, err
        assert not target.exists()


def test_a_listed_file_that_is_a_symlink_is_refused(study, tmp_path, capsys):
    _, out = study
    ds = _copy(out, tmp_path)
    clip = ds / "samples" / "00002" / "clip.mp4"
    real = tmp_path / "elsewhere.mp4"
    clip.rename(real)
    clip.symlink_to(real)  # same bytes, same sha256: but not the dataset's own file
    code, _, err = _run(capsys, "train", str(ds), "-o", str(tmp_path / "m.skops"))
    assert code == 2 and err.count("\n") == 1 and "symbolic link" in err and "00002" in err
