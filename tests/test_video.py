"""annotator.media: frame-exact access, metadata, proxy and errors, on every fixture video.

"Exact" means equal to the frames of a plain sequential PyAV decode converted with
the same RGB conversion (which the tests also check against ``to_ndarray``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import re
import shutil

import av
import numpy as np
import pytest

from annotator.errors import VideoError
from annotator.media import VideoSource, open_video
from annotator.media import decoder as decoder_mod
from annotator.media import index as index_mod
from annotator.media import probe as probe_mod
from annotator.media.proxy import BIN_NAME, INDEX_NAME, FramePack
from tests.fixtures import videos as fx
from tests.fixtures.indexing import assert_indexes_like, keys_for

NAMES = [
    "h264_cfr_mp4",
    "h264_vfr_mp4",
    "h264_rot90_mp4",
    "h264_rot270_mp4",
    "hevc_mov",
    "hevc_mkv",
    "hevc10_mp4",
    "h264_opengop_mkv",
    "vp9_webm",
    "h264_avi",
    "mpeg4_avi",
    "h264_editlist_mp4",
]


_REFERENCE: dict[str, tuple[list[np.ndarray], int]] = {}


def reference(spec: fx.VideoSpec) -> tuple[list[np.ndarray], int]:
    """Unrotated RGB frames of a plain sequential decode, and the display rotation."""
    key = os.fspath(spec.path)
    if key not in _REFERENCE:
        frames, rotation = [], None
        with av.open(key) as c:
            for frame in c.decode(c.streams.video[0]):
                rgb = frame.reformat(format="rgb24", threads=2).to_ndarray()
                # The threaded conversion used everywhere must equal PyAV's default one.
                assert np.array_equal(rgb, frame.to_ndarray(format="rgb24"))
                frames.append(rgb)
                if rotation is None:
                    rotation = frame.rotation or 0
        _REFERENCE[key] = (frames, rotation)
    return _REFERENCE[key]


def upright_reference(spec: fx.VideoSpec) -> list[np.ndarray]:
    frames, r = reference(spec)
    # av_display_rotation_get's r: rotate r degrees counter-clockwise to show upright.
    k = round(r / 90) % 4
    return [np.rot90(f, k=k) for f in frames]


@pytest.fixture(scope="module")
def proxied(video_files) -> dict[str, VideoSource]:
    """One source per fixture, its proxy built once for the module."""
    out = {name: open_video(spec.path, proxy=True) for name, spec in video_files.items()}
    yield out
    for v in out.values():
        v.close()


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize("name", NAMES)
def test_metadata(video_files, name):
    spec = video_files[name]
    with open_video(spec.path, proxy=False) as v:
        frames, _ = reference(spec)
        assert len(v) == len(frames) == len(spec.numbers)
        assert v.shape == (len(v), spec.height, spec.width, 3)
        assert (v.width, v.height, v.rotation) == (spec.width, spec.height, spec.rotation)
        assert v.dtype == np.uint8 and v.ndim == 4 and v.size == int(np.prod(v.shape))
        assert v.codec == spec.codec
        assert v.timestamps.dtype == np.float64
        # Matroska/WebM store milliseconds, so allow half a millisecond.
        np.testing.assert_allclose(v.timestamps, spec.timestamps, atol=6e-4, rtol=0)
        if name == "h264_vfr_mp4":
            # The average rate of the irregular times, not the nominal 30.
            assert v.fps == pytest.approx((len(v)) / (v.timestamps[-1] + 1 / v.fps), rel=0.05)
        else:
            assert v.fps == pytest.approx(spec.fps)


def test_vfr_timestamps_are_the_written_pts(video_files):
    spec = video_files["h264_vfr_mp4"]
    with open_video(spec.path, proxy=False) as v:
        written = np.asarray(fx.vfr_pts(len(v)), np.float64) / 90000
        np.testing.assert_array_equal(np.round(v.timestamps * 90000), np.round(written * 90000))
        assert np.ptp(np.diff(v.timestamps)) > 0.01  # really irregular


def test_edit_list_drops_leading_frames(video_files):
    """The patched edit list makes FFmpeg's own sequential decode drop frames 0-4."""
    spec = video_files["h264_editlist_mp4"]
    frames, _ = reference(spec)
    assert [fx.read_frame_number(f) for f in frames[:2]] == [5, 6]
    with av.open(os.fspath(spec.path)) as c:
        flags = [p.is_discard for p in c.demux(c.streams.video[0]) if p.size]
    assert sum(flags) == 5
    with open_video(spec.path, proxy=False) as v:
        assert len(v) == 55 and fx.read_frame_number(v[0]) == 5


