"""``annotator train``: the train → propose round trip, LOSO folds, the report, refused models, retraining.

The sessions are the tracked sample (real MediaPipe tracks of the bundled clip),
copied once per subject, with a coder who reviewed the proposals against the
planted truth: each proposal that hits a truth event is accepted (or edited when
the emotion was wrong), each other one rejected, each missed event drawn.
"""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from annotator.cli import main
from annotator.errors import AnnotatorError
from tests.fixtures.sample import SAMPLE_TRUTH


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def review(session, coder="alice", *, only=None):
    """``coder`` reviews the session's proposals against the planted truth (the first ``only`` of them)."""
    from annotator.labels import AUTO_CODER, load_labels
    from annotator.spotting.propose import propose
    from benchmarks.simulated_coder import review as simulated_review

    if not session.has_labels(AUTO_CODER):
        propose(session)
    proposals = session.load_labels(AUTO_CODER).sorted()
    truth = load_labels(SAMPLE_TRUTH).segments
    todo = proposals if only is None else proposals[:only]
    return simulated_review(session, truth, todo, coder, draw_missed=only is None)


def subject_copy(sample_session, folder, subject):
    """A private copy of the tracked sample whose session.json names ``subject``."""
    from annotator.session import Session

    root = folder / sample_session.root.name
    shutil.copytree(sample_session.root, root, ignore=shutil.ignore_patterns("auto.json", "*.lock*"))
    shutil.copyfile(sample_session.video_path, folder / sample_session.video_path.name)
    meta_path = root / "session.json"
    meta = json.loads(meta_path.read_text())
    meta["subject"] = subject
    meta_path.write_text(json.dumps(meta))
    return Session.open(root)


@pytest.fixture
def reviewed(sample_session, tmp_path):
    """Two subjects, each the sample reviewed by alice."""
    sessions = [subject_copy(sample_session, tmp_path / name, name) for name in ("s01", "s02")]
    for s in sessions:
        review(s)
    return sessions


@pytest.fixture
def trained(reviewed, tmp_path, capsys):
    model = tmp_path / "models" / "m.skops"
    model.parent.mkdir()
    code, out, err = run(["train", *[s.root for s in reviewed], "-o", model], capsys)
    assert code == 0, err
    return model, out


# -- round trip ---------------------------------------------------------------------------
def test_train_then_propose_round_trip(trained, reviewed, capsys):
    from annotator.labels import AUTO_CODER, load_labels
    from annotator.spotting.metrics import match
    from annotator.spotting.propose import load_emotion_model

    model_path, out = trained
    assert "LOSO: UF1" in out
    model = load_emotion_model(model_path)
    meta = model.metadata
    assert meta["subjects"] == ["s01", "s02"]
    learnt = {"joy", "surprise", "disgust", "sadness", "anger"}
    assert meta["examples"] == {e: 2 for e in learnt}
    # what it predicts: the learnt labels, and the rules' own when it blends them in (weight chosen by CV)
    blend = meta["prior_blend"]
    assert blend["weight"] in (0.0, 0.25, 0.5, 0.75, 1.0) and blend["chosen_by"]
    expected = learnt | ({"fear", "contempt", "other"} if blend["weight"] > 0 else set())
    assert set(meta["labels"]) == expected == set(model.classes_)
    assert len(meta["data_sha256"]) == 64
    assert meta["scores"]["protocol"] == "leave-one-subject-out"

    session = reviewed[0]
    (session.root / "labels" / "auto.json").unlink()  # fresh proposals, all from the model
    code, _, err = run(["propose", session.root, "--model", model_path], capsys)
    assert code == 0, err
    proposals = session.load_labels(AUTO_CODER).segments
    assert proposals
    for p in proposals:
        assert p.source.endswith("+" + meta["id"])
        assert p.emotion in meta["labels"] and set(p.emotion_scores) == set(meta["labels"])
        assert p.uncertainty is not None and 0.0 <= p.uncertainty <= 1.0
        assert p.confidence is not None
    truth = load_labels(SAMPLE_TRUTH).segments
    pairs = match(truth, proposals)
    assert len(pairs) == 5
    right = sum(proposals[j].emotion == truth[i].emotion for i, j, _ in pairs)
    assert right >= 4, [(truth[i].emotion, proposals[j].emotion) for i, j, _ in pairs]


