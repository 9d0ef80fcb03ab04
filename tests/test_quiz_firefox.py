"""The quiz page clicked through in Debian's stock Firefox ESR (puppeteer-core over WebDriver BiDi).

The same checks as the Chromium test in test_quiz.py, in one click-through: the score against
the answer key, hostile text staying text, nothing fetched from outside the quiz folder, the
flash durations within a display frame, answers by the number keys, CSV and JSON results.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from annotator.cli import main
from annotator.labels.model import EMOTIONS
from tests.fixtures.firefox import PROBE_HOST, click_through, missing
from tests.fixtures.quiz import EVIL_NOTE, EVIL_SUBJECT, check_flash_timing, coded_copy

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def coded(sample_session, tmp_path_factory):
    """Three coded copies of the sample: subjects S1, S2 and one whose name and notes are markup."""
    base = tmp_path_factory.mktemp("coded-ff")
    return base, [
        coded_copy(sample_session, base / "s1", "S1"),
        coded_copy(sample_session, base / "s2", "S2"),
        coded_copy(sample_session, base / "s3", EVIL_SUBJECT, note=EVIL_NOTE),
    ]


def _wrong(emotion: str) -> str:
    return EMOTIONS[(EMOTIONS.index(emotion) + 1) % len(EMOTIONS)]


def test_a_practice_flash_quiz_clicked_through_in_firefox(coded, sample_session, tmp_path, capsys):
    if reason := missing():
        pytest.skip(reason)
    base, sessions = coded
    root = tmp_path / "quiz"
    code = main(["quiz", *[str(s.root) for s in sessions], "-o", str(root), "--items", "8", "--stage", "flash",
                 "--mode", "practice", "--seed", "1", "--choices", "seven+neutral"])
    _, err = capsys.readouterr()
    assert code == 0, err
    with open(root / "items" / "answer_key.csv", newline="") as fh:
        key = list(csv.DictReader(fh))
    assert {r["duration_ms"] for r in key} == {"40", "80", "160", "320"}
    answers = [r["emotion"] if i % 3 != 1 else _wrong(r["emotion"]) for i, r in enumerate(key)]
    expected_right = sum(a == r["emotion"] for a, r in zip(answers, key, strict=True))
    work = tmp_path / "firefox"
    out = click_through(root, work, answers=answers, watch=[tmp_path, base, Path(sample_session.root).parent])

    assert out["browser"].startswith("firefox/"), out["browser"]
    assert out["url"] == (root / "index.html").as_uri()
    assert out["dialogs"] == [] and out["errors"] == [] and out["pwned"] is None
    # Text from sessions is escaped, in the template and in the script alike.
    assert EVIL_SUBJECT in out["subjects_text"] and not out["subjects_markup"]
    assert out["h264_warning"] is False  # this Firefox plays the clips (Debian's libavcodec)
    items = out["items"]
    assert [str(it["number"]) for it in items] == [r["item"] for r in key]
    assert any(it["subject"] == EVIL_SUBJECT for it in items), "the markup subject was never asked"
    choice_keys = {it["key"] for it in out["steps"]}
    assert choice_keys <= {str(n) for n in range(1, 9)}  # answered by the number keys
    for item, row, answer, step in zip(items, key, answers, out["steps"], strict=True):
        assert item["emotion"] == row["emotion"] and step["truth"] == row["emotion"]
        assert (step["verdict"] == "Right") == (answer == row["emotion"])
        assert not step["feedback_markup"]
        if item["subject"] == EVIL_SUBJECT:
            assert step["note"] == EVIL_NOTE and EVIL_SUBJECT in step["source"]
        for au in row["aus"].split():
            assert au in step["aus"]
        # the slow replay played the real clip (H.264: Firefox decodes it through Debian's libavcodec)
        assert step["replay_rate"] == 0.25 and step["replay_width"] > 0
    assert out["overall"].startswith(f"Overall: {expected_right} of 8 right")

    # Nothing fetched from outside the folder: the proxy saw only the probe loaded before the
    # quiz (so it does record), and of the watched files only the quiz's own were opened.
    assert any(r.startswith(f"GET http://{PROBE_HOST}/ ") for r in out["requests"]), out["requests"]
    assert all(f"//{PROBE_HOST}/" in r for r in out["requests"]), out["requests"]
    opened = [Path(p) for p in out["opened"]]
    assert root / "index.html" in opened and any(p.parent == root / "media" for p in opened)
    outside = [p for p in opened if not p.is_relative_to(root) and not p.is_relative_to(work)]
    assert outside == [], outside
    assert not any(p.is_relative_to(root / "items") for p in opened)  # the platform clips are not the page's

    # The results match the answer key, in JSON and CSV alike.
    results = out["results"]
    got = results["results"]
    assert [r["emotion"] for r in got] == [r["emotion"] for r in key]
    assert [r["answer"] for r in got] == answers
    assert sum(r["correct"] for r in got) == expected_right
    rows = list(csv.DictReader(out["csv"].splitlines()))
    assert [r["answer"] for r in rows] == answers
    assert [r["correct"] for r in rows] == [str(r["correct"]).lower() for r in got]
    assert [float(r["shown_ms"]) for r in rows] == pytest.approx([r["shown_ms"] for r in got])

    # Flash durations: a whole number of display frames, within one frame of the asked one.
    late = check_flash_timing(got, results["refresh_ms"], out["browser"])
    assert sum(out["late_cells"]) == len(late)


def test_firefox_without_ffmpeg_is_told_before_the_start(coded, tmp_path, capsys):
    """Firefox on Linux plays H.264 only through the system's FFmpeg: without it the start screen
    says so, instead of a quiz whose replays never play (the start screen only: a second launch)."""
    if reason := missing():
        pytest.skip(reason)
    _, sessions = coded
    root = tmp_path / "quiz"
    assert main(["quiz", *[str(s.root) for s in sessions[:2]], "-o", str(root), "--items", "2",
                 "--stage", "video", "--seed", "1"]) == 0
    capsys.readouterr()
    out = click_through(root, tmp_path / "firefox", prefs={"media.ffmpeg.enabled": False}, start_only=True)
    assert out["h264_warning"] is True and out["errors"] == []
