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
        frames = v[:].astype(np.float32)
    h, w = frames.shape[1:3]
    face = frames[:, h // 5 : 4 * h // 5, w // 5 : 4 * w // 5]
    busy = np.zeros(len(face), bool)
    for s in truth:
        busy[max(0, s.onset - 3) : s.offset + 4] = True

    def calm_change(lag):
        """How much the face changes over ``lag`` frames with no event (head drift, noise)."""
        pairs = [(i, i + lag) for i in range(len(face) - lag) if not busy[i : i + lag + 1].any()]
        return np.median([np.abs(face[j] - face[i]).mean() for i, j in pairs])

    for s in truth:
        before = face[max(0, s.onset - 1)]
        change = np.abs(face[s.apex] - before).mean()
        back = np.abs(face[min(len(face) - 1, s.offset + 1)] - before).mean()
        drift = calm_change(s.apex - s.onset + 1)
        assert change > 1.3 * drift, (s.emotion, change, drift)
        assert back < max(change / 2, 1.5 * calm_change(s.offset - s.onset + 2)), f"{s.emotion} lasts past its offset"


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