def test_report_files_are_written(trained):
    from annotator.train import report_paths

    model_path, _ = trained
    md, png = report_paths(model_path)
    text = md.read_text()
    assert "| model, 7 emotions |" in text and "| calibrated on the other subjects (kept where" in text
    assert "| learnt alone, 7 emotions |" in text and "rules' weight" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"]({png.name})" in text


def test_models_lists_a_projects_models(trained, capsys):
    model_path, _ = trained
    code, out, err = run(["models", model_path.parent.parent], capsys)
    assert code == 0, err
    assert out.startswith("m.skops: emotion-") and "2 subjects" in out


# -- LOSO ------------------------------------------------------------------------------------
def test_loso_folds_are_subject_disjoint_and_cover_everything():
    from annotator.train import loso_folds

    groups = np.array(list("aabbbcdd"), dtype=object)
    folds = loso_folds(groups)
    assert [f[0] for f in folds] == ["a", "b", "c", "d"]
    tested = np.concatenate([test for _, _, test in folds])
    assert sorted(tested.tolist()) == list(range(len(groups)))
    for subject, train, test in folds:
        assert set(groups[test]) == {subject}
        assert subject not in set(groups[train])
        assert len(train) + len(test) == len(groups)


def test_loso_on_real_sessions_holds_each_subject_out(reviewed):
    from annotator.train import evaluate_loso, gather

    data = gather(reviewed, coder="alice")
    ev = evaluate_loso(data, spotting=False)
    assert [f["subject"] for f in ev.folds] == ["s01", "s02"]
    assert all(f["n_train"] == f["n_test"] == 5 for f in ev.folds)


def test_uf1_and_uar_by_hand():
    from annotator.train import uf1_uar

    truth = ["joy", "joy", "fear", "fear", "anger"]
    pred = ["joy", "fear", "fear", "fear", "joy"]
    s = uf1_uar(truth, pred, ("joy", "fear", "anger", "disgust"))
    # joy: tp1 fp1 fn1 → F1 0.5, recall 0.5; fear: tp2 fp1 fn0 → 0.8, 1.0; anger: 0, 0
    assert s["uf1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3, abs=1e-4)
    assert s["uar"] == pytest.approx((0.5 + 1.0 + 0.0) / 3, abs=1e-4)
    assert "disgust" not in s["classes"]


def test_one_subject_is_refused_for_loso_and_nothing_is_written(reviewed, tmp_path, capsys):
    model = tmp_path / "one.skops"
    code, _, err = run(["train", reviewed[0].root, "-o", model], capsys)
    assert code == 2
    assert "at least two subjects" in one_line(err)
    assert list(tmp_path.glob("one.*")) == []


# -- refused model files -------------------------------------------------------------------
def _rewrite(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, edit(name, zin.read(name)))


def _set_feature_version(name, data, version=0):
    if name != "schema.json":
        return data
    schema = json.loads(data)
    node = schema["content"]["content"]["metadata_json"]
    meta = json.loads(json.loads(node["content"]))
    meta["feature_version"] = version
    node["content"] = json.dumps(json.dumps(meta, sort_keys=True))
    return json.dumps(schema).encode()


def _scale_coefficients(name, data):
    """Double every float in the coefficient arrays, as an attacker steering the emotions would."""
    if not name.endswith(".npy"):
        return data
    import io

    arr = np.load(io.BytesIO(data), allow_pickle=False)
    if arr.dtype.kind != "f":
        return data
    buf = io.BytesIO()
    np.save(buf, arr * 2.0 + 1.0, allow_pickle=False)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["pickle", "feature-version", "tampered"])
def test_bad_trained_models_are_refused(kind, trained, reviewed, tmp_path, capsys):
    import pickle

    from annotator.spotting.propose import load_emotion_model

    model_path, _ = trained
    bad = tmp_path / "bad.skops"
    if kind == "pickle":
        bad.write_bytes(pickle.dumps(load_emotion_model(model_path)))
    elif kind == "feature-version":
        _rewrite(model_path, bad, _set_feature_version)
    else:
        _rewrite(model_path, bad, _scale_coefficients)
    session = reviewed[0]
    before = (session.root / "labels" / "auto.json").read_bytes()
    code, _, err = run(["propose", session.root, "--model", bad], capsys)
    assert code == 2
    line = one_line(err)
    assert "bad.skops" in line
    expected = {"pickle": "not a skops model file", "feature-version": "feature version 0",
                "tampered": "tampered"}[kind]
    assert expected in line, line
    assert (session.root / "labels" / "auto.json").read_bytes() == before
    with pytest.raises(AnnotatorError):
        load_emotion_model(bad)


