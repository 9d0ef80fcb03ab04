"""False positives on real footage: talking with lip presses, a real still moved as a whole.

Each clip is rendered by benchmarks/realfootage.py from real pixels (no pixel
altered), tracked with the real models and proposed as ``annotator propose``
does.  The clips are those that gave false positives before the speech mask
counted lip movements (``speech_talk_2`` seed 1: a brow flash with a lip press,
four times) and before the rigid-motion mask (``takeo`` seed 0: "joy" while the
photo rolls and zooms); events planted inside real talking must still be found.
"""

from __future__ import annotations

import pytest

from annotator.labels import load_labels
from annotator.spotting.metrics import match
from annotator.spotting.propose import propose
from annotator.tracking.run import track_videos
from tests.fixtures.real_footage import require_realdata

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    require_realdata()
    from benchmarks.realdata import available
    from benchmarks.realfootage import render, speech_clip, speech_event_clip, still_clip

    plans = [speech_clip("talk_2", 1), speech_event_clip(0)]
    if available("takeo.ppm"):
        plans.append(still_clip("takeo.ppm", 0))
    out = tmp_path_factory.mktemp("realfp")
    clips = [render(plan, out) for plan in plans]
    sessions = track_videos([c.video for c in clips], out_dir=out / "sessions", pose=False, workers=2, progress=False)
    return {c.plan.name: (c, propose(s).segments) for c, s in zip(clips, sessions)}


def test_talking_with_lip_presses_gives_no_proposal(tracked):
    _, proposals = tracked["speech_talk_2_s1"]
    assert [(p.onset, p.offset, p.aus) for p in proposals] == []


def test_events_inside_real_talking_are_still_found(tracked):
    clip, proposals = tracked["speech_events_s0"]
    truth = load_labels(clip.truth).segments
    assert len(truth) == 4 and all(any(a <= t.onset <= b for k, a, b in clip.plan.spans if k == "event") for t in truth)
    pairs = match(truth, proposals)
    assert len(pairs) == len(truth), ([(t.onset, t.offset) for t in truth], [(p.onset, p.offset) for p in proposals])
    assert len(proposals) == len(truth)  # and nothing from the talk around them


def test_a_real_still_moved_as_a_whole_gives_no_proposal(tracked):
    if "still_takeo_s0" not in tracked:
        pytest.skip("takeo.ppm not fetched; run `make realdata`")
    clip, proposals = tracked["still_takeo_s0"]
    assert any(kind == "motion" for kind, _, _ in clip.plan.spans)
    assert [(p.onset, p.offset, p.emotion) for p in proposals] == []
