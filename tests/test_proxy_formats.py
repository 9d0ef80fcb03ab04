"""The proxy's formats: MagicYUV by default, FFV1 when MagicYUV misses the size goal and
FFV1 does not, either (and lossless H.264) on request, LZ4 RGB for frames they cannot
hold and for proxies written before; every one exact.

"Exact" is against the plain PyAV decode of ``tests/test_video.py`` (its reference),
in a random order, so each read decodes one coded frame with no help from the last.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import av
import numpy as np
import pytest

from annotator.media import open_video, proxy
from annotator.media.proxy import (
    BIN_NAME,
    CODECS,
    FORMATS,
    INDEX_NAME,
    LZ4,
    SAMPLE_EVERY,
    FramePack,
    NotExact,
    SizeEstimate,
    read_packet,
    replace_pack,
    write_pack,
)
from tests.fixtures.videos import read_in_two_threads
from tests.test_video import _fresh_copy, empty_cache, upright_reference  # noqa: F401 (a fixture)

# Proxies are keyed by content: each test builds in a cache of its own.
pytestmark = pytest.mark.usefixtures("empty_cache")


def _build(spec, fmt=None):
    with open_video(spec.path, proxy=False) as v:
        if fmt is None:
            v.build_proxy()
        else:
            v.build_proxy(proxy_format=fmt)
        return v.proxy_path


def _assert_exact(v, ref, seed=0):
    assert v._pack is not None
    for i in np.random.default_rng(seed).permutation(len(v)):
        assert np.array_equal(v._pack.read(int(i)), ref[int(i)]), f"frame {i}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["h264_rot90_mp4", "hevc_mov", "vp9_webm", "h264_vfr_mp4"])
def test_every_format_is_exact_in_random_order(video_files, tmp_path, name, fmt):
    spec = _fresh_copy(video_files[name], tmp_path)
    _build(spec, fmt)
    with open_video(spec.path) as v:  # "auto": the proxy built above
        assert v._pack.format == fmt
        _assert_exact(v, upright_reference(spec))


def test_default_is_magicyuv_and_smaller_than_lz4(video_files, tmp_path, monkeypatch):
    monkeypatch.setattr(proxy, "TARGET_RATIO", 1.0)  # met: no second pass
    spec = _fresh_copy(video_files["h264_cfr_mp4"], tmp_path)
    lz4_size = _build(spec, LZ4).stat().st_size
    path = _build(spec)
    with open_video(spec.path) as v:
        assert v._pack.format == "magicyuv" and v._pack.meta.pix_fmt == "yuv420p"
        raw = v.size
    assert path.stat().st_size < lz4_size / 2
    assert path.stat().st_size < raw / 4


def test_short_of_the_size_goal_ffv1_replaces_magicyuv(video_files, tmp_path, monkeypatch):
    """The synthetic fixtures are clean enough for FFV1 to beat MagicYUV by far more
    than a tenth; with the goal out of reach, the default build ends as FFV1: exact,
    smaller than MagicYUV, two passes of progress, nothing left of the second pass."""
    monkeypatch.setattr(proxy, "TARGET_RATIO", 1000.0)
    spec = _fresh_copy(video_files["h264_cfr_mp4"], tmp_path)
    magicyuv = _build(spec, "magicyuv").stat().st_size
    calls = []
    with open_video(spec.path, proxy=False) as v:
        v.build_proxy(lambda done, total: calls.append(done))
        n, path = len(v), v.proxy_path
    assert calls.count(n) == 2 and calls[-1] == n  # MagicYUV, then FFV1
    with open_video(spec.path) as v:
        assert v._pack.format == "ffv1"
        _assert_exact(v, upright_reference(spec))
    assert path.stat().st_size < magicyuv
    assert sorted(p.name for p in path.parent.iterdir()) == [BIN_NAME, INDEX_NAME, "source"]
    estimate = SizeEstimate.read(path.parent)
    assert estimate.frames == -(-n // SAMPLE_EVERY) and estimate.alt_format == ""


def test_an_interrupted_second_pass_keeps_the_first_proxy(video_files, tmp_path, monkeypatch):
    monkeypatch.setattr(proxy, "TARGET_RATIO", 1000.0)
    spec = _fresh_copy(video_files["h264_rot90_mp4"], tmp_path)
    seen = []

    def stop(done, total):  # the second pass, half-way
        seen.append(done)
        if seen.count(total) == 1 and done == total // 2 and len(seen) > total:
            raise KeyboardInterrupt

    with open_video(spec.path, proxy=False) as v:
        with pytest.raises(KeyboardInterrupt):
            v.build_proxy(stop)
        path = v.proxy_path
    assert sorted(p.name for p in path.parent.iterdir()) == [BIN_NAME, INDEX_NAME]  # no alt/, no temporary
    with open_video(spec.path) as v:
        assert v._pack.format == "magicyuv"
        _assert_exact(v, upright_reference(spec))


def test_the_size_estimate_is_the_sizes_of_the_sampled_frames(video_files, tmp_path):
    """Sampling every frame, the estimate is exact: LZ4 RGB, MagicYUV and FFV1 sums
    equal the sizes of the three proxies built in those formats."""
    spec = video_files["hevc_mkv"]
    with open_video(spec.path, proxy=False) as v:
        n, shape = len(v), v.frame_shape

        def frames():
            return (item[1:] for item in v._decode_run(0, n, raw=True))

        sizes = {fmt: write_pack(tmp_path / fmt, frames(), n, shape, fmt=fmt, sample_every=1).stat().st_size
                 for fmt in (LZ4, "magicyuv", "ffv1")}
    estimate = SizeEstimate.read(tmp_path / "magicyuv")
    assert (estimate.frames, estimate.lz4, estimate.coded, estimate.alt) == (
        n, sizes[LZ4], sizes["magicyuv"], sizes["ffv1"])
    assert estimate.alt_format == "ffv1"
    assert estimate.ratio == pytest.approx(sizes[LZ4] / sizes["magicyuv"])
    assert SizeEstimate.read(tmp_path / "ffv1").alt_format == ""  # an explicit FFV1 has no alternative


def test_the_rule_wants_the_goal_missed_and_a_tenth_gained():
    def rule(lz4, coded, alt):
        return SizeEstimate(3, lz4, coded, alt, "ffv1").better_format()

    assert rule(400, 100, 50) is None  # 4× met
    assert rule(390, 100, 50) == "ffv1"  # 3.9× against 7.8×
    assert rule(390, 100, 91) is None  # FFV1 under a tenth better
    assert rule(390, 100, 0) is None  # FFV1 not sized
    assert SizeEstimate.read(Path("/nonexistent")) is None


def test_a_reader_keeps_its_proxy_while_another_replaces_it(video_files, tmp_path):
    spec = _fresh_copy(video_files["hevc_mov"], tmp_path)
    ref = upright_reference(spec)
    with open_video(spec.path, proxy=False) as v:
        n, shape = len(v), v.frame_shape
        directory = v.proxy_path.parent
        write_pack(directory, (item[1:] for item in v._decode_run(0, n, raw=True)), n, shape, fmt="magicyuv")
        write_pack(directory / "alt", (item[1:] for item in v._decode_run(0, n, raw=True)), n, shape, fmt="ffv1")
    old = FramePack.open(directory, n, shape)
    replace_pack(directory / "alt", directory)
    new = FramePack.open(directory, n, shape)
    assert (old.format, new.format) == ("magicyuv", "ffv1")
    for i in np.random.default_rng(1).permutation(n):
        assert np.array_equal(old.read(int(i)), ref[int(i)]) and np.array_equal(new.read(int(i)), ref[int(i)])
    old.close(), new.close()


def test_ten_bit_frames_are_kept_as_lz4_rgb(video_files, tmp_path):
    # MagicYUV's encoder takes 8-bit planes only; the proxy stores the RGB instead.
    spec = _fresh_copy(video_files["hevc10_mp4"], tmp_path)
    _build(spec)
    with open_video(spec.path) as v:
        assert v._pack.format == LZ4 and v._pack.meta is None
        _assert_exact(v, upright_reference(spec))


def test_a_proxy_from_before_is_still_read(video_files, tmp_path):
    """A version-1 proxy (Blosc-LZ4 RGB, no format field), written the way the old code did."""
    from numcodecs import Blosc

    spec = _fresh_copy(video_files["h264_rot270_mp4"], tmp_path)
    ref = upright_reference(spec)
    with open_video(spec.path, proxy=False) as v:
        d = v.proxy_path.parent
        shape = v.frame_shape
    codec = Blosc(cname="lz4", clevel=5, shuffle=Blosc.NOSHUFFLE)
    blobs = [codec.encode(np.ascontiguousarray(f)) for f in ref]
    d.mkdir(parents=True)
    (d / BIN_NAME).write_bytes(b"".join(blobs))
    buf = io.BytesIO()
    np.savez(buf, version=np.int64(1), offsets=np.cumsum([0] + [len(b) for b in blobs]), shape=np.asarray(shape))
    (d / INDEX_NAME).write_bytes(buf.getvalue())
    with open_video(spec.path) as v:
        assert v._pack.format == LZ4
        _assert_exact(v, ref)


def test_a_coded_frame_that_differs_is_refused_and_leaves_nothing(video_files, tmp_path):
    """The build's check is real: pair each decoder frame with the next frame's RGB."""
    spec = video_files["h264_cfr_mp4"]
    with av.open(str(spec.path)) as c:
        frames = list(c.decode(video=0))
    rgbs = [f.to_ndarray(format="rgb24") for f in frames]
    pairs = [(rgbs[(k + 1) % len(frames)], f) for k, f in enumerate(frames)]
    d = tmp_path / "pack"
    with pytest.raises(NotExact):
        write_pack(d, pairs, len(frames), rgbs[0].shape)
    assert sorted(p.name for p in d.iterdir()) == []


@pytest.mark.parametrize("fmt", sorted(CODECS))
def test_two_threads_read_one_coded_proxy(video_files, tmp_path, fmt):
    spec = _fresh_copy(video_files["hevc_mkv"], tmp_path)
    ref = upright_reference(spec)
    _build(spec, fmt)
    with open_video(spec.path, cache_frames=1) as v:
        assert v._pack.format == fmt
        errors = read_in_two_threads(v._pack.read, v.iter_frames, ref, 60, (10, 30))
    assert errors == []


def test_a_coded_read_is_the_file_bytes_and_a_cut_file_is_named(video_files, tmp_path):
    """One read = the frame's bytes straight into a packet of FFmpeg's own (padded);
    a proxy cut short under an open reader fails on one line naming the file."""
    spec = _fresh_copy(video_files["h264_cfr_mp4"], tmp_path)
    path = _build(spec)
    data = path.read_bytes()
    with open_video(spec.path) as v:
        pack, ref = v._pack, upright_reference(spec)
        lo, hi = int(pack.offsets[3]), int(pack.offsets[4])
        assert bytes(read_packet(pack._fd, lo, hi - lo, pack.path)) == data[lo:hi]
        assert np.array_equal(pack.read(3), ref[3])
        os.truncate(path, int(pack.offsets[-1]) - 10)
        with pytest.raises(OSError, match=re.escape(str(path)) + ".*truncated"):
            pack.read(len(v) - 1)
        assert np.array_equal(pack.read(0), ref[0])  # frames before the cut still read