def test_a_rewritten_feature_version_that_matches_still_loads(trained, tmp_path):
    """The refusal above is the version, not the rewriting: the same edit with the right version loads."""
    from annotator.features.aus import FEATURE_VERSION
    from annotator.spotting.propose import load_emotion_model

    model_path, _ = trained
    same = tmp_path / "same.skops"
    _rewrite(model_path, same, lambda n, d: _set_feature_version(n, d, FEATURE_VERSION))
    assert load_emotion_model(same).metadata["feature_version"] == FEATURE_VERSION


# -- the online loop ---------------------------------------------------------------------------
def test_retrain_keeps_reviewed_proposals_and_reproposes_the_rest(reviewed, sample_session, tmp_path):
    from annotator.labels import AUTO_CODER
    from annotator.train import retrain

    partial = subject_copy(sample_session, tmp_path / "s03", "s03")
    review(partial, only=2)  # alice stopped after two proposals
    before = {p.id: p for p in partial.load_labels(AUTO_CODER).segments}
    reviewed_ids = {s.id for s in partial.load_labels("alice").segments}
    assert len(reviewed_ids) == 2

    result = retrain([*reviewed, partial], tmp_path / "retrained.skops", coder="alice", sessions=[partial])
    after = {p.id: p for p in partial.load_labels(AUTO_CODER).segments}
    for pid in reviewed_ids:  # untouched, byte for byte
        assert after[pid] == before[pid]
    fresh = [p for pid, p in after.items() if pid not in reviewed_ids]
    assert fresh and all(p.source.endswith("+" + result.model.model_id) for p in fresh)
    assert partial.load_labels("alice").segments  # the coder's file is not touched
    assert result.model.metadata["rejected"] >= 0 and "s03" in result.model.metadata["subjects"]


def test_the_calibration_ignores_the_unreviewed_stretch_of_a_partly_reviewed_session(sample_session, tmp_path):
    """Only the reviewed part of a session is evidence: correct proposals past it are no false positives."""
    from annotator.labels import AUTO_CODER
    from annotator.spotting.calibrate import counted
    from annotator.spotting.spotter import Spotter
    from annotator.train import gather
    from annotator.train.fit import fit_spotter

    partial = subject_copy(sample_session, tmp_path / "s03", "s03")
    review(partial, only=2)  # alice stopped after two proposals, both planted events
    proposals = partial.load_labels(AUTO_CODER).sorted()
    decisions = partial.load_labels("alice").segments
    assert len(proposals) >= 4 and {s.status for s in decisions} <= {"accepted", "edited"}
    (s,) = gather([partial], coder="alice").sessions
    mask = s.reviewed
    last = max(d.offset for d in decisions)
    assert mask is not None and mask[: proposals[0].onset].all() and not mask[last + 1 :].any()
    for p in proposals[2:]:  # undecided: their frames are not reviewed
        assert not mask[p.onset : p.offset + 1].any()
    # the prior proposes every planted event; the undecided ones neither hit nor count as false
    assert counted(s.positives, proposals, mask) == proposals[:2]

    fitted = fit_spotter(gather([partial], coder="alice"))
    assert fitted.train_f1_ == 1.0  # 2 hits of 2 counted proposals at the chosen threshold
    blind = Spotter().fit([s.features], [s.segments])  # the whole session taken as reviewed
    assert blind.train_f1_ < 1.0, "without the mask the unreviewed events were false positives"

    # reviewed to the end: the whole session is evidence again
    review(partial)
    assert gather([partial], coder="alice").sessions[0].reviewed is None
    # the consensus's segments are new ones: its decisions are the coders'
    review(partial, "bob")
    assert gather([partial], coder="consensus").sessions[0].reviewed is None


