"""The MEGC spotting metric against hand-worked examples, and the evaluate command."""

from __future__ import annotations

import json

import pytest

from annotator.cli import main
from annotator.labels import Labels, Segment, VideoRef, save_labels
from annotator.spotting.metrics import evaluate, interval_iou, match


def seg(onset, offset, apex=None, emotion="joy", kind=None, status="accepted"):
    apex = (onset + offset) // 2 if apex is None else apex
    kind = kind or ("micro" if offset - onset + 1 <= 15 else "macro")
    return Segment(onset=onset, apex=apex, offset=offset, emotion=emotion, kind=kind, status=status)


def test_iou_counts_frames_inclusively():
    assert interval_iou((10, 19), (10, 19)) == 1.0
    # 10..19 and 15..24: 5 shared frames of 15
    assert interval_iou((10, 19), (15, 24)) == pytest.approx(5 / 15)
    assert interval_iou((0, 0), (0, 0)) == 1.0
    assert interval_iou((0, 4), (5, 9)) == 0.0
    # 0..9 vs 3..9: 7 of 10 → 0.7
    assert interval_iou((0, 9), (3, 9)) == pytest.approx(0.7)


def test_partial_overlaps():
    truth = {"v": [seg(10, 19), seg(100, 139)]}
    # first: 12..21 shares 8 of 12 frames (IoU 0.667, hit); second: 120..170 shares 20 of 71 (miss)
    pred = {"v": [seg(12, 21, apex=16), seg(120, 170)]}
    r = evaluate(truth, pred)["all"]
    assert (r.truths, r.proposals, r.hits) == (2, 2, 1)
    assert r.precision == 0.5 and r.recall == 0.5 and r.f1 == 0.5
    assert r.apex_mae == abs(14 - 16)


def test_iou_exactly_half_is_a_hit():
    # 0..9 vs 5..14 → 5 / 15 = 0.33 (miss); 0..9 vs 0..19 → 10/20 = 0.5 (hit)
    assert evaluate({"v": [seg(0, 9)]}, {"v": [seg(5, 14)]})["all"].hits == 0
    assert evaluate({"v": [seg(0, 9)]}, {"v": [seg(0, 19)]})["all"].hits == 1


def test_two_proposals_for_one_truth():
    truth = {"v": [seg(10, 19)]}
    pred = {"v": [seg(10, 18), seg(11, 19)]}
    r = evaluate(truth, pred)["all"]
    assert (r.hits, r.proposals, r.truths) == (1, 2, 1)
    assert r.precision == 0.5 and r.recall == 1.0
    assert r.f1 == pytest.approx(2 / 3)
    assert len(match(truth["v"], pred["v"])) == 1


def test_empty_sets():
    r = evaluate({}, {})["all"]
    assert r.f1 is None and r.precision is None and r.recall is None
    r = evaluate({"v": [seg(0, 9)]}, {})["all"]
    assert r.recall == 0.0 and r.precision is None and r.f1 == 0.0
    r = evaluate({}, {"v": [seg(0, 9)]})["all"]
    assert r.precision == 0.0 and r.recall is None and r.f1 == 0.0


def test_micro_macro_slices_and_emotion():
    truth = {"v": [seg(0, 9, emotion="joy"), seg(50, 99, emotion="sadness")]}
    pred = {"v": [seg(0, 10, emotion="joy"), seg(52, 99, emotion="anger"), seg(200, 205)]}
    report = evaluate(truth, pred)
    assert report["micro"].hits == 1 and report["micro"].proposals == 2
    assert report["macro"].hits == 1 and report["macro"].proposals == 1
    assert report["all"].emotion_accuracy == 0.5


def test_rejected_proposals_do_not_count():
    r = evaluate({"v": [seg(0, 9)]}, {"v": [seg(0, 9), seg(30, 39, status="rejected")]})["all"]
    assert r.proposals == 1 and r.precision == 1.0


def test_videos_are_matched_separately():
    r = evaluate({"a": [seg(0, 9)], "b": [seg(0, 9)]}, {"a": [seg(0, 9)]})["all"]
    assert r.hits == 1 and r.recall == 0.5


def _write(tmp_path, name, coder, segments):
    labels = Labels(coder=coder, video=VideoRef("clip.mp4", "ab" * 32, 30.0, 300), segments=segments)
    return save_labels(labels, tmp_path / name)


def test_evaluate_command(tmp_path, capsys):
    truth = _write(tmp_path, "truth.json", "truth", [seg(10, 19), seg(100, 139)])
    pred = _write(tmp_path, "pred.json", "auto", [seg(12, 21), seg(300 - 20, 299)])
    assert main(["evaluate", str(truth), str(pred), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["all"]["hits"] == 1 and out["all"]["f1"] == 0.5
    assert main(["evaluate", str(truth), str(pred)]) == 0
    table = capsys.readouterr().out
    assert "precision" in table and "micro" in table


def test_evaluate_bad_input(tmp_path, capsys):
    truth = _write(tmp_path, "truth.json", "truth", [seg(10, 19)])
    bad = tmp_path / "pred.json"
    bad.write_text("{}")
    assert main(["evaluate", str(truth), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pred.json" in err and "not an annotator labels file" in err
