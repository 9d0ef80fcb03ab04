"""Fault injection for sessions on disk: locks, the video behind a session, damaged stores, crashes.

Each case breaks something for real (a SIGKILL, a full tmpfs, a deleted chunk, a
second process) and then checks that nothing was lost: a coder's labels are
byte-identical, and the store either resumes to the arrays of an uninterrupted
run or is reported damaged in one line.  The videos are tiny (48 frames of the
astronaut, 16-frame blocks) so the real MediaPipe runs stay short.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from annotator import cli
from annotator.errors import LockedError, SessionError
from annotator.locks import SessionLock, holder, lock_path
from annotator.session import Session
from annotator.tracking.store import load_tracks, tracks_complete, verify_tracks
from tests.test_tracking import assert_same_tracks, cli_env, face_frames, run_cli, write_video

CHUNK = 16
FRAMES = 48


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("faults_video") / "clip.mp4", face_frames(FRAMES))


@pytest.fixture(scope="module")
def reference(video, tmp_path_factory) -> Session:
    """The video tracked once, uninterrupted: what every recovered store must equal."""
    out = tmp_path_factory.mktemp("faults_ref")
    result = run_cli("track", str(video), "-o", str(out), "--workers", "1", "-q", env=_env())
    assert result.returncode == 0, result.stderr
    return Session.open(out / "clip.annot")


def _env(**extra) -> dict:
    return cli_env(**{"ANNOTATOR_CHUNK_FRAMES": str(CHUNK), "ANNOTATOR_LOCK_TIMEOUT": "0.5", **extra})


def _copy_session(reference: Session, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the reference session beside a copy of its video; returns (video, session dir)."""
    video = tmp_path / "clip.mp4"
    shutil.copyfile(reference.video_path, video)
    root = tmp_path / "clip.annot"
    shutil.copytree(reference.root, root, ignore=shutil.ignore_patterns(".*.lock*"))
    meta = json.loads((root / "session.json").read_text())
    meta["video"]["path"] = os.path.relpath(video, root)
    (root / "session.json").write_text(json.dumps(meta))
    return video, root


def _write_coder_labels(root: Path) -> bytes:
    """Give alice a labels file through the editor; returns its bytes."""
    from annotator.labels.editor import open_editor

    editor = open_editor(Session.open(root), "alice")
    editor.new_segment(5, length=4, emotion="joy")
    editor.close()
    return (root / "labels" / "alice.json").read_bytes()


def _one_line_error(stderr: str, *needles: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if not ln.startswith("annotator: warning")]
    assert lines, "no error line"
    assert "Traceback" not in stderr, stderr
    assert all(ln.startswith("annotator: error: ") for ln in lines), stderr
    for needle in needles:
        assert needle in stderr, stderr
    return lines[0]


# -- locks -------------------------------------------------------------------------------------------
def test_a_second_holder_waits_then_is_told_who_holds_the_lock(tmp_path):
    root = tmp_path / "s.annot"
    with SessionLock(root, "track", timeout=0.2) as first:
        info = holder(first.path)
        assert info["pid"] == os.getpid() and info["host"] and info["command"] and info["started"]
        started = time.monotonic()
        with pytest.raises(LockedError) as err:
            SessionLock(root, "track", timeout=0.3).acquire()
        assert time.monotonic() - started >= 0.3
        message = str(err.value)
        assert "\n" not in message and f"pid {os.getpid()}" in message and "busy" in message
        # Another job of the same session is a different lock.
        with SessionLock(root, "propose", timeout=0.2):
            pass
    # A folder made only to hold the lock is not left behind.
    assert not root.exists()


