"""``annotator batch`` on a real ``LocalCluster``: a corrupt video, reruns, a killed worker, identity.

Two worker processes with one thread each, the real MediaPipe models, and tiny
256x256 astronaut clips in 16-frame blocks (face only where pose does not
matter), so the file runs in about two minutes on two cores.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from annotator.batch.cluster import connect
from annotator.batch.inputs import collect_videos, resolve_outdir
from annotator.batch.logs import is_noise
from annotator.batch.remote import RemoteOut
from annotator.batch.run import run_batch
from annotator.errors import AnnotatorError
from annotator.tracking.run import track_videos
from annotator.tracking.store import tracks_complete
from tests.test_tracking import CHUNK, cli_env, face_frames, run_cli, write_video

pytestmark = pytest.mark.slow


def _arrays(store: Path) -> dict[str, np.ndarray]:
    import zarr

    group = zarr.open_group(str(store), mode="r")
    out = {}

    def visit(g, prefix=""):
        for name, arr in g.arrays():
            out[prefix + name] = np.asarray(arr[:])
        for name, sub in g.groups():
            visit(sub, f"{prefix}{name}/")

    visit(group)
    return out


def assert_identical(a: Path, b: Path) -> None:
    x, y = _arrays(a), _arrays(b)
    assert sorted(x) == sorted(y)
    assert "face/landmarks" in x
    for name in x:
        assert x[name].dtype == y[name].dtype and x[name].shape == y[name].shape, name
        assert np.array_equal(x[name], y[name], equal_nan=x[name].dtype.kind == "f"), f"{name} differs"


@pytest.fixture(scope="module")
def client():
    with connect(None, workers=2, retries=3) as c:
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_video(folder / "a.mp4", face_frames(48))
    sub = folder / "more"
    sub.mkdir()
    write_video(sub / "b.mp4", face_frames(32))
    (folder / "corrupt.mp4").write_bytes(os.urandom(4096))  # not a video at all
    return folder


def test_inputs_walk_folders_and_outdir_urls(corpus, tmp_path):
    videos = collect_videos([corpus, corpus / "a.mp4"])  # the same video twice counts once
    assert [v.name for v in videos] == ["a.mp4", "corrupt.mp4", "b.mp4"]
    assert resolve_outdir(f"file://{tmp_path}/out") == tmp_path / "out"
    assert resolve_outdir(tmp_path) == tmp_path
    remote = resolve_outdir("memory://bucket/out")
    assert isinstance(remote, RemoteOut) and remote.protocol == "memory"
    import importlib.util

    missing = next((p for p, pkg in (("gs", "gcsfs"), ("s3", "s3fs"), ("az", "adlfs")) if importlib.util.find_spec(pkg) is None), None)
    if missing:  # fsspec knows the protocol, its implementation is not installed: one line
        with pytest.raises(AnnotatorError, match="not installed"):
            resolve_outdir(f"{missing}://bucket/out")
    with pytest.raises(AnnotatorError, match="not a URL fsspec understands"):
        resolve_outdir("nosuchprotocol://bucket/out")
    with pytest.raises(AnnotatorError, match="no such file"):
        collect_videos([tmp_path / "missing"])


def test_corrupt_video_fails_alone_and_a_rerun_does_nothing(client, corpus, tmp_path):
    out = tmp_path / "out"
    report = run_batch([corpus], f"file://{out}", client=client, pose=False, chunk_frames=CHUNK, progress=False)
    status = {Path(o.video).name: o for o in report.outcomes}
    assert {k: o.status for k, o in status.items()} == {"a.mp4": "done", "b.mp4": "done", "corrupt.mp4": "failed"}
    reason = status["corrupt.mp4"].reason
    assert reason.startswith(str(corpus / "corrupt.mp4")) and "\n" not in reason
    assert tracks_complete(out / "a.annot") and tracks_complete(out / "b.annot")
    assert not (out / "corrupt.annot").exists()  # nothing half-made
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["counts"] == {"done": 2, "skipped": 0, "failed": 1}
    assert {Path(v["video"]).name: v["reason"] for v in summary["videos"]}["corrupt.mp4"] == reason
    assert "failed" in report.format_table() and reason in report.format_table()

    # The arrays are those of `annotator track` on this machine (its own process pool).
    (local,) = track_videos([corpus / "a.mp4"], out_dir=tmp_path / "local", pose=False, workers=2,
                            progress=False, chunk_frames=CHUNK)
    assert_identical(out / "a.annot" / "tracks.zarr", local.tracks_path)

    stamps = {p: p.stat().st_mtime_ns for p in (out / "a.annot" / "tracks.zarr").rglob("*") if p.is_file()}
    again = run_batch([corpus], out, client=client, pose=False, chunk_frames=CHUNK, progress=False)
    assert sorted((Path(o.video).name, o.status) for o in again.outcomes) == [
        ("a.mp4", "skipped"), ("b.mp4", "skipped"), ("corrupt.mp4", "failed")]
    assert again.frames_tracked == 0
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}  # not a byte rewritten


def _suspicious(client, keys) -> dict:
    def read(dask_scheduler, keys=keys):
        return {k: dask_scheduler.tasks[k].suspicious for k in keys if k in dask_scheduler.tasks}

    return client.run_on_scheduler(read)


def test_a_killed_worker_has_its_blocks_retried_and_the_result_is_identical(client, tmp_path):
    video = write_video(tmp_path / "long.mp4", face_frames(96))  # 6 blocks
    result = {}
    runner = threading.Thread(target=lambda: result.update(report=run_batch(
        [video], tmp_path / "out", client=client, chunk_frames=CHUNK, progress=False)))
    runner.start()
    victim, keys = None, []
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and runner.is_alive():
        for addr, running in client.processing().items():
            if running:
                victim, keys = addr, list(running)
                break
        else:
            time.sleep(0.01)
    assert victim is not None, "the batch finished before a worker could be killed"
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    rescheduled = {}
    while time.monotonic() < deadline and not any(rescheduled.values()):
        rescheduled = _suspicious(client, keys)
        time.sleep(0.05)
    runner.join(timeout=180)
    assert any(v >= 1 for v in rescheduled.values()), f"no task of the dead worker was rescheduled: {rescheduled}"
    (outcome,) = result["report"].outcomes
    assert outcome.status == "done", outcome.reason
    (local,) = track_videos([video], out_dir=tmp_path / "local", workers=2, progress=False, chunk_frames=CHUNK)
    assert_identical(tmp_path / "out" / "long.annot" / "tracks.zarr", local.tracks_path)
    client.wait_for_workers(2, timeout=60)  # the nanny brought it back


def test_cli_bad_outdir_is_one_line_and_writes_nothing(corpus, tmp_path):
    done = run_cli("batch", str(corpus), "-o", "memory://out", "-q")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("annotator: error: memory://out:") and "\n" not in done.stderr.strip()
    assert "vanish" in done.stderr
    done = run_cli("batch", str(tmp_path / "nothing-here"), "-o", str(tmp_path / "out"), "-q")
    assert done.returncode == 2 and "no such file or folder" in done.stderr and not (tmp_path / "out").exists()
    done = run_cli("batch", str(corpus), "-q")  # not a project: -o is needed
    assert done.returncode == 2 and done.stderr.strip() == "annotator: error: -o OUTDIR is needed for inputs that are not projects"


def test_cli_runs_on_its_own_local_cluster(corpus, tmp_path):
    out = tmp_path / "out"
    done = run_cli("batch", str(corpus / "more"), "-o", f"file://{out}", "--workers", "2", "--no-pose", "--propose",
                   env=cli_env(ANNOTATOR_CHUNK_FRAMES=str(CHUNK)), timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "dashboard http" in done.stderr
    # The workers' MediaPipe/TFLite log lines do not reach the user's terminal.
    native = [line for line in done.stderr.splitlines() if is_noise(line.encode())]
    assert not native, native[:5]
    assert "1 videos: 1 done, 0 skipped, 0 failed" in done.stdout
    assert tracks_complete(out / "b.annot") and (out / "b.annot" / "labels" / "auto.json").is_file()


def _remote_arrays(url: str) -> dict[str, np.ndarray]:
    import zarr
    from zarr.storage import FsspecStore

    group = zarr.open_group(store=FsspecStore.from_url(url, read_only=True), mode="r")
    return {name: np.asarray(group[name][:]) for name in ["time", "face/present", "face/landmarks", "face/blendshapes", "face/matrix"]}


def test_outdir_on_an_fsspec_memory_store(client, corpus, tmp_path, monkeypatch):
    """Sessions published to memory:// (the workers only compute, so a 2-process cluster is fine)."""
    import fsspec

    monkeypatch.setenv("ANNOTATOR_CACHE", str(tmp_path / "cache"))
    fs = fsspec.filesystem("memory")
    url = "memory://bucket/batch-test"
    report = run_batch([corpus / "a.mp4"], url, client=client, pose=False, chunk_frames=CHUNK, progress=False)
    (outcome,) = report.outcomes
    assert outcome.status == "done" and outcome.session == f"{url}/a.annot", outcome.reason
    meta = json.loads(fs.cat_file("/bucket/batch-test/a.annot/session.json"))
    assert Path(meta["video"]["path"]) == (corpus / "a.mp4").resolve()  # absolute: the store is not beside it
    summary = json.loads(fs.cat_file("/bucket/batch-test/batch-summary.json"))
    assert summary["counts"] == {"done": 1, "skipped": 0, "failed": 0}
    # session.json, the marker of a finished session, was put after every other object of it.
    created = {p: fs.info(p)["created"] for p in fs.find("/bucket/batch-test/a.annot")}
    marker = created.pop("/bucket/batch-test/a.annot/session.json")
    assert created and all(t <= marker for t in created.values())
    assert not (resolve_outdir(url).staging() / "a.annot").exists()  # staging removed once published

    (local,) = track_videos([corpus / "a.mp4"], out_dir=tmp_path / "local", pose=False, workers=2,
                            progress=False, chunk_frames=CHUNK)
    mine, theirs = _remote_arrays(f"{url}/a.annot/tracks.zarr"), _remote_arrays(f"file://{local.tracks_path}")
    for name in mine:
        assert np.array_equal(mine[name], theirs[name], equal_nan=mine[name].dtype.kind == "f"), name

    again = run_batch([corpus / "a.mp4"], url, client=client, pose=False, chunk_frames=CHUNK, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped"] and again.frames_tracked == 0
    assert {p: fs.info(p)["created"] for p in fs.find("/bucket/batch-test/a.annot")} == {
        **created, "/bucket/batch-test/a.annot/session.json": marker}  # not an object rewritten

    # Proposals asked for later: the published tracks come back, only the labels go up.
    later = run_batch([corpus / "a.mp4"], url, client=client, propose=True, pose=False, chunk_frames=CHUNK, progress=False)
    assert [o.status for o in later.outcomes] == ["done"], later.outcomes[0].reason
    assert fs.exists("/bucket/batch-test/a.annot/labels/auto.json")
    now = {p: fs.info(p)["created"] for p in fs.find("/bucket/batch-test/a.annot/tracks.zarr")}
    assert now == {p: t for p, t in created.items() if "/tracks.zarr/" in p}  # tracks untouched
    assert not (resolve_outdir(url).staging() / "a.annot").exists()
    fs.rm("/bucket/batch-test", recursive=True)


def test_a_project_is_tracked_into_its_own_sessions(client, tmp_path):
    from annotator.project import Project

    videos = tmp_path / "videos"
    (videos / "day2").mkdir(parents=True)
    one = write_video(videos / "p1.mp4", face_frames(32))
    two = write_video(videos / "day2" / "p2.mp4", face_frames(16))
    project = Project.init(tmp_path / "study")
    with Project.edit(project.root) as p:
        p.add_video(one, subject="s1")
        p.add_video(two, subject="s2")
    report = run_batch([project.root], None, client=client, pose=False, chunk_frames=CHUNK, progress=False)
    assert sorted((Path(o.video).name, o.status) for o in report.outcomes) == [("p1.mp4", "done"), ("p2.mp4", "done")]
    for entry in Project.open(project.root).sessions:
        assert tracks_complete(entry.session), entry.session  # where project.json says, beside each video
    assert {Path(o.session) for o in report.outcomes} == {videos / "p1.annot", videos / "day2" / "p2.annot"}
    assert json.loads((project.root / "batch-summary.json").read_text())["counts"]["done"] == 2
    # With -o, OUTDIR gets the summary only; the project's sessions are skipped as complete.
    again = run_batch([project.root], tmp_path / "out", client=client, pose=False, chunk_frames=CHUNK, progress=False)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["batch-summary.json"]


def test_native_log_filter_keeps_errors_and_drops_mediapipe_noise():
    noise = [
        b"I0000 00:00:1764588000.123456   12345 gl_context.cc:369] GL version: 2.1 (2.1 Metal - 76.3), renderer: Apple M1",
        b"W0000 00:00:1764588000.223456   12346 inference_feedback_manager.cc:114] Feedback manager requires a model with a single signature inference.",
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    ]
    kept = [
        b"E0000 00:00:1764588000.323456   12347 calculator_graph.cc:887] INVALID_ARGUMENT: a real error",
        b"Traceback (most recent call last):",
        b"2026-12-01 11:22:33,444 - distributed.worker - ERROR - Worker stream died",
        b"MemoryError",
    ]
    assert all(is_noise(line) for line in noise)
    assert not any(is_noise(line) for line in kept)
