"""Agreement and consensus on a hand-worked example, checked against scikit-learn and statsmodels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotator.agreement import compare, consensus, session_agreement
from annotator.agreement.compare import frame_labels
from annotator.cli import main
from annotator.labels import Segment, load_labels
from tests.fixtures.labelled import add_labels, make_session

ALICE = [(0, 2, 9, "joy"), (20, 22, 29, "fear"), (40, 42, 45, "anger"), (50, 51, 55, "joy")]
BOB = [(1, 3, 9, "joy"), (20, 25, 31, "sadness"), (40, 41, 45, "anger")]
CAROL = [(0, 3, 9, "joy"), (21, 23, 29, "fear"), (40, 42, 45, "disgust")]


def segs(spans):
    return [Segment(onset=a, apex=b, offset=c, emotion=e) for a, b, c, e in spans]


def test_two_coders_by_hand():
    r = compare({"alice": segs(ALICE), "bob": segs(BOB)}, n_frames=60)
    (p,) = r.pairs
    # IoUs 9/10, 10/12, 6/6 match; alice's 50..55 has no partner
    assert [round(iou, 3) for _, _, iou in p.matched] == [1.0, 0.9, 0.833]
    assert [(s.onset, s.offset) for s in p.unmatched_a] == [(50, 55)] and p.unmatched_b == []
    assert p.mean_abs_frames == pytest.approx({"onset": 1 / 3, "apex": 5 / 3, "offset": 2 / 3})
    # emotions on matched pairs: [joy, fear, anger] vs [joy, sadness, anger]: po 2/3, pe 2/9 → κ 4/7
    assert p.emotion_kappa == pytest.approx(4 / 7)
    assert p.emotion_kappa == pytest.approx(cohen_kappa_score(["anger", "joy", "fear"], ["anger", "joy", "sadness"]))
    # frames: po 41/60, pe (16·9 + 6·6 + 28·33)/3600 → κ 1356/2496
    assert p.frame_kappa == pytest.approx(1356 / 2496)
    assert p.frame_kappa == pytest.approx(cohen_kappa_score(
        list(frame_labels(segs(ALICE), 60)), list(frame_labels(segs(BOB), 60))))
    assert p.onset_bias_frames == pytest.approx(1 / 3)
    assert r.onset_bias == pytest.approx({"alice": -1 / 3, "bob": 1 / 3})
    assert [(c, s.onset, others) for c, s, others in r.unmatched] == [("alice", 50, ["bob"])]
    assert r.fleiss_emotion is None  # only for three or more coders


def test_three_coders_fleiss_by_hand():
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    r = compare({"alice": segs(ALICE), "bob": segs(BOB), "carol": segs(CAROL)}, n_frames=60)
    # rows [joy×3], [fear, sadness, fear], [anger, anger, disgust]: P̄ 5/9, Pe 19/81 → κ 13/31
    assert r.fleiss_emotion == pytest.approx(13 / 31)
    codes = np.array([[0, 0, 0], [1, 2, 1], [3, 3, 4]])
    assert r.fleiss_emotion == pytest.approx(fleiss_kappa(aggregate_raters(codes)[0]))
    assert r.fleiss_frames is not None and -1 <= r.fleiss_frames <= 1
    assert len(r.pairs) == 3


def test_undefined_kappa_is_none_not_nan():
    r = compare({"a": segs([(0, 1, 5, "joy")]), "b": segs([(0, 1, 5, "joy")])}, n_frames=6)
    assert r.pairs[0].emotion_kappa is None  # every label the same: chance agreement is 1
    assert r.pairs[0].frame_kappa is None


def test_consensus_majority_median_and_adjudication():
    out = consensus({"alice": segs(ALICE), "bob": segs(BOB), "carol": segs(CAROL)}, fps=30.0)
    got = [(s.onset, s.apex, s.offset, s.emotion, s.adjudication) for s in out]
    assert got == [
        (0, 3, 9, "joy", ""),
        (20, 23, 29, "fear", ""),
        (40, 42, 45, "anger", ""),
        (50, 51, 55, "joy", "unmatched: only alice"),
    ]
    assert out[0].source == "alice+bob+carol" and out[0].status == "accepted"
    two = consensus({"alice": segs(ALICE), "bob": segs(BOB)}, fps=30.0)
    assert two[1].adjudication == "tie: fear/sadness" and two[1].status == "proposed"


def test_agree_and_merge_commands(tmp_path, capsys):
    session, _ = make_session(tmp_path / "w")
    for name, spans in (("alice", ALICE), ("bob", BOB), ("carol", CAROL)):
        add_labels(session, name, spans)
    assert main(["agree", str(session.root), "--coders", "alice,bob", "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["pairs"][0]["emotion_kappa"] == pytest.approx(4 / 7)
    # ms differences come from the video's own (variable) frame times
    ms = session_agreement(session, ["alice", "bob"])
    times = np.rint(np.asarray(__import__("annotator.formats", fromlist=["x"]).session_timing(session).times) * 1000)
    expected_onset_ms = abs(times[0] - times[1]) / 3
    assert ms.pairs[0].mean_abs_ms["onset"] == pytest.approx(expected_onset_ms)
    assert report["unmatched"][0]["onset"] == 50
    assert main(["agree", str(session.root)]) == 0
    assert "Fleiss κ: emotion 0.419" in capsys.readouterr().out
    assert main(["merge", str(session.root), "--coders", "alice,bob,carol", "-o", "consensus"]) == 0
    assert "4 segments from alice, bob, carol; 1 to adjudicate" in capsys.readouterr().out
    merged = load_labels(session.labels_path("consensus"))
    assert [s.adjudication for s in merged.segments] == ["", "", "", "unmatched: only alice"]
    assert main(["merge", str(session.root), "--coders", "alice,bob"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["agree", str(session.root), "--coders", "alice,zed"]) == 2
    assert "coder 'zed' has no labels" in capsys.readouterr().err
    assert main(["agree", str(session.root), "--coders", "alice,alice"]) == 2  # one coder, named twice
    err = capsys.readouterr().err
    assert "agreement needs two coders; this session has alice" in err and err.count("\n") == 1


def test_action_units_by_hand(tmp_path, capsys):
    """The FACS agreement ratio on matched segments' AUs, and each AU lane's kappas, worked by hand."""
    from annotator.labels import AUInterval

    a = [Segment(onset=0, apex=2, offset=9, emotion="joy", aus=["6", "12"]),
         Segment(onset=20, apex=22, offset=29, emotion="sadness", aus=["1", "4", "15"]),
         Segment(onset=40, apex=42, offset=45, emotion="anger")]
    b = [Segment(onset=1, apex=3, offset=9, emotion="joy", aus=["R12B"]),  # side counts, intensity does not
         Segment(onset=20, apex=25, offset=31, emotion="sadness", aus=["1", "4C", "17"]),
         Segment(onset=40, apex=41, offset=45, emotion="anger")]
    ia = [AUInterval("12", 0, 9, "C"), AUInterval("12", 30, 39, "B"), AUInterval("4", 20, 29, "")]
    ib = [AUInterval("12", 0, 9, "D"), AUInterval("12", 30, 39, "B"), AUInterval("R4", 20, 29, "A")]
    (p,) = compare({"a": a, "b": b}, n_frames=60, intervals={"a": ia, "b": ib}).pairs
    # {6, 12} vs {R12}: 0 of 3; {1, 4, 15} vs {1, 4, 17}: 2·2/6; the anger pair has no AUs and is left out
    assert p.au_ratio == pytest.approx((0 + 4 / 6) / 2)
    # lane 12: both mark the same 20 frames of 60 → κ 1; intensities C/D on 10 frames, B/B on 10:
    # linear weights over A..E, checked against scikit-learn
    assert p.au_lanes["12"]["kappa"] == pytest.approx(1.0) and p.au_lanes["12"]["frames_both"] == 20
    assert p.au_lanes["12"]["intensity_kappa"] == pytest.approx(
        cohen_kappa_score(["C"] * 10 + ["B"] * 10, ["D"] * 10 + ["B"] * 10, weights="linear", labels=list("ABCDE")))
    # lane 4 (a) and lane R4 (b) are different lanes: each is all-absent on one side
    assert p.au_lanes["4"]["kappa"] == pytest.approx(0.0) and p.au_lanes["R4"]["frames_both"] == 0
    assert p.au_lanes["4"]["intensity_kappa"] is None  # no frame both coders scored
    # the same through the command line, from the coders' files
    session, _ = make_session(tmp_path / "w")
    for name, spans, lanes in (("alice", a, ia), ("bob", b, ib)):
        labels = add_labels(session, name, [dict(onset=s.onset, apex=s.apex, offset=s.offset, emotion=s.emotion,
                                                 aus=s.aus) for s in spans])
        labels.au_intervals = lanes
        session.save_labels(labels)
    assert main(["agree", str(session.root), "--coders", "alice,bob", "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["pairs"][0]["au_agreement_ratio"] == pytest.approx(1 / 3)
    assert report["pairs"][0]["au_lanes"]["12"]["kappa"] == pytest.approx(1.0)
    assert main(["agree", str(session.root), "--coders", "alice,bob"]) == 0
    assert "AUs: agreement ratio 0.333 on matched segments; lanes: 4 κ 0.000" in capsys.readouterr().out