def test_the_lock_of_a_killed_process_is_free_at_once(tmp_path):
    root = tmp_path / "s.annot"
    root.mkdir()
    code = textwrap.dedent(f"""
        import sys, time
        from annotator.locks import SessionLock
        held = SessionLock({str(root)!r}, "track", timeout=0).acquire()  # kept: a dropped lock is released
        print("held", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"pid {proc.pid}"):
            SessionLock(root, "track", timeout=0.1).acquire()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # Its .info sidecar is still there, but the OS lock died with it.
        assert holder(lock_path(root, "track"))["pid"] == proc.pid
        with SessionLock(root, "track", timeout=2) as lock:
            assert holder(lock.path)["pid"] == os.getpid()
    finally:
        proc.kill()
        proc.wait()


def test_two_editors_for_one_coder_cannot_both_write(reference, tmp_path):
    from annotator.labels.editor import open_editor

    _, root = _copy_session(reference, tmp_path)
    saved = _write_coder_labels(root)
    session = Session.open(root)
    first = open_editor(session, "alice")
    with pytest.raises(LockedError) as err:
        open_editor(session, "alice")
    assert "alice" in str(err.value) and f"pid {os.getpid()}" in str(err.value)
    assert (root / "labels" / "alice.json").read_bytes() == saved
    bob = open_editor(session, "bob")  # another coder's file is another lock
    bob.close()
    first.close()
    second = open_editor(session, "alice")
    assert [s.emotion for s in second.labels.segments] == ["joy"]
    second.close()


def test_propose_while_tracking_holds_the_session_is_one_line(reference, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_LOCK_TIMEOUT", "0.2")
    _, root = _copy_session(reference, tmp_path)
    with SessionLock(root, "track"):
        assert cli.main(["propose", str(root)]) == 2
    err = capsys.readouterr().err
    assert _one_line_error(err, "busy", "tracks are being written")
    assert not (root / "labels" / "auto.json").exists()


@pytest.mark.slow
def test_concurrent_track_runs_on_a_fresh_session(video, reference, tmp_path):
    """Three runs at once: one tracks, one waits and finds the work done, one gives up and names the holder."""
    shutil.copyfile(video, tmp_path / "clip.mp4")
    target = tmp_path / "clip.mp4"
    cmd = [sys.executable, "-m", "annotator", "track", str(target), "--workers", "1", "-q"]
    patient = _env(ANNOTATOR_LOCK_TIMEOUT="120")
    procs = [subprocess.Popen(cmd, env=patient, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    # The impatient one starts once the lock is taken.
    lock = lock_path(tmp_path / "clip.annot", "track")
    deadline = time.monotonic() + 60
    while not Path(f"{lock}.info").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    impatient = subprocess.run(cmd, env=_env(ANNOTATOR_LOCK_TIMEOUT="0.2"), capture_output=True, text=True)
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0], [r[1] for r in results]
    assert impatient.returncode in (0, 2)
    if impatient.returncode == 2:  # it ran while a holder tracked
        _one_line_error(impatient.stderr, "busy", "pid ")
    store = tmp_path / "clip.annot" / "tracks.zarr"
    assert tracks_complete(store)
    assert verify_tracks(store) == []
    assert_same_tracks(store, reference.tracks_path)


# -- the video behind a session --------------------------------------------------------------------
def test_resume_refuses_a_changed_video_behind_the_session(video, tmp_path):
    """The file named on the command line matches; the one session.json names (and decodes) does not."""
    original, moved = tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"
    original.parent.mkdir()
    moved.parent.mkdir()
    shutil.copyfile(video, original)
    shutil.copyfile(video, moved)
    out = tmp_path / "out"
    Session.create(original, out / "clip.annot")
    write_video(original, face_frames(FRAMES + 3))  # another video now sits at session.json's path
    result = run_cli("track", str(moved), "-o", str(out), "--workers", "1", "-q", env=_env())
    assert result.returncode == 2
    _one_line_error(result.stderr, str(original.resolve()), "has changed")
    assert not tracks_complete(out / "clip.annot")


# -- damaged stores --------------------------------------------------------------------------------
def _chunk(root: Path, array: str, block: int) -> Path:
    tail = {"time": "", "face/present": "", "face/landmarks": "/0/0", "face/blendshapes": "/0",
            "face/matrix": "/0/0", "pose/landmarks": "/0/0"}[array]
    return root / "tracks.zarr" / array / "c" / f"{block}{tail}"


def _delete_chunk(root):
    _chunk(root, "face/landmarks", 1).unlink()


def _corrupt_chunk(root):
    path = _chunk(root, "face/blendshapes", 2)
    data = bytearray(path.read_bytes())
    data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)
    path.write_bytes(bytes(data))


def _rewrite_block(root):
    # valid chunks with other values (a tool that "fixed" the tracks): only the checksum can tell
    import zarr

    arr = zarr.open_array(str(root / "tracks.zarr" / "face" / "landmarks"), mode="r+")
    arr[16:32] = arr[16:32] + 1.0


def _garble_array_metadata(root):
    (root / "tracks.zarr" / "face" / "matrix" / "zarr.json").write_text("{ not json")


def _delete_array(root):
    shutil.rmtree(root / "tracks.zarr" / "pose" / "landmarks")


def _delete_marker(root):
    (root / "tracks.zarr" / "blocks_done" / "c" / "0").unlink()


def _strip_attributes(root):
    meta_path = root / "tracks.zarr" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"] = {}
    meta_path.write_text(json.dumps(meta))


def _garble_group_metadata(root):
    (root / "tracks.zarr" / "zarr.json").write_bytes(b"\x00garbage")


# name -> (damage, what verify names, does `track` repair it in place)
DAMAGE = {
    "deleted_chunk": (_delete_chunk, "block 1 (frames 16-31) damaged: face/landmarks chunk missing", True),
    "corrupt_chunk": (_corrupt_chunk, "block 2 (frames 32-47) damaged: face/blendshapes", True),
    "rewritten_block": (_rewrite_block, "block 1 (frames 16-31) damaged: face/landmarks differs from its checksum", True),
    "garbled_array_metadata": (_garble_array_metadata, "array face/matrix is missing or unreadable", True),
    "deleted_array": (_delete_array, "array pose/landmarks is missing or unreadable", True),
    "deleted_marker": (_delete_marker, "block 0 (frames 0-15) damaged: not marked written", True),
    "stripped_attributes": (_strip_attributes, "not an annotator tracks store", False),
    "garbled_group_metadata": (_garble_group_metadata, "unreadable tracks store", False),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_store_is_reported_refused_and_repaired(kind, reference, tmp_path, capsys):
    damage, named, repairable = DAMAGE[kind]
    video, root = _copy_session(reference, tmp_path)
    labels = _write_coder_labels(root)
    assert cli.main(["verify", str(root)]) == 0
    capsys.readouterr()
    damage(root)

    assert cli.main(["verify", str(root)]) == 2
    err = capsys.readouterr().err
    first = _one_line_error(err, named)
    if repairable:
        assert "rerun `annotator track` to" in first
    # Readers refuse it in one line instead of handing out NaN.
    with pytest.raises(SessionError) as refused:
        load_tracks(root).face_landmarks, load_tracks(root).face_blendshapes
    assert "\n" not in str(refused.value)
    assert cli.main(["propose", str(root)]) == 2
    _one_line_error(capsys.readouterr().err)
    assert not (root / "labels" / "auto.json").exists()

    result = run_cli("track", str(video), "--workers", "1", "-q", env=_env())
    if repairable:
        assert result.returncode == 0, result.stderr
        assert "annotator: warning:" in result.stderr and "Traceback" not in result.stderr
        assert verify_tracks(root) == []
        assert_same_tracks(root / "tracks.zarr", reference.tracks_path)
    else:
        assert result.returncode == 2
        _one_line_error(result.stderr, "delete it")
    assert (root / "labels" / "alice.json").read_bytes() == labels


def test_info_says_damaged_rather_than_complete(reference, tmp_path, capsys):
    _, root = _copy_session(reference, tmp_path)
    _delete_chunk(root)
    assert cli.main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "damaged" in out and "face/landmarks chunk missing" in out


# -- crashes -----------------------------------------------------------------------------------------
#: Runs ``annotator`` in a process that SIGKILLs itself right after its Nth zarr array write:
#: an exact moment inside a block (between two arrays, between the arrays and the checksums,
#: between the checksums and the marker), which polling from outside cannot hit.
KILL_AFTER_WRITES = textwrap.dedent("""
    import os, signal, sys
    import zarr
    limit = int(os.environ["KILL_AFTER_WRITES"])
    count = [0]
    original = zarr.Array.__setitem__
    def counting(self, key, value):
        original(self, key, value)
        count[0] += 1
        if count[0] >= limit:
            os.kill(os.getpid(), signal.SIGKILL)
    zarr.Array.__setitem__ = counting
    from annotator.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_sigkill_of_the_parent_inside_blocks_resumes_to_identical_arrays(video, reference, tmp_path):
    target = tmp_path / "clip.mp4"
    shutil.copyfile(video, target)
    root = tmp_path / "clip.annot"
    # Writes per new store: time, then per block 6 arrays + checksums + marker.  Kill points
    # chosen to land mid-block (after 2 arrays of block 0), just before a marker, and inside
    # block 2 after a resume, at random offsets within those ranges.
    rng = np.random.default_rng(16)
    kills = [1 + int(rng.integers(1, 6)), 1 + 8 - 1, int(rng.integers(2, 7))]
    for n in kills:
        proc = subprocess.run([sys.executable, "-c", KILL_AFTER_WRITES, "track", str(target), "--workers", "1", "-q"],
                              env=_env(KILL_AFTER_WRITES=str(n)), capture_output=True, text=True, timeout=300)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert not tracks_complete(root)
    result = run_cli("track", str(target), "--workers", "1", "-q", env=_env())
    assert result.returncode == 0, result.stderr
    assert verify_tracks(root) == []
    assert_same_tracks(root / "tracks.zarr", reference.tracks_path)


@pytest.mark.slow
def test_a_worker_killed_like_the_oom_killer_is_one_line_and_resumable(video, reference, tmp_path):
    import psutil
    import zarr

    target = tmp_path / "clip.mp4"
    shutil.copyfile(video, target)
    root = tmp_path / "clip.annot"
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "track", str(target), "--workers", "1", "-q"],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and not killed:
        try:
            done = int(np.asarray(zarr.open_group(str(root / "tracks.zarr"), mode="r")["blocks_done"][:]).sum())
        except Exception:  # noqa: BLE001 - not made yet
            done = 0
        # Tracking workers, not multiprocessing's resource tracker (also a child).
        try:
            workers = [c for c in psutil.Process(proc.pid).children(recursive=True)
                       if any("spawn_main" in part for part in c.cmdline())]
        except psutil.Error:
            workers = []
        if done >= 1 and workers:  # mid-block: a worker is tracking block 1 or 2 now
            workers[0].send_signal(signal.SIGKILL)
            killed = True
        time.sleep(0.01)
    out, err = proc.communicate(timeout=120)
    assert killed, "the run finished before a worker could be killed"
    assert proc.returncode == 2, err
    _one_line_error(err, "killed", "resume")
    result = run_cli("track", str(target), "--workers", "1", "-q", env=_env())
    assert result.returncode == 0, result.stderr
    assert_same_tracks(root / "tracks.zarr", reference.tracks_path)