def test_a_threshold_tie_goes_to_the_factor_nearest_the_prior(reviewed):
    """Each factor scored alone; the fit over all of them keeps the best F1, and among
    equal ones the factor nearest 1 (the prior), whatever order they are given in."""
    from annotator.spotting.spotter import Spotter
    from annotator.train import gather

    s = gather(reviewed[:1], coder="alice").sessions[0]
    factors = (2.0, 0.5, 1.6, 0.9, 1.25)
    alone = {k: Spotter(threshold_factors=(k,)).fit([s.features], [s.segments]).train_f1_ for k in factors}
    best = max(alone.values())
    tied = [k for k in factors if alone[k] == best]
    assert len(tied) >= 2, f"no tie to break on the sample: {alone}"
    expected = min(tied, key=lambda k: abs(np.log(k)))
    for order in (factors, factors[::-1]):
        fitted = Spotter(threshold_factors=order).fit([s.features], [s.segments])
        assert fitted.train_f1_ == best
        assert fitted.threshold_ == pytest.approx(Spotter().threshold * expected)


def test_the_calibration_reads_emotions_at_the_apex_the_proposals_carry(sample_session):
    """``settle_apexes`` is the one place the final apex is chosen: the proposals and the calibration use it."""
    from annotator.spotting.spotter import Spotter
    from annotator.train.examples import session_features

    features = session_features(sample_session)
    spotter = Spotter()
    z, e = spotter.evidence(features)
    found = spotter.intervals(e, features.present, features.fps, raw=spotter.apex_curve(features, z))
    settled = spotter.settle_apexes(features, z, found)[0]
    proposals = spotter.spot(features)
    assert [(p.onset, p.apex, p.offset) for p in proposals] == [(on, ap, off) for on, ap, off, _, _ in settled]
    assert all(b[1] >= a[1] for a, b in zip(found, settled, strict=True))  # the later of the two plateaus


def test_proposals_of_the_old_spotter_version_keep_their_reviews_when_proposed_again(sample_session, tmp_path):
    """Apexes moved (the emotion's own plateau), so the same tracks give other proposals: version 3.

    A session proposed by version 2 and half reviewed, proposed again: the reviewed
    proposals stay as they were (old ids, old source), the rest are version 3's, and
    no event is offered twice.
    """
    from annotator.io import atomic_write_json
    from annotator.labels import AUTO_CODER
    from annotator.spotting.metrics import IOU_THRESHOLD, interval_iou
    from annotator.spotting.propose import proposal_id, propose
    from annotator.spotting.spotter import SPOTTER_ID, SPOTTER_VERSION

    assert SPOTTER_VERSION == "3"
    session = subject_copy(sample_session, tmp_path / "s01", "s01")
    labels = propose(session)
    assert {p.source for p in labels.segments} == {f"{SPOTTER_ID}/3"}
    old = f"{SPOTTER_ID}/2"
    for p in labels.segments:  # as version 2 wrote it
        p.source, p.id = old, proposal_id(session.sha256, old, p.onset, p.apex, p.offset)
    atomic_write_json(session.labels_path(AUTO_CODER), labels.to_dict())
    review(session, only=2)
    reviewed = {s.id: s for s in session.load_labels(AUTO_CODER).sorted()[:2]}

    after = propose(session).segments
    by_id = {p.id: p for p in after}
    assert all(by_id[i].to_dict() == p.to_dict() for i, p in reviewed.items())
    fresh = [p for p in after if p.id not in reviewed]
    assert fresh and all(p.source == f"{SPOTTER_ID}/3" for p in fresh)
    for p in fresh:
        assert all(interval_iou((p.onset, p.offset), (k.onset, k.offset)) < IOU_THRESHOLD for k in reviewed.values())


def test_gather_counts_rejections_and_emotion_changes(reviewed):
    from annotator.train import gather

    labels = reviewed[0].load_labels("alice")
    first = labels.sorted()[0]
    labels.segments = [s if s.id != first.id else s.replace(status="rejected") for s in labels.segments]
    reviewed[0].save_labels(labels)
    data = gather(reviewed, coder="alice")
    assert data.n_rejected == 1
    assert len(data.y) == 9  # the rejected one teaches no emotion
    with pytest.raises(AnnotatorError, match="no labels"):
        gather(reviewed, coder="bob")


