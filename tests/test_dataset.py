"""``annotator dataset``: splits, the files and their checksums, and the inputs it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from tests.fixtures.project import make_project


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


# -- splits ------------------------------------------------------------------------------
def _samples(rng, n_subjects: int, n: int):
    emotions = ["joy", "surprise", "sadness", "anger", "fear", "contempt", "disgust"]
    subjects = [f"s{rng.integers(n_subjects):02d}" for _ in range(n)]
    # each subject leans to some emotions, as real subjects do
    return subjects, [emotions[(int(s[1:]) + rng.integers(3)) % 7] for s in subjects]


@pytest.mark.parametrize("method", ["loso", "kfold", "holdout"])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_splits_never_put_a_subject_on_two_sides_and_repeat_for_a_seed(method, seed):
    from annotator.dataset import assign_splits

    rng = np.random.default_rng(seed)
    subjects, emotions = _samples(rng, 9, 300)
    split = assign_splits(subjects, emotions, method, folds=4, test_size=0.25, seed=seed)
    assert (split.fold >= 0).all()
    for subject in set(subjects):
        mine = {int(f) for f, s in zip(split.fold, subjects, strict=True) if s == subject}
        assert len(mine) == 1, f"{subject} is in folds {mine}"
    for k in set(split.fold.tolist()):  # and so every fold's test subjects are absent from its training side
        test = {s for s, f in zip(subjects, split.fold, strict=True) if f == k}
        train = {s for s, f in zip(subjects, split.fold, strict=True) if f != k}
        assert test and train and not test & train
    again = assign_splits(subjects, emotions, method, folds=4, test_size=0.25, seed=seed)
    assert (again.fold == split.fold).all() and (again.split == split.split).all()
    if method == "loso":
        assert split.n_folds == len(set(subjects))
        assert [split.fold[subjects.index(s)] for s in sorted(set(subjects))] == list(range(split.n_folds))
    if method == "kfold":
        assert set(split.fold.tolist()) == {0, 1, 2, 3}
    if method == "holdout":
        assert set(split.split.tolist()) == {"train", "test"}
        share = float(np.mean(split.split == "test"))
        assert 0.1 < share < 0.45, share  # whole subjects: near 0.25, not exactly


def test_the_seed_chooses_among_equally_good_splits():
    """StratifiedGroupKFold places subjects greedily, most uneven first; the seed orders the ties."""
    from annotator.dataset import assign_splits

    subjects = [f"s{i}" for i in range(12) for _ in range(2)]
    emotions = ["joy", "fear"] * 12  # every subject alike: every split is as stratified as any other
    folds = {tuple(assign_splits(subjects, emotions, "kfold", folds=3, seed=s).fold) for s in range(6)}
    assert len(folds) > 1
    tests = {tuple(assign_splits(subjects, emotions, "holdout", seed=s).split) for s in range(6)}
    assert len(tests) > 1


def test_kfold_stratifies_better_than_the_subjects_alone_would():
    """StratifiedGroupKFold: each fold's emotion mix stays near the whole's, where subjects allow."""
    from annotator.dataset import assign_splits

    rng = np.random.default_rng(5)
    subjects, emotions = _samples(rng, 20, 600)
    split = assign_splits(subjects, emotions, "kfold", folds=4, seed=0)
    labels = sorted(set(emotions))
    whole = np.array([emotions.count(e) for e in labels]) / len(emotions)
    for k in range(4):
        part = [e for e, f in zip(emotions, split.fold, strict=True) if f == k]
        mix = np.array([part.count(e) for e in labels]) / len(part)
        assert np.abs(mix - whole).max() < 0.12, (k, mix.round(2), whole.round(2))


@pytest.mark.parametrize(
    "subjects, method, options, words",
    [
        (["a", "a", "a"], "loso", {}, "at least two subjects; these come from one (a)"),
        (["a", "a", "a"], "holdout", {}, "at least two subjects"),
        (["a", "b", "c"], "kfold", {"folds": 4}, "--folds 4 is more than the 3 subjects"),
        (["a", "b", "c"], "holdout", {"test_size": 1.5}, "--test-size must be between 0 and 1"),
    ],
)
def test_splits_refuse_what_subjects_cannot_give(subjects, method, options, words):
    from annotator.dataset import assign_splits
    from annotator.errors import AnnotatorError

    with pytest.raises(AnnotatorError, match=words.replace("(", r"\(").replace(")", r"\)")):
        assign_splits(subjects, ["joy"] * len(subjects), method, **options)


# -- the dataset, end to end ---------------------------------------------------------------
@pytest.fixture(scope="module")
def project(sample_session, tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("study"), sample_session)


@pytest.fixture(scope="module")
def kfold_dataset(project, tmp_path_factory):
    out = tmp_path_factory.mktemp("datasets") / "kfold"
    code = main(["dataset", str(project.root), "-o", str(out), "--split", "kfold", "--folds", "2",
                 "--crop", "face", "--size", "96", "--pad", "3", "-q"])
    assert code == 0
    return out


def test_the_manifest_names_every_file_by_its_checksum(kfold_dataset):
    import pandas as pd

    from annotator.dataset import MANIFEST_COLUMNS, tree_sha256
    from annotator.io import sha256_file

    manifest = pd.read_parquet(kfold_dataset / "manifest.parquet")
    assert tuple(manifest.columns) == MANIFEST_COLUMNS
    csv = pd.read_csv(kfold_dataset / "manifest.csv", keep_default_na=False, dtype={"sample_id": str})
    assert list(csv["sample_id"]) == list(manifest["sample_id"])
    assert list(csv["clip_sha256"]) == list(manifest["clip_sha256"])
    for row in manifest.itertuples():
        assert sha256_file(kfold_dataset / row.clip) == row.clip_sha256
        assert tree_sha256(kfold_dataset / row.tracks) == row.tracks_sha256
        assert sha256_file(kfold_dataset / row.features) == row.features_sha256
    listed = {}
    for line in (kfold_dataset / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = {p.relative_to(kfold_dataset).as_posix() for p in kfold_dataset.rglob("*") if p.is_file()}
    assert set(listed) == files - {"SHA256SUMS"}
    assert all(sha256_file(kfold_dataset / name) == digest for name, digest in listed.items())


def test_samples_hold_the_clip_the_tracks_and_the_features(kfold_dataset, project):
    import av
    import pandas as pd
    import zarr

    from annotator.tracking.store import load_tracks

    manifest = pd.read_parquet(kfold_dataset / "manifest.parquet")
    # 4 subjects, 5 and 4 segments each (see tests/fixtures/project.py)
    assert len(manifest) == 18 and manifest["subject"].nunique() == 4
    assert set(manifest.groupby("subject")["fold"].nunique()) == {1}, "a subject on two sides"
    assert set(manifest["fold"]) == {0, 1}
    row = manifest.iloc[0]
    assert row.start_frame == row.onset - 3 and row.end_frame == row.offset + 3
    assert (row.clip_onset, row.clip_offset) == (3, 3 + row.offset - row.onset)
    assert row.source_sha256 == project.sessions[0].open().sha256
    with av.open(str(kfold_dataset / row["clip"])) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert container.streams.video[0].codec_context.name == "h264"
    assert len(frames) == row.n_frames and frames[0].shape == (96, 96, 3)
    group = zarr.open_group(str(kfold_dataset / row.tracks), mode="r")
    source = load_tracks(project.sessions[0].open())
    np.testing.assert_array_equal(group["face/landmarks"][:], source.face_landmarks[row.start_frame: row.end_frame + 1])
    assert group.attrs["start_frame"] == row.start_frame and group["time"].shape == (row.n_frames,)
    features = pd.read_parquet(kfold_dataset / row.features)
    assert len(features) == row.n_frames and features.index[0] == row.start_frame
    assert {"present", "head_speed"} <= set(features.columns)
    # the face fills the crop: a skin-coloured centre, not the background
    centre = frames[len(frames) // 2][40:56, 40:56].reshape(-1, 3).mean(axis=0)
    assert centre[0] > centre[2] + 20, centre


def test_the_card_counts_and_plots(kfold_dataset):
    card = (kfold_dataset / "card.md").read_text()
    assert "18 samples" in card and "No samples of: fear, contempt." in card
    assert "| joy |" in card and "| s1 |" in card and "## Samples per kind" in card
    assert (kfold_dataset / "class_balance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    settings = json.loads((kfold_dataset / "dataset.json").read_text())
    assert settings["split"] == "kfold" and settings["samples"] == 18
    assert "no samples of fear, contempt" in settings["notes"]
    assert _leftovers(kfold_dataset.parent) == []


def test_frame_folders_with_loso_and_the_same_seed_again(project, kfold_dataset, tmp_path, capsys):
    import pandas as pd

    import annotator

    out = tmp_path / "loso"
    code, stdout, err = _run(capsys, "dataset", project.root, "-o", out, "--format", "frames", "-q")
    assert code == 0, err
    assert "note: no samples of fear, contempt" in stdout
    manifest = pd.read_parquet(out / "manifest.parquet")
    assert sorted(set(manifest["split"])) == ["fold0", "fold1", "fold2", "fold3"]
    row = manifest.iloc[-1]
    folder = out / row["clip"]
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == row.n_frames and f"img{row.start_frame + 1}.jpg" in names
    with annotator.open_video(folder, fps=30) as clip:  # the frame folder reads back as a clip
        assert len(clip) == row.n_frames and clip.first_number == row.start_frame + 1
    # the same settings and seed give the same folds; --force replaces only when done
    again = tmp_path / "again"
    assert main(["dataset", str(project.root), "-o", str(again), "--split", "kfold", "--folds", "2", "-q"]) == 0
    first = pd.read_parquet(kfold_dataset / "manifest.parquet")
    second = pd.read_parquet(again / "manifest.parquet")
    assert list(first["fold"]) == list(second["fold"]) and list(first["subject"]) == list(second["subject"])
    code, _, err = _run(capsys, "dataset", project.root, "-o", again, "-q")
    assert code == 2 and "already exists; pass --force" in err
    assert main(["dataset", str(project.root), "-o", str(again), "-q", "--force"]) == 0
    assert set(pd.read_parquet(again / "manifest.parquet")["split"]) == {"fold0", "fold1", "fold2", "fold3"}
    assert _leftovers(tmp_path) == []


# -- bad input: one line, exit 2, nothing written -----------------------------------------------
def _refused(capsys, tmp_path, project_dir, *extra, words):
    out = tmp_path / "out"
    code, stdout, err = _run(capsys, "dataset", project_dir, "-o", out, "-q", *extra)
    assert code == 2, (stdout, err)
    assert err.startswith("annotator: error: ") and err.count("\n") == 1 and words in err, err
    assert not out.exists() and _leftovers(tmp_path) == []
    return err


def test_loso_with_one_subject(sample_session, tmp_path, capsys):
    study = make_project(tmp_path / "one", sample_session, subjects=("only",))
    _refused(capsys, tmp_path, study.root, "--split", "loso", words="at least two subjects; these come from one (only)")


def test_nothing_left_when_no_emotion_has_samples(project, tmp_path, capsys):
    _refused(capsys, tmp_path, project.root, "--emotions", "fear,contempt",
             words="no labelled segments to make samples of")


def test_a_segment_past_the_end_of_its_video(sample_session, tmp_path, capsys):
    study = make_project(tmp_path / "p", sample_session, subjects=("a", "b"))
    path = study.sessions[1].session / "labels" / "alice.json"
    data = json.loads(path.read_text())
    data["segments"][-1]["offset"] = 340  # the video has 300 frames
    path.write_text(json.dumps(data))
    err = _refused(capsys, tmp_path, study.root, words="past the video's 300 frames")
    assert str(path) in err


def test_a_session_whose_tracks_are_incomplete(sample_session, tmp_path, capsys):
    import zarr

    study = make_project(tmp_path / "p", sample_session, subjects=("a", "b"))
    store = study.sessions[0].session / "tracks.zarr"
    zarr.open_group(str(store), mode="r+").attrs["complete"] = False
    err = _refused(capsys, tmp_path, study.root, words="tracking did not finish")
    assert str(store) in err


def test_an_interrupted_build_leaves_nothing(project, tmp_path):
    from annotator.dataset import build_dataset

    def stop(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_dataset(project, tmp_path / "out", split="kfold", folds=2, on_sample=stop)
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_two_coders_are_merged_into_their_consensus(sample_session, tmp_path, capsys):
    import pandas as pd

    study = make_project(tmp_path / "p", sample_session, subjects=("a", "b"), coders=("alice", "bob"))
    code, _, err = _run(capsys, "dataset", study.root, "-o", tmp_path / "both", "--split", "holdout", "-q")
    assert code == 0, err
    merged = pd.read_parquet(tmp_path / "both" / "manifest.parquet")
    assert set(merged["coders"]) == {"alice+bob"} and len(merged) == 9
    # bob marked every segment a frame later; the consensus takes the median, rounded up
    assert sorted(set(merged["onset"])) == [37, 85, 131, 181, 231]
    code, _, err = _run(capsys, "dataset", study.root, "-o", tmp_path / "bob", "--coder", "bob", "-q")
    assert code == 0, err
    assert set(pd.read_parquet(tmp_path / "bob" / "manifest.parquet")["coders"]) == {"bob"}