# -- the file system says no ---------------------------------------------------------------------------
def _mount_tmpfs(path: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.slow
def test_a_full_disk_loses_nothing_and_resumes_once_there_is_room(reference, tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "4m")
    try:
        _, root = _copy_session(reference, disk)
        video = disk / "clip.mp4"
        labels = _write_coder_labels(root)
        shutil.rmtree(root / "tracks.zarr")
        # Fill the disk so the new store runs out of room part-way.
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(0, free - 120_000))
        result = run_cli("track", str(video), "--workers", "1", "-q", env=_env())
        assert result.returncode != 0, "the run should have run out of room"
        assert (root / "labels" / "alice.json").read_bytes() == labels
        assert not tracks_complete(root)
        (disk / "filler").unlink()
        result = run_cli("track", str(video), "--workers", "1", "-q", env=_env())
        assert result.returncode == 0, result.stderr
        assert verify_tracks(root) == []
        assert_same_tracks(root / "tracks.zarr", reference.tracks_path)
        assert (root / "labels" / "alice.json").read_bytes() == labels
    finally:
        _umount(disk)


def test_a_disk_that_fills_in_the_proxys_second_pass_keeps_the_first(video_files, tmp_path, monkeypatch):
    """Room for the MagicYUV proxy but not for the FFV1 pass after it: the build still
    succeeds, the MagicYUV proxy is used and exact, and nothing of the FFV1 pass is left."""
    from annotator.media import open_video, proxy
    from annotator.media.proxy import BIN_NAME, INDEX_NAME, FramePack

    spec = video_files["h264_cfr_mp4"]
    with open_video(spec.path, proxy=False) as v:  # the two formats' sizes, built elsewhere
        n, shape = len(v), v.frame_shape
        size = {}
        for fmt in ("magicyuv", "ffv1"):
            frames = (item[1:] for item in v._decode_run(0, n, raw=True))
            size[fmt] = proxy.write_pack(tmp_path / fmt, frames, n, shape, fmt=fmt).stat().st_size
        reference = [v[i] for i in range(n)]
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "8m")
    try:
        monkeypatch.setenv("ANNOTATOR_CACHE", str(disk / "cache"))
        monkeypatch.setattr(proxy, "TARGET_RATIO", 1000.0)  # the second pass always runs
        with open_video(spec.path, proxy=False) as v:
            v.proxy_path.parent.mkdir(parents=True)
            free = shutil.disk_usage(disk).free
            (disk / "filler").write_bytes(b"\0" * (free - size["magicyuv"] - size["ffv1"] // 2 - 64 * 1024))
            path = v.build_proxy()  # no error: the first proxy is complete
        assert sorted(p.name for p in path.parent.iterdir()) == [BIN_NAME, INDEX_NAME, "source"]
        pack = FramePack.open(path.parent, n, shape)
        assert pack.format == "magicyuv"
        for i in np.random.default_rng(0).permutation(n):
            assert np.array_equal(pack.read(int(i)), reference[int(i)])
        pack.close()
    finally:
        _umount(disk)


def test_a_read_only_session_is_one_line_and_untouched(reference, tmp_path):
    _, root = _copy_session(reference, tmp_path)
    labels = _write_coder_labels(root)
    if os.geteuid() == 0:
        # Root ignores file modes: make the folder really read-only with a read-only bind mount.
        if subprocess.run(["mount", "--bind", "-o", "ro", str(root), str(root)], capture_output=True).returncode:
            pytest.skip("cannot bind-mount read-only here")
        undo = lambda: subprocess.run(["umount", "-l", str(root)], check=False)  # noqa: E731
    else:
        for d in (root, root / "labels"):
            d.chmod(0o555)
        undo = lambda: [d.chmod(0o755) for d in (root, root / "labels")]  # noqa: E731
    try:
        result = run_cli("propose", str(root), env=_env())
        assert result.returncode == 2
        _one_line_error(result.stderr, str(root))
        verified = run_cli("verify", str(root), env=_env())  # readers need no lock file
        assert verified.returncode == 0, verified.stderr
    finally:
        undo()
    assert (root / "labels" / "alice.json").read_bytes() == labels
    assert not (root / "labels" / "auto.json").exists()