def test_sha256(video_files):
    spec = video_files["h264_cfr_mp4"]
    with open_video(spec.path) as v:
        assert v.sha256 == hashlib.sha256(spec.path.read_bytes()).hexdigest()


def test_sha256_is_kept_until_the_file_changes(video_files, tmp_path, monkeypatch):
    from annotator.media import video as video_mod

    spec = _fresh_copy(video_files["h264_cfr_mp4"], tmp_path)
    expected = hashlib.sha256(spec.path.read_bytes()).hexdigest()
    with open_video(spec.path) as v:
        assert v.sha256 == expected
    hashed = []
    monkeypatch.setattr(video_mod, "sha256_file", lambda p: hashed.append(p) or "0" * 64)
    with open_video(spec.path) as v:
        assert v.sha256 == expected and hashed == []  # read from the cache
    with open(spec.path, "ab") as fh:  # a changed file has a new cache key
        fh.write(b"\0")
    with open_video(spec.path) as v:
        assert v.sha256 == "0" * 64 and len(hashed) == 1


def test_index_is_cached(video_files, monkeypatch):
    spec = video_files["hevc_mkv"]
    open_video(spec.path, proxy=False).close()

    def fail(path):
        raise AssertionError("re-indexed a file whose index is cached")

    monkeypatch.setattr(probe_mod, "build_index", fail)
    with open_video(spec.path, proxy=False) as v:
        assert len(v) == 50


# --------------------------------------------------------------------------- exactness


def _orders(n: int) -> dict[str, list[int]]:
    rng = np.random.default_rng(n)
    return {
        "forward": list(range(n)),
        "backward": list(range(n - 1, -1, -1)),
        "random": [int(i) for i in rng.permutation(n)] + [int(i) for i in rng.integers(0, n, 20)],
    }


@pytest.mark.parametrize("use_proxy", [False, True], ids=["seek", "proxy"])
@pytest.mark.parametrize("name", NAMES)
def test_frames_are_exact_in_any_order(video_files, proxied, name, use_proxy):
    spec = video_files[name]
    ref = upright_reference(spec)
    v = proxied[name] if use_proxy else open_video(spec.path, proxy=False)
    assert v.has_proxy if use_proxy else v._pack is None
    try:
        for order, indices in _orders(len(v)).items():
            v._cache.clear()
            for i in indices:
                got = v[i]
                assert got.shape == v.frame_shape and got.dtype == np.uint8
                assert np.array_equal(got, ref[i]), f"{name} {order}: frame {i} differs"
    finally:
        if not use_proxy:
            v.close()


@pytest.mark.parametrize("use_proxy", [False, True], ids=["seek", "proxy"])
@pytest.mark.parametrize("name", NAMES)
def test_frame_numbers(video_files, proxied, name, use_proxy):
    # the numbers drawn into the frames, read back through the proxy and through the decoder
    spec = video_files[name]
    v = proxied[name] if use_proxy else open_video(spec.path, proxy=False)
    try:
        got = [fx.read_frame_number(v[i], v.rotation) for i in range(len(v))]
    finally:
        if not use_proxy:
            v.close()
    assert got == list(spec.numbers)


