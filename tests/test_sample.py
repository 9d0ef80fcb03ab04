"""The bundled sample: its ground truth matches its video, and napari offers it."""

from __future__ import annotations

import hashlib

import numpy as np

from annotator import open_video
from annotator.labels import kind_for, load_labels
from tests.fixtures.sample import SAMPLE_TRUTH, SAMPLE_VIDEO


def test_truth_belongs_to_the_video():
    sha = hashlib.sha256(SAMPLE_VIDEO.read_bytes()).hexdigest()
    truth = load_labels(SAMPLE_TRUTH, sha256=sha)  # raises if the checksum differs
    with open_video(SAMPLE_VIDEO) as v:
        assert truth.video.frames == len(v)
        assert truth.video.fps == v.fps
    assert SAMPLE_VIDEO.stat().st_size < 3_000_000, "sample media stays small"


def test_truth_has_micro_and_macro_events_of_several_emotions():
    truth = load_labels(SAMPLE_TRUTH)
    kinds = [s.kind for s in truth.segments]
    assert kinds.count("micro") >= 2 and kinds.count("macro") >= 1
    assert len({s.emotion for s in truth.segments}) == len(truth.segments)
    for s in truth.segments:
        assert s.kind == kind_for(s.onset, s.offset, truth.video.fps, truth.micro_max_seconds)
        assert s.status == "accepted" and s.aus


def test_events_are_in_the_pictures():
    """Each event changes the face more at its apex than the neutral stretches change."""
    truth = load_labels(SAMPLE_TRUTH).sorted()
    with open_video(SAMPLE_VIDEO) as v:
        h, w = v.height, v.width
        # Crop, and convert a frame at a time: the whole clip as float32 is 0.8 GB.
        face = np.stack([v[i][h // 5 : 4 * h // 5, w // 5 : 4 * w // 5] for i in range(len(v))])
    busy = np.zeros(len(face), bool)
    for s in truth:
        busy[s.onset : s.offset + 1] = True
    longest_calm = max(len(run) for run in np.split(np.arange(len(busy)), np.flatnonzero(np.diff(busy)) + 1)
                       if not busy[run[0]])

    def residual(i0, ia, i1):
        """How far frame ``ia`` is from the blend of the frames around it: slow head
        drift blends away, an expression between ``i0`` and ``i1`` does not."""
        t = (ia - i0) / (i1 - i0)
        a, b, c = (face[i].astype(np.float32) for i in (i0, ia, i1))
        return np.abs(b - ((1 - t) * a + t * c)).mean()

    for s in truth:
        i0, i1 = max(0, s.onset - 1), min(len(face) - 1, s.offset + 1)
        event = residual(i0, s.apex, i1)
        # the same construction on neutral stretches (as long as the event, or the longest there is)
        span = min(i1 - i0, longest_calm - 1)
        lead = max(1, round((s.apex - i0) * span / (i1 - i0)))
        calm = [residual(k, k + lead, k + span) for k in range(len(face) - span) if not busy[k : k + span + 1].any()]
        assert calm, "no neutral stretch as long as the event"
        assert event > 2 * np.median(calm), (s.emotion, event, np.median(calm))


def test_napari_sample_contribution():
    from npe2 import PluginManager

    pm = PluginManager.instance()
    pm.discover()
    contribs = [c for plugin, cs in pm.iter_sample_data() if plugin == "annotator" for c in cs]
    assert [c.key for c in contribs] == ["astronaut"]
    layers = contribs[0].open()
    (data, kwargs, layer_type) = layers[0]
    assert layer_type == "image" and kwargs["rgb"] is True
    assert data.shape == (300, 480, 480, 3)
    assert data[150].dtype == np.uint8


def test_the_wheel_carries_the_sample(tmp_path):
    """File ▸ Open Sample after a plain ``pip install``: the wheel holds the clip and its truth as files."""
    import subprocess
    import sys
    import zipfile

    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(SAMPLE_VIDEO.parents[1]),
                           "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("annotator-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        for name, original in (("astronaut.mp4", SAMPLE_VIDEO), ("astronaut.truth.json", SAMPLE_TRUTH)):
            data = zf.read(f"annotator/napari/sample/{name}")
            assert hashlib.sha256(data).hexdigest() == hashlib.sha256(original.read_bytes()).hexdigest()
