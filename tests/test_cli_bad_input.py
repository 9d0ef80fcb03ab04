"""Every entry point meets bad input with one line on stderr, a non-zero exit, no traceback,
and nothing written that could pass for a result."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from annotator.cli import main
from tests.fixtures.sample import SAMPLE_VIDEO

BAD_VIDEOS = ["missing", "empty", "text", "random", "truncated"]


def make_bad(kind: str, folder):
    path = folder / f"{kind}.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is a note, not a video\n")
    elif kind == "random":
        # Fixed bytes: about one in 750 random 64 kB files probes as a one-frame H.263
        # video, which made this flaky (and `open` then started the event loop).
        import numpy as np

        path.write_bytes(np.random.default_rng(0).bytes(64_000))
    elif kind == "truncated":
        data = SAMPLE_VIDEO.read_bytes()
        path.write_bytes(data[: len(data) * 6 // 10])
    return path


def snapshot(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize("kind", BAD_VIDEOS)
@pytest.mark.parametrize(
    "command",
    [
        ["probe", "{video}"],
        ["track", "{video}", "--workers", "1", "-q"],
        ["info", "{video}"],
        ["propose", "{video}"],
        ["export", "casme-csv", "{video}", "-o", "{out}"],
        ["open", "{video}"],
    ],
    ids=lambda c: c[0],
)
def test_bad_video(command, kind, tmp_path, capsys):
    video = make_bad(kind, tmp_path)
    before = snapshot(tmp_path)
    argv = [a.format(video=video, out=tmp_path / "out.csv") for a in command]
    code, err = run(argv, capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert video.name in lines[0] and "Traceback" not in err
    assert snapshot(tmp_path) == before, "something was written"


@pytest.mark.parametrize("content", [None, b"", b"not json", b'{"schema": "something else"}', os.urandom(500)])
def test_bad_labels_for_evaluate(content, tmp_path, capsys):
    path = tmp_path / "labels.json"
    if content is not None:
        path.write_bytes(content)
    code, err = run(["evaluate", path, path], capsys)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "labels.json" in err


@pytest.mark.parametrize("content", [b"", b"a,b\n1,2\n", b"Filename,OnsetFrame,ApexFrame,OffsetFrame\nx,3,two,5\n"])
def test_bad_csv_for_evaluate(content, tmp_path, capsys):
    path = tmp_path / "labels.csv"
    path.write_bytes(content)
    code, err = run(["evaluate", path, path], capsys)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "labels.csv" in err


def test_not_a_session(tmp_path, capsys):
    for argv in (["info", tmp_path], ["propose", tmp_path], ["export", "casme-csv", tmp_path, "-o", tmp_path / "x.csv"]):
        code, err = run(argv, capsys)
        assert code != 0 and "session" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


def test_unknown_format(tmp_path, capsys):
    code, err = run(["export", "no-such-format", tmp_path, "-o", tmp_path / "x"], capsys)
    assert code != 0 and "unknown format" in err and "casme-csv" in err


def test_a_real_process_prints_no_traceback(tmp_path):
    """The installed command, not just main(): exit status and stderr as a user sees them."""
    video = make_bad("random", tmp_path)
    result = subprocess.run([sys.executable, "-m", "annotator", "track", str(video)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(video) in result.stderr
    assert not (tmp_path / "random.annot").exists()
