"""The one RGB conversion (:func:`annotator.media.decoder.to_rgb`) and its kept contexts.

Its bits are checked on every fixture, in every path and order, by ``tests/test_video.py``
and ``tests/test_proxy_formats.py``; this checks what keeping a context per thread risks.
"""

from __future__ import annotations

import multiprocessing

import av
import numpy as np
import pytest

from annotator.media import decoder as decoder_mod


def _convert_in_forked_child(frame, expected, result):
    result.put(bool(np.array_equal(decoder_mod.to_rgb(frame, 0), expected)))


def test_rgb_conversion_works_in_a_forked_child(video_files):
    """to_rgb keeps one swscale context per thread; one with worker threads would hang a
    forked child (it has none of the parent's threads), so the kept context has none."""
    spec = video_files["h264_cfr_mp4"]
    with av.open(str(spec.path)) as c:
        frame = next(c.decode(video=0))
    expected = decoder_mod.to_rgb(frame, 0)  # the parent's context now exists
    ctx = multiprocessing.get_context("fork")
    result = ctx.Queue()
    child = ctx.Process(target=_convert_in_forked_child, args=(frame, expected, result))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("to_rgb hung in a forked child")
    assert child.exitcode == 0 and result.get(timeout=5) is True