# -- projects ------------------------------------------------------------------------------
def test_train_from_a_project_uses_only_subjects_who_consented(reviewed, sample_session, tmp_path, capsys):
    from annotator.project import Project
    from annotator.spotting.propose import load_emotion_model

    extra = subject_copy(sample_session, tmp_path / "s03", "s03")
    review(extra)
    project_dir = tmp_path / "project"
    Project.init(project_dir)
    with Project.edit(project_dir) as project:
        for session, subject in zip([*reviewed, extra], ["s01", "s02", "s03"], strict=True):
            consent = ("dataset", "train") if subject != "s03" else ("dataset",)
            project.add_video(session.root, subject=subject, consent=consent)
    model = project_dir / "models" / "m.skops"
    model.parent.mkdir()
    code, out, err = run(["train", project_dir, "-o", model], capsys)
    assert code == 0, err
    assert "s03" in err and "consent" in err
    assert load_emotion_model(model).metadata["subjects"] == ["s01", "s02"]
    code, out, _ = run(["models", project_dir], capsys)
    assert code == 0 and out.startswith("m.skops: emotion-")


def test_labels_of_one_emotion_are_refused_and_nothing_is_written(reviewed, tmp_path, capsys):
    for session in reviewed:
        labels = session.load_labels("alice")
        labels.segments = [s.replace(emotion="surprise") for s in labels.segments]
        session.save_labels(labels)
    model = tmp_path / "one-emotion.skops"
    code, _, err = run(["train", *[s.root for s in reviewed], "-o", model, "--no-eval"], capsys)
    assert code == 2
    assert "at least two emotions" in one_line(err)
    assert list(tmp_path.glob("one-emotion.*")) == []


def test_an_existing_model_needs_force(trained, reviewed, capsys):
    model_path, _ = trained
    before = model_path.read_bytes()
    code, _, err = run(["train", *[s.root for s in reviewed], "-o", model_path], capsys)
    assert code == 2 and "--force" in one_line(err)
    assert model_path.read_bytes() == before


def test_the_workbench_names_the_model_behind_the_proposals():
    from annotator.labels import Segment
    from annotator.spotting.propose import describe_proposer

    prior = Segment(0, 1, 2, source="annotator-spotter/2", status="proposed")
    trained = Segment(5, 6, 7, source="annotator-spotter/2+emotion-0123456789ab", status="proposed")
    assert describe_proposer([prior]) == "annotator-spotter/2 (prototype prior)"
    assert describe_proposer([trained, trained]) == "annotator-spotter/2 + model emotion-0123456789ab"
    assert describe_proposer([]) == "none"


def test_a_session_with_incomplete_tracks_is_refused(reviewed, tmp_path, capsys):
    from annotator.tracking.store import tracks_complete

    meta_path = reviewed[1].tracks_path / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"]["complete"] = False  # as a killed `annotator track` leaves it
    meta_path.write_text(json.dumps(meta))
    assert not tracks_complete(reviewed[1])
    model = tmp_path / "m.skops"
    code, _, err = run(["train", *[s.root for s in reviewed], "-o", model], capsys)
    assert code == 2
    line = one_line(err)
    assert "did not finish" in line and str(reviewed[1].tracks_path) in line
    assert list(tmp_path.glob("m.*")) == []


# -- few examples: the rules blended in, the calibration kept only where confirmed ---------
def _truth_labels(session, keep):
    """alice's labels: the sample's planted events whose emotion is in ``keep``."""
    from annotator.labels import load_labels

    labels = session.load_labels("alice", create=True)
    labels.segments = [t.replace(status="accepted", source="alice") for t in load_labels(SAMPLE_TRUTH).segments
                       if t.emotion in keep]
    session.save_labels(labels)


