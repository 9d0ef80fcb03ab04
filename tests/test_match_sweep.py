"""The sort-and-sweep matcher against scoring every pair, and the integer-coded frame kappa against strings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.agreement.compare import _fleiss, compare, frame_codes, frame_labels
from annotator.agreement.kappa import cohen_kappa
from annotator.labels import EMOTION_LABELS, Segment
from annotator.spotting.metrics import match, match_all_pairs


@st.composite
def segment_lists(draw, max_size=25):
    """Segments crowded into a short stretch of frames, so overlaps, nesting and equal IoUs are common."""
    n = draw(st.integers(0, max_size))
    out = []
    for _ in range(n):
        onset = draw(st.integers(0, 60))
        length = draw(st.integers(1, 40))
        out.append(Segment(onset=onset, apex=onset, offset=onset + length - 1,
                           emotion=draw(st.sampled_from(EMOTION_LABELS))))
    return out


@settings(max_examples=300, deadline=None)
@given(segment_lists(), segment_lists(), st.sampled_from([0.5, 0.3, 0.75, 1.0, 0.1, 0.0, -1.0]))
def test_sweep_matches_every_pair_scoring(truth, pred, threshold):
    assert match(truth, pred, threshold) == match_all_pairs(truth, pred, threshold)


def test_sweep_finds_a_long_proposal_that_starts_well_before_the_truth():
    # the window reaches back len(truth) / threshold frames: a 20-frame proposal holding a
    # 10-frame truth at its end has IoU 0.5 and must still be found
    truth = [Segment(onset=100, apex=100, offset=109)]
    pred = [Segment(onset=90, apex=90, offset=109), Segment(onset=0, apex=0, offset=5)]
    assert match(truth, pred) == [(0, 0, 0.5)] == match_all_pairs(truth, pred)


@settings(max_examples=100, deadline=None)
@given(segment_lists(), segment_lists())
def test_integer_codes_are_the_string_labels(a, b):
    frames = 120
    labels = np.asarray(("none", *EMOTION_LABELS), dtype=object)
    assert list(labels[frame_codes(a, frames)]) == list(frame_labels(a, frames))
    ka, kb = cohen_kappa(frame_codes(a, frames), frame_codes(b, frames)), cohen_kappa(
        list(frame_labels(a, frames)), list(frame_labels(b, frames)))
    assert (ka is None) == (kb is None)
    if ka is not None:
        assert ka == pytest.approx(kb, abs=1e-12)


def test_fleiss_on_codes_equals_fleiss_on_labels():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, size=(500, 3)).astype(np.int16)
    names = np.asarray(["none", "joy", "fear", "anger"], dtype=object)[codes]
    assert _fleiss(codes) == pytest.approx(_fleiss(names.tolist()), abs=1e-12)


def test_hour_of_agreement_is_unchanged_by_the_sweep():
    rng = np.random.default_rng(0)
    frames = 3000
    a = []
    for s in np.cumsum(rng.integers(8, 30, size=80)):
        a.append(Segment(onset=int(s), apex=int(s) + 2, offset=int(s) + int(rng.integers(3, 20)),
                         emotion=EMOTION_LABELS[int(rng.integers(0, 7))]))
    b = [x.replace(onset=max(0, x.onset + int(d)), apex=max(0, x.onset + int(d))) for x, d in
         zip(a, rng.integers(-3, 4, size=len(a)), strict=True)]
    report = compare({"a": a, "b": b}, frames).pairs[0]
    a, b = (sorted(x, key=lambda s: (s.onset, s.offset, s.id)) for x in (a, b))  # as compare orders them
    assert len(report.matched) > 40
    assert [(x.id, y.id) for x, y, _ in report.matched] == [(a[i].id, b[j].id) for i, j, _ in match_all_pairs(a, b)]
    assert report.frame_kappa == pytest.approx(
        cohen_kappa(list(frame_labels(a, frames)), list(frame_labels(b, frames))), abs=1e-12)