@pytest.mark.parametrize("name", ["h264_rot90_mp4", "h264_rot270_mp4"])
def test_rotation_is_applied_the_way_players_do(video_files, name):
    spec = video_files[name]
    frames, r = reference(spec)
    assert r % 360 == spec.rotation  # what FFmpeg's av_display_rotation_get reports
    with open_video(spec.path, proxy=False) as v:
        assert v.rotation == spec.rotation
        assert np.array_equal(v[3], np.rot90(frames[3], k=round(r / 90)))
        # The number band, drawn along the top of the coded frame, ends up on the
        # left after a counter-clockwise quarter turn and on the right after a clockwise one.
        col = v[0][:, : v.width // 10].mean(), v[0][:, -v.width // 10 :].mean()
        band_left = spec.rotation == 90
        assert (col[0] < col[1]) == band_left  # frame 0: the band is all black
    # FFmpeg's autorotate, as OpenCV applies it, shows the same upright picture.
    # OpenCV reports the clockwise "rotate" tag, i.e. -r, and rotates only when asked.
    cv2 = pytest.importorskip("cv2")
    cap = cv2.VideoCapture(os.fspath(spec.path))
    assert cap.get(cv2.CAP_PROP_ORIENTATION_META) % 360 == (-r) % 360
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    ok, bgr = cap.read()
    cap.release()
    assert ok
    rgb = bgr[..., ::-1]
    assert rgb.shape == (spec.height, spec.width, 3)
    with open_video(spec.path) as v:
        assert np.abs(rgb.astype(int) - v[0]).mean() < 3
        assert fx.read_frame_number(rgb, v.rotation) == 0


@pytest.mark.parametrize("use_proxy", [False, True], ids=["decode", "proxy"])
@pytest.mark.parametrize("name", ["h264_cfr_mp4", "hevc_mkv", "h264_avi", "h264_editlist_mp4", "h264_rot90_mp4"])
def test_iter_frames_equals_getitem(video_files, proxied, name, use_proxy):
    spec = video_files[name]
    ref = upright_reference(spec)
    v = proxied[name] if use_proxy else open_video(spec.path, proxy=False)
    try:
        n = len(v)
        # Start on a keyframe, mid-GOP, and (HEVC) on a RASL frame shown before its CRA.
        for start, stop in [(0, None), (n // 2 + 1, n - 3), (18, 25)]:
            got = list(v.iter_frames(start, stop))
            expected = list(range(n))[start:stop]
            assert [i for i, _ in got] == expected
            for i, rgb in got:
                assert np.array_equal(rgb, ref[i]) and np.array_equal(rgb, v[i])
    finally:
        if not use_proxy:
            v.close()


def test_step_back_when_the_decoder_skips_the_target(video_files):
    """Start RASL frames from their own CRA (wrong on purpose): the decoder never outputs
    them from there, so access must notice and restart one keyframe earlier."""
    spec = video_files["hevc_mov"]
    ref = upright_reference(spec)
    with open_video(spec.path, proxy=False) as v:
        ix = v._index
        # The naive choice: the last keyframe decoded before the frame's own packet.
        naive = ix.keyframes[np.searchsorted(ix.keyframes, ix.frame_pkt, "right") - 1]
        rasl = [i for i in range(len(v)) if ix.frame_start[i] != naive[i]]
        assert rasl, "the HEVC fixture should have RASL frames"
        ix.frame_start[rasl] = naive[rasl]
        for i in [*reversed(rasl), 45, *rasl]:
            v._cache.clear()
            assert np.array_equal(v[i], ref[i])


def test_seek_that_lands_late_is_retried(video_files, monkeypatch):
    """A container seek that lands after the wanted keyframe must not give a wrong frame."""
    spec = video_files["h264_cfr_mp4"]
    ref = upright_reference(spec)
    with open_video(spec.path, proxy=False) as v:
        ix = v._index
        keys = list(ix.keyframes)
        original = index_mod.VideoIndex.seek_ts

        def late(self, pkt):
            # Past the end: the container lands on the last keyframe, whatever was asked.
            return original(self, keys[-1]) + 10**6

        monkeypatch.setattr(index_mod.VideoIndex, "seek_ts", late)
        starts = []
        original_start = decoder_mod.Decoder._start

        def counted_start(self, kd):
            starts.append(kd)
            original_start(self, kd)

        monkeypatch.setattr(decoder_mod.Decoder, "_start", counted_start)
        for i in [40, 13, 59, 26, 1]:
            v._cache.clear()
            starts.clear()
            assert np.array_equal(v[i], ref[i])
            # Caught at the seek (by the packet landed on), not by decoding a wrong GOP.
            assert starts == [ix.frame_start[i]]


# --------------------------------------------------------------------------- array API


def test_napari_style_indexing(video_files, proxied):
    spec = video_files["h264_cfr_mp4"]
    ref = np.stack(upright_reference(spec))
    v = proxied["h264_cfr_mp4"]
    assert np.array_equal(v[-1], ref[-1])
    assert np.array_equal(v[np.int64(7)], ref[7])
    assert np.array_equal(v[7, ...], ref[7])
    assert np.array_equal(v[(7, slice(None), slice(None), slice(None))], ref[7])
    assert np.array_equal(v[7, 10:20, :, 1], ref[7, 10:20, :, 1])
    assert np.array_equal(v[3:9:2], ref[3:9:2])
    assert np.array_equal(v[[5, 2, 5]], ref[[5, 2, 5]])
    assert np.array_equal(v[np.array([[1, 2], [3, 4]])], ref[[[1, 2], [3, 4]]])
    mask = np.zeros(len(v), bool)
    mask[[0, 9]] = True
    assert np.array_equal(v[mask], ref[mask])
    assert np.array_equal(v[..., 0][:4], ref[..., 0][:4])
    assert v[5:5].shape == (0, *v.frame_shape)
    with pytest.raises(IndexError):
        v[len(v)]
    with pytest.raises(IndexError):
        v[-len(v) - 1]
    with pytest.raises(IndexError):
        v[1.5]
    with pytest.raises(TypeError):
        np.asarray(v)  # never decode a whole video by accident
    frame = v[3]
    with pytest.raises(ValueError):
        frame[0, 0, 0] = 1  # shared with the cache: read-only
    assert v[3:4][0].flags.writeable


def test_pickle_reopens(video_files):
    spec = video_files["vp9_webm"]
    with open_video(spec.path, proxy=False) as v:
        w = pickle.loads(pickle.dumps(v))
        assert len(w) == len(v) and np.array_equal(w[10], v[10])
        w.close()


def test_closed_source_refuses_reads(video_files):
    v = open_video(video_files["h264_cfr_mp4"].path, proxy=False)
    v[0]
    v.close()
    with pytest.raises(ValueError):
        v[1]


def test_closing_frees_the_decoder_without_the_cyclic_gc(video_files):
    """Closing releases the codec and its frames at once: a tracking worker opens a
    video per task, and a decoder kept alive by a reference cycle (about 20 MB at
    720p) piled up until Python's cyclic GC happened to run."""
    import gc
    import weakref

    v = open_video(video_files["h264_cfr_mp4"].path, proxy=False)
    list(v.iter_frames(0, 5))
    v[3]
    decoder = weakref.ref(v._decoder)
    gc.disable()
    try:
        v.close()
        assert decoder() is None
    finally:
        gc.enable()


def test_two_threads(video_files):
    spec = video_files["hevc_mkv"]
    ref = upright_reference(spec)
    with open_video(spec.path, proxy=False, cache_frames=4) as v:
        errors = fx.read_in_two_threads(v.__getitem__, v.iter_frames, ref, 40, (30, 40))
    assert errors == []



# --------------------------------------------------------------------------- proxy


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A cache of this test's own: proxies are keyed by content, so a copy alone would share one."""
    monkeypatch.setenv("ANNOTATOR_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _fresh_copy(spec: fx.VideoSpec, tmp_path) -> fx.VideoSpec:
    """The fixture under a new path, so it has no cached index yet (with ``empty_cache``, no proxy)."""
    path = tmp_path / spec.path.name
    shutil.copyfile(spec.path, path)
    return dataclasses.replace(spec, path=path)


def test_proxy_modes(video_files, tmp_path, empty_cache):
    spec = _fresh_copy(video_files["mpeg4_avi"], tmp_path)
    with open_video(spec.path) as v:  # "auto" never builds one
        assert not v.has_proxy and not v.proxy_path.exists()
    progress = []
    with open_video(spec.path, proxy=False) as v:
        path = v.build_proxy(progress=lambda done, total: progress.append((done, total)))
        assert path == v.proxy_path and path.exists()
        assert v._pack is None  # proxy=False never reads it
    # One pass per format built: MagicYUV, then FFV1 when that is smaller (this clean clip).
    passes = 2 if FramePack.open(path.parent, len(v), v.frame_shape).format == "ffv1" else 1
    assert progress == [(k, len(v)) for k in range(1, len(v) + 1)] * passes
    with open_video(spec.path) as v:
        assert v._pack is not None and v.has_proxy
    with open_video(spec.path, proxy=False) as v:
        assert v._pack is None


def test_proxy_build_is_atomic(video_files, tmp_path, empty_cache):
    spec = _fresh_copy(video_files["h264_rot270_mp4"], tmp_path)
    ref = upright_reference(spec)
    with open_video(spec.path, proxy=False) as v:
        d = v.proxy_path.parent
    d.mkdir(parents=True, exist_ok=True)  # made by the first build; here by hand, to plant leftovers
    # A temporary file left by a crashed build, and a data file with no index: ignored.
    (d / f".{BIN_NAME}.crashed.tmp").write_bytes(b"\0" * 1000)
    (d / BIN_NAME).write_bytes(b"garbage")
    with open_video(spec.path) as v:
        assert not v.has_proxy
        assert np.array_equal(v[5], ref[5])

        # A build interrupted half-way leaves no proxy and no temporary file behind.
        def stop(done, total):
            if done == total // 2:
                raise KeyboardInterrupt

        before = set(os.listdir(d))
        with pytest.raises(KeyboardInterrupt):
            v.build_proxy(progress=stop)
        assert not v.has_proxy
        assert set(os.listdir(d)) <= before
        v.build_proxy()
        assert v.has_proxy
        for i in (39, 0, 17):
            v._cache.clear()
            assert np.array_equal(v[i], ref[i])
    # An index that disagrees with the data file (e.g. a truncated copy) is ignored.
    data = (d / BIN_NAME).read_bytes()
    (d / BIN_NAME).write_bytes(data[: len(data) // 2])
    with open_video(spec.path) as v:
        assert not v.has_proxy
    (d / INDEX_NAME).unlink()
    (d / BIN_NAME).unlink()


def test_copies_of_a_video_share_one_proxy(video_files, tmp_path, empty_cache):
    """The proxy is keyed by content: a copy (new path, new mtime) finds the proxy built for the original."""
    from annotator.media.cache import clean_cache, list_cache

    spec = video_files["h264_cfr_mp4"]
    (tmp_path / "a").mkdir()
    first = _fresh_copy(spec, tmp_path / "a")
    ref = upright_reference(spec)
    with open_video(first.path, proxy=True) as v:
        built = v.proxy_path
    second = tmp_path / "b.mp4"
    shutil.copyfile(spec.path, second)
    with open_video(second) as v:
        assert v.has_proxy is False  # auto mode never hashes a new file just to look
        assert v.proxy_path == built  # this hashes it
        assert v.has_proxy  # once the hash is known, the copy reads the shared proxy
        for i in (33, 0, 59, 12):
            v._cache.clear()
            assert np.array_equal(v[i], ref[i])
    kinds = [e.kind for e in list_cache()]
    assert kinds.count("proxy") == 1 and kinds.count("index") == 2
    (entry,) = [e for e in list_cache() if e.kind == "proxy"]
    assert entry.source == os.path.realpath(first.path) and entry.size > built.stat().st_size // 2
    # Down to a size: the proxy goes first, the small indexes stay.
    index_bytes = sum(e.size for e in list_cache() if e.kind == "index")
    gone = clean_cache(max_size=index_bytes)
    assert [e.kind for e in gone] == ["proxy"] and not built.exists()
    with open_video(second) as v:
        assert not v.has_proxy and np.array_equal(v[7], ref[7])
    assert {e.kind for e in clean_cache()} == {"index"} and list_cache() == []


def test_cache_command(video_files, tmp_path, empty_cache, capsys):
    from annotator.cli import main

    spec = _fresh_copy(video_files["mpeg4_avi"], tmp_path)
    open_video(spec.path, proxy=True).close()
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("proxy") and "1 proxy and 1 index" in out and str(spec.path) in out
    assert re.search(r"\[(magicyuv|ffv1), \d+\.\d× smaller than LZ4 RGB\]", out), out
    assert main(["cache", "clean", "--max-size", "lots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("annotator: error:") and "--max-size" in err and len(err.strip().splitlines()) == 1
    assert main(["cache", "clean", "--proxies"]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    assert main(["cache", "clean"]) == 0 and "removed 1 entry" in capsys.readouterr().out


# --------------------------------------------------------------------------- bad input


def _truncate(src, dst, fraction=0.5):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.fixture(scope="module")
def bad_files(video_files, tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    files = {
        "missing": (d / "missing.mp4", "not found"),
        "empty": (d / "empty.mp4", "empty"),
        "text": (d / "notes.mp4", "not a video"),
        "random": (d / "noise.mkv", "not a video"),
        "directory": (d / "folder.mp4", "directory"),
        "audio_only": (d / "voice.m4a", "no video stream"),
        "cut_mp4_moov_at_end": (d / "cut.mp4", "truncated"),
        "cut_mp4_faststart": (d / "cut_faststart.mp4", "truncated"),
        "cut_mkv": (d / "cut.mkv", "truncated"),
        "cut_webm": (d / "cut.webm", "truncated"),
        "cut_avi": (d / "cut.avi", "truncated"),
    }
    files["empty"][0].write_bytes(b"")
    files["text"][0].write_text("this is a text file, not a video\n" * 20)
    files["random"][0].write_bytes(np.random.default_rng(0).integers(0, 256, 40_000, np.uint8).tobytes())
    files["directory"][0].mkdir()
    _write_audio(files["audio_only"][0])
    _truncate(video_files["h264_cfr_mp4"].path, files["cut_mp4_moov_at_end"][0])
    faststart = d / "faststart.mp4"
    fx._write(faststart, "libx264", 40, options=fx._X264, container_options={"movflags": "faststart"})
    _truncate(faststart, files["cut_mp4_faststart"][0])
    _truncate(video_files["hevc_mkv"].path, files["cut_mkv"][0])
    _truncate(video_files["vp9_webm"].path, files["cut_webm"][0])
    _truncate(video_files["h264_avi"].path, files["cut_avi"][0])
    return files


def _write_audio(path):
    with av.open(os.fspath(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.mark.parametrize(
    "kind",
    [
        "missing",
        "empty",
        "text",
        "random",
        "directory",
        "audio_only",
        "cut_mp4_moov_at_end",
        "cut_mp4_faststart",
        "cut_mkv",
        "cut_webm",
        "cut_avi",
    ],
)
def test_bad_input_is_a_one_line_video_error(bad_files, kind):
    path, words = bad_files[kind]
    with pytest.raises(VideoError) as err:
        open_video(path)
    message = str(err.value)
    assert path.name in message and words in message
    assert "\n" not in message and "Traceback" not in message


def test_unknown_proxy_mode(video_files):
    with pytest.raises(ValueError):
        open_video(video_files["h264_cfr_mp4"].path, proxy="always")


# --------------------------------------------------------------------------- numpy semantics


def test_issue_16_keys_that_used_to_return_wrong_data(video_files, proxied):
    v = proxied["h264_cfr_mp4"]
    ref = np.stack(upright_reference(video_files["h264_cfr_mp4"]))
    assert v[2:4, :10, :10].shape == (2, 10, 10, 3)
    assert np.array_equal(v[2:4, :10, :10], ref[2:4, :10, :10])
    assert np.array_equal(v[2:4, 0], ref[2:4, 0])  # row 0 of frames 2 and 3, not frame 2
    assert v[:, 0, 0].shape == (len(v), 3)
    assert np.array_equal(v[:, 0, 0], ref[:, 0, 0])
    for key in (True, False, np.bool_(True), (True, 0), (0, np.True_)):
        with pytest.raises(IndexError, match="boolean scalar"):
            v[key]


def test_indexing_matches_numpy(video_files):
    from hypothesis import HealthCheck, given, settings

    spec = video_files["h264_cfr_mp4"]
    ref = np.stack(upright_reference(spec))
    # Every frame fits the cache, so the examples test indexing, not decoding speed.
    v = open_video(spec.path, proxy=False, cache_frames=len(ref))
    assert v.shape == ref.shape

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(keys_for(ref.shape))
    def check(key):
        assert_indexes_like(v, ref, key)

    with v:
        # found by hypothesis: advanced indices that broadcast to nothing select nothing, unchecked
        assert_indexes_like(v, ref, (np.array([len(ref)]), np.array([], dtype=np.int64)))
        check()