def test_an_emotion_no_training_subject_showed_is_still_named_through_the_rules(sample_session, tmp_path):
    """Held-out joy with only surprise to learn from: the plain learner says surprise, the blend says joy."""
    from annotator.train import evaluate_loso, gather
    from annotator.train.fit import choose_prior_weight

    sessions = []
    for name, keep in (("a", {"joy", "surprise"}), ("b", {"surprise"}), ("c", {"surprise"})):
        session = subject_copy(sample_session, tmp_path / name, name)
        _truth_labels(session, keep)
        sessions.append(session)
    data = gather(sessions, coder="alice")
    ev = evaluate_loso(data, spotting=False)
    joy = next(f for f in ev.folds if f["subject"] == "a")
    # b and c show surprise only: whatever the learner fits, the blend must fall back on the rules
    assert joy["prior_weight"] == 1.0
    assert ev.prior_7["accuracy"] == 1.0, ev.prior_7  # the rules name all four events right
    assert ev.learnt_7["accuracy"] < ev.emotion_7["accuracy"] == ev.prior_7["accuracy"]
    assert ev.learnt_7["classes"]["joy"]["recall"] == 0.0 and ev.emotion_7["classes"]["joy"]["recall"] == 1.0
    # one subject: nothing to cross-validate on, the rules decide
    one = data.groups == "a"
    assert choose_prior_weight(data.X[one], data.y[one], data.groups[one], data.channels)[0] == 1.0


def test_the_spotter_calibration_from_one_subject_is_not_trusted(reviewed):
    from annotator.train import gather
    from annotator.train.fit import fit_spotter_checked

    data = gather(reviewed[:1], coder="alice")
    spotter, why = fit_spotter_checked(data)
    assert not hasattr(spotter, "threshold_") and "cannot be checked" in why
    data = gather(reviewed, coder="alice")
    spotter, why = fit_spotter_checked(data)
    assert "held-out F1" in why  # two subjects: checked on each other, kept or not by the figures


# -- one subject: the blend is chosen within the subject's own reviewed events -------------
def _relabelled(session, coder="alice"):
    """alice's labels: the planted events, with her own convention that the smile is contempt."""
    from annotator.labels import load_labels

    labels = session.load_labels(coder, create=True)
    labels.segments = [t.replace(status="edited" if t.emotion == "joy" else "accepted", source=coder,
                                 emotion="contempt" if t.emotion == "joy" else t.emotion)
                       for t in load_labels(SAMPLE_TRUTH).segments]
    session.save_labels(labels)


def test_one_subject_s_corrected_labels_change_the_model_s_answers(sample_session, tmp_path):
    """One subject, two sessions of corrections: the weight is cross-validated over her event clusters."""
    from annotator.train import gather, train_model
    from annotator.train.fit import prior_emotions

    sessions = [subject_copy(sample_session, tmp_path / name, "s01") for name in ("take1", "take2")]
    for s in sessions:
        _relabelled(s)
    data = gather(sessions, coder="alice")
    assert data.subjects == ["s01"] and len(set(data.within.tolist())) == 10  # five separate events a session
    model = train_model(data)
    blend = model.metadata["prior_blend"]
    assert blend["weight"] < 1.0, blend
    assert blend["chosen_by"]["over"] == "events within the subject" and blend["chosen_by"]["n"] == 10
    smile = data.y == "contempt"
    assert set(prior_emotions(data.X[smile], data.channels)) == {"joy"}  # what the rules alone would say
    assert set(model.predict(data.X[smile])) == {"contempt"}  # the coder's correction is learnt


def test_one_subject_with_too_few_examples_keeps_the_rules_and_says_why(sample_session, tmp_path):
    from annotator.train import gather, train_model

    session = subject_copy(sample_session, tmp_path / "take1", "s01")
    _relabelled(session)  # five events of five emotions: one example each
    model = train_model(gather([session], coder="alice"))
    blend = model.metadata["prior_blend"]
    assert blend["weight"] == 1.0
    assert "fewer than two emotions with two reviewed examples each" in blend["chosen_by"]["reason"]
    assert "1 session(s): the calibration cannot be checked" in model.metadata["spotter_choice"]


def test_event_clusters_keep_neighbours_together():
    from annotator.labels import Segment
    from annotator.train.examples import event_clusters

    segs = [Segment(id=str(i), onset=a, apex=a + 2, offset=b) for i, (a, b) in
            enumerate([(100, 110), (0, 10), (20, 30), (200, 210), (12, 18)])]
    # at 30 fps events within 15 frames of each other share a cluster, in any order given
    assert event_clusters(segs, 30.0, "0").tolist() == ["0:1", "0:0", "0:0", "0:2", "0:0"]
