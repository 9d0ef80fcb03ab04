"""Proposals on real tracks: quality on the sample, robustness, the propose/export commands."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from annotator.cli import main
from annotator.features.aus import CHANNELS, compute_au_features
from annotator.labels import load_labels, make_segment
from annotator.session import Session
from annotator.spotting.metrics import evaluate
from annotator.features import features_from_tracks
from annotator.spotting.propose import propose
from annotator.spotting.spotter import Spotter
from annotator.tracking.store import load_tracks
from tests.fixtures.sample import SAMPLE_TRUTH

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def proposed(sample_session, tmp_path_factory):
    """A private copy of the tracked sample with proposals."""
    root = tmp_path_factory.mktemp("spot") / sample_session.root.name
    shutil.copytree(sample_session.root, root)
    shutil.copyfile(sample_session.video_path, root.parent / sample_session.video_path.name)
    session = Session.open(root)
    return session, propose(session)


def test_sample_quality(proposed):
    session, labels = proposed
    truth = load_labels(SAMPLE_TRUTH)
    report = evaluate({"v": truth.segments}, {"v": labels.segments})
    scores = report["all"]
    assert scores.f1 >= 0.9, report["all"].to_dict()
    assert scores.emotion_accuracy >= 0.8, [(s.onset, s.offset, s.emotion) for s in labels.segments]
    for seg in labels.segments:
        assert seg.status == "proposed" and seg.source.startswith("annotator-spotter/")
        assert abs(sum(seg.emotion_scores.values()) - 1) < 1e-3
        assert 0 <= seg.confidence <= 1


def test_propose_replaces_auto_and_never_touches_coders(proposed, capsys):
    session, labels = proposed
    coder = session.new_labels("alice")
    coder.segments.append(make_segment(coder, 1, 2, 3, emotion="fear"))
    session.save_labels(coder)
    before = session.labels_path("alice").read_bytes()
    (session.labels_path("auto")).write_text("stale garbage")
    assert main(["propose", str(session.root)]) == 0
    assert session.labels_path("alice").read_bytes() == before
    again = load_labels(session.labels_path("auto"))
    assert [(s.onset, s.apex, s.offset) for s in again.segments] == [
        (s.onset, s.apex, s.offset) for s in labels.sorted()
    ]
    assert "proposals" in capsys.readouterr().out


def test_export_casme_csv(proposed, tmp_path):
    session, labels = proposed
    out = tmp_path / "out.csv"
    assert main(["export", "casme-csv", str(session.root), "--proposals", "-o", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns[:7]) == ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame",
                                       "Action Units", "Estimated Emotion"]
    assert list(table.columns[7:]) == ["Kind", "Confidence", "Status", "Coder"]
    auto = table[table.Coder == "auto"]
    assert len(auto) == len(labels.segments)
    assert sorted(auto.OnsetFrame) == sorted(s.onset for s in labels.segments)
    # the export reads back into the metric: perfect agreement with itself
    assert main(["evaluate", str(out), str(out), "--truth-coder", "auto", "--pred-coder", "auto"]) == 0


def test_face_disappearing_mid_event(sample_session):
    tracks = load_tracks(sample_session)
    truth = load_labels(SAMPLE_TRUTH).sorted()
    event = truth[len(truth) // 2]
    present = tracks.face_present.copy()
    landmarks = tracks.face_landmarks.copy()
    blend = tracks.face_blendshapes.copy()
    gone = slice(event.apex - 2, event.offset + 6)
    present[gone] = False
    landmarks[gone] = np.nan
    blend[gone] = np.nan
    feats = compute_au_features(present=present, landmarks=landmarks, time=tracks.time, fps=tracks.fps,
                                blendshapes=blend, blendshape_names=tracks.blendshape_names,
                                matrix=tracks.face_matrix)
    segments = Spotter().spot(feats)
    for seg in segments:
        # no proposal is built on frames without a face
        assert present[seg.onset : seg.offset + 1].all(), (seg.onset, seg.offset)
    # the other events are still found
    others = [t for t in truth if t.id != event.id]
    hits = evaluate({"v": others}, {"v": segments})["all"].hits
    assert hits >= len(others) - 1


def test_still_face_gives_no_proposals(sample_session):
    tracks = load_tracks(sample_session)
    truth = load_labels(SAMPLE_TRUTH).sorted()
    # frames before the first event are neutral: repeat them as a long, still clip
    calm = np.arange(0, max(5, truth[0].onset - 5))
    idx = np.resize(calm, 600)
    feats = compute_au_features(
        present=tracks.face_present[idx], landmarks=tracks.face_landmarks[idx],
        time=np.arange(600) / tracks.fps, fps=tracks.fps,
        blendshapes=tracks.face_blendshapes[idx], blendshape_names=tracks.blendshape_names,
        matrix=tracks.face_matrix[idx],
    )
    assert Spotter().spot(feats) == []


def test_geometry_backend_finds_events(sample_session):
    """Without blendshapes (legacy Face Mesh), landmark geometry still spots the events."""
    tracks = load_tracks(sample_session)
    truth = load_labels(SAMPLE_TRUTH)
    feats = compute_au_features(present=tracks.face_present, landmarks=tracks.face_landmarks,
                                time=tracks.time, fps=tracks.fps)
    assert feats.source == "geometry" and feats.values.shape[1] == len(CHANNELS)
    report = evaluate({"v": truth.segments}, {"v": Spotter().spot(feats)})["all"]
    assert report.recall >= 0.6, report.to_dict()


def test_features_from_tracks_shape(sample_session):
    feats = features_from_tracks(load_tracks(sample_session))
    assert feats.source == "blendshapes"
    assert feats.values.shape == (sample_session.n_frames, len(CHANNELS))
    assert feats.to_frame().shape[0] == sample_session.n_frames


def _calm_hour(sample_session, frames=900):
    """A still stretch of the sample, repeated, as editable arrays."""
    tracks = load_tracks(sample_session)
    truth = load_labels(SAMPLE_TRUTH).sorted()
    idx = np.resize(np.arange(0, max(5, truth[0].onset - 5)), frames)
    return dict(
        present=tracks.face_present[idx].copy(), landmarks=tracks.face_landmarks[idx].copy(),
        time=np.arange(frames) / tracks.fps, fps=tracks.fps,
        blendshapes=tracks.face_blendshapes[idx].copy(), blendshape_names=tracks.blendshape_names,
        matrix=tracks.face_matrix[idx].copy(),
    )


def _bump(n, start, length):
    w = np.zeros(n)
    w[start : start + length] = np.sin(np.linspace(0, np.pi, length))
    return w


def _add_blendshapes(data, amounts, weight) -> None:
    """Raise the named blendshapes by ``amount * weight`` (a curve over frames), clipped to [0, 1]."""
    names = list(data["blendshape_names"])
    b = data["blendshapes"]
    for name, amount in amounts:
        col = names.index(name)
        b[:, col] = np.clip(b[:, col] + amount * weight, 0, 1)


def test_blinks_are_not_expressions(sample_session):
    data = _calm_hour(sample_session)
    for start in (100, 300, 520, 700):
        _add_blendshapes(data, (("eyeBlinkLeft", 0.8), ("eyeBlinkRight", 0.8), ("eyeSquintLeft", 0.3),
                                ("eyeSquintRight", 0.3), ("cheekSquintLeft", 0.1), ("browDownLeft", 0.1)),
                         _bump(len(data["blendshapes"]), start, 6))
    assert Spotter().spot(compute_au_features(**data)) == []


def test_talking_is_not_an_expression(sample_session):
    data = _calm_hour(sample_session)
    t = data["time"]
    talk = (t > 5) & (t < 20)
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) * talk  # about 4 syllables a second
    _add_blendshapes(data, (("jawOpen", 0.35), ("mouthLowerDownLeft", 0.2), ("mouthLowerDownRight", 0.2),
                            ("mouthPucker", 0.15)), syllables)
    assert Spotter().spot(compute_au_features(**data)) == []


def test_head_turn_is_not_an_expression(sample_session):
    data = _calm_hour(sample_session)
    m = data["matrix"]
    b = data["blendshapes"]
    fps = data["fps"]
    start, length = 400, int(0.6 * fps)
    angles = np.zeros(len(m))
    angles[start : start + length] = np.radians(35) * np.sin(np.linspace(0, np.pi, length))
    for i in np.flatnonzero(angles):
        c, s = np.cos(angles[i]), np.sin(angles[i])
        m[i, :3, :3] = m[i, :3, :3] @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float32)
    # the blendshape model reads a turned face a little differently everywhere
    w = np.zeros(len(b))
    w[start : start + length] = np.abs(np.sin(np.linspace(0, np.pi, length)))
    _add_blendshapes(data, [(name, 0.12) for name in
                            ("eyeLookOutLeft", "browDownLeft", "mouthLeft", "eyeSquintLeft", "mouthSmileRight")], w)
    assert Spotter().spot(compute_au_features(**data)) == []


def test_propose_with_an_emotion_model(proposed, tmp_path, capsys):
    """--model: a skops-saved scikit-learn classifier replaces the prototype guess."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    session, labels = proposed
    rng = np.random.default_rng(0)
    X = rng.normal(size=(70, len(CHANNELS)))
    y = np.repeat(["joy", "fear"], 35)
    X[y == "fear", CHANNELS.index("L20")] += 50  # fear: lips stretched, nowhere in this clip
    model = tmp_path / "emotion.skops"
    sio.dump(LogisticRegression(max_iter=500).fit(X, y), model)
    assert main(["propose", str(session.root), "--model", str(model)]) == 0
    with_model = load_labels(session.labels_path("auto"))
    assert len(with_model.segments) == len(labels.segments)
    for seg in with_model.segments:
        assert set(seg.emotion_scores) == {"fear", "joy"}
        assert seg.emotion == max(seg.emotion_scores, key=seg.emotion_scores.get)
        assert seg.source.endswith("+emotion.skops")
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a model")
    capsys.readouterr()
    assert main(["propose", str(session.root), "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.skops" in err
    assert main(["propose", str(session.root)]) == 0  # back to the prototypes for later tests
