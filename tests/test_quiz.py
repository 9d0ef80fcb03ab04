"""The quiz builder: balanced items, the CLI's refusals, and the page clicked through in real Chromium."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from annotator.cli import main
from annotator.labels.model import EMOTIONS
from annotator.quiz import Candidate, select_items, split_for_mode
from tests.fixtures.quiz import EVIL_NOTE, EVIL_SUBJECT, check_flash_timing, coded_copy, launch_chromium


# -- choosing items (no footage needed) ---------------------------------------------------
def _pool(subjects=("A", "B", "C"), per=2):
    out = []
    for s_i, subject in enumerate(subjects):
        for e_i, emotion in enumerate(EMOTIONS):
            for k in range(per):
                onset = 100 * e_i + 10 * k
                out.append(Candidate(s_i, f"sess{s_i}", subject, "alice", f"{subject}-{emotion}-{k}",
                                     onset, onset + 2, onset + 5, emotion))
    return out


def test_items_are_balanced_across_emotions_subjects_and_durations():
    sel = select_items(_pool(), 56, mode="practice", seed=3, stage="flash", durations=(40, 80, 160, 320))
    emotions = Counter(it.candidate.emotion for it in sel.items)
    assert set(emotions) == set(EMOTIONS) and set(emotions.values()) == {8}
    for emotion in EMOTIONS:
        these = [it for it in sel.items if it.candidate.emotion == emotion]
        assert Counter(it.duration_ms for it in these) == {40: 2, 80: 2, 160: 2, 320: 2}
        subjects = Counter(it.candidate.subject for it in these)
        assert max(subjects.values()) - min(subjects.values()) <= 1
    assert [it.number for it in sel.items] == list(range(1, 57))


def test_the_order_is_fixed_by_the_seed():
    pool = _pool()

    def order(seed):
        sel = select_items(pool, 21, mode="pretest", seed=seed, stage="stills", durations=(40,))
        return [(it.candidate.segment_id, it.duration_ms) for it in sel.items]

    assert order(7) == order(7)
    assert order(7) != order(8)


def test_pretest_and_posttest_share_no_segment():
    pool = _pool()
    pre = {c.segment_id for c in split_for_mode(pool, "pretest", 5)}
    post = {c.segment_id for c in split_for_mode(pool, "posttest", 5)}
    assert pre and post and not pre & post
    assert pre | post == {c.segment_id for c in pool}
    for mode, ids in (("pretest", pre), ("posttest", post)):
        sel = select_items(pool, 40, mode=mode, seed=5, stage="flash", durations=(40, 80))
        assert {it.candidate.segment_id for it in sel.items} <= ids
        assert {it.candidate.emotion for it in sel.items} == set(EMOTIONS)
    # another seed splits differently
    assert {c.segment_id for c in split_for_mode(pool, "pretest", 6)} != pre


def test_the_face_crop_puts_the_eyes_level_at_fixed_places():
    import numpy as np

    from annotator.quiz import media

    lm = np.zeros((2, 478, 3), np.float32)
    lm[:, :, :2] = [300.0, 200.0]
    angle = np.deg2rad(20)
    for t, shift in enumerate((0.0, 4.0)):  # the head moves a little between the two frames
        lm[t, 33, :2] = [300 - 40 * np.cos(angle) + shift, 200 - 40 * np.sin(angle)]
        lm[t, 263, :2] = [300 + 40 * np.cos(angle) + shift, 200 + 40 * np.sin(angle)]
    crop = media.face_crop(lm, [0, 1], "test")
    inv = np.linalg.inv(np.vstack([crop.matrix, [0, 0, 1]]))
    eyes = [inv @ [*lm[:, i, :2].mean(axis=0), 1.0] for i in (33, 263)]
    side = media.FACE_SIZE
    for eye, x in zip(eyes, (0.5 - media.EYE_SPAN / 2, 0.5 + media.EYE_SPAN / 2), strict=True):
        assert abs(eye[0] - x * side) < 1e-3 and abs(eye[1] - media.EYE_Y * side) < 1e-3
    # and a frame drawn with a bright dot between the eyes shows it at the crop's eye line
    frame = np.zeros((400, 600, 3), np.uint8)
    frame[198:203, 300:305] = 255
    out = crop.apply(frame)
    ys, xs = np.nonzero(out[:, :, 0] > 100)
    assert out.shape == (side, side, 3)
    assert abs(ys.mean() - media.EYE_Y * side) < 4 and abs(xs.mean() - side / 2) < 6


# -- the command's refusals ----------------------------------------------------------------
def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_missing_session_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "quiz"
    code, _, err = _run(capsys, "quiz", str(tmp_path / "nope.annot"), "-o", str(out))
    assert code == 2 and err.count("\n") == 1 and "nope.annot" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("durations", ["40,abc", "0", ","])
def test_bad_durations_are_refused(tmp_path, capsys, durations):
    code, _, err = _run(capsys, "quiz", str(tmp_path), "-o", str(tmp_path / "q"), "--durations", durations)
    assert code == 2 and err.startswith("annotator: error: --durations") and err.count("\n") == 1
    assert not (tmp_path / "q").exists()


@pytest.fixture(scope="module")
def coded(sample_session, tmp_path_factory):
    """Three coded copies of the sample: subjects S1, S2 and one whose name and notes are markup."""
    base = tmp_path_factory.mktemp("coded")
    return [
        coded_copy(sample_session, base / "s1", "S1"),
        coded_copy(sample_session, base / "s2", "S2"),
        coded_copy(sample_session, base / "s3", EVIL_SUBJECT, note=EVIL_NOTE),
    ]


@pytest.fixture(scope="module")
def coded_dataset(sample_session, tmp_path_factory):
    """A dataset of three coded copies like ``coded`` (built through a project; pad 12 frames).

    A project's subject ids are file names, so the third subject is ``S3`` here: its
    notes carry the markup.  Copies of its own, since adding a session to a project
    sets its subject.
    """
    base = tmp_path_factory.mktemp("coded_dataset")
    proj = base / "project"
    assert main(["project", "init", str(proj)]) == 0
    for subject in ("S1", "S2", "S3"):
        session = coded_copy(sample_session, base / subject.lower(), subject,
                             note=EVIL_NOTE if subject == "S3" else None)
        assert main(["project", "add", str(proj), str(session.root), "--subject", subject,
                     "--consent", "dataset,quiz"]) == 0
    out = base / "dataset"
    assert main(["dataset", str(proj), "-o", str(out), "--pad", "12", "--coder", "alice", "-q"]) == 0
    return out


#: What each kind of source of the same footage is: the SOURCE arguments, and the subject with markup in it.
SOURCE_KINDS = ("sessions", "dataset")


def _sources(kind, request) -> tuple[list[str], str]:
    if kind == "sessions":
        return [str(s.root) for s in request.getfixturevalue("coded")], EVIL_SUBJECT
    return [str(request.getfixturevalue("coded_dataset"))], "S3"


@pytest.mark.slow
def test_refusals_on_real_sessions(coded, tmp_path, capsys):
    roots = [str(s.root) for s in coded]
    code, _, err = _run(capsys, "quiz", *roots, "-o", str(tmp_path / "q"), "--coder", "bob")
    assert code == 2 and "bob" in err and err.count("\n") == 1
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    code, _, err = _run(capsys, "quiz", *roots, "-o", str(tmp_path / "taken"), "--items", "3")
    assert code == 2 and "--force" in err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
    code, _, err = _run(capsys, "quiz", *roots, "-o", str(Path(roots[0]) / "q"))
    assert code == 2 and "inside the session" in err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no temporary folder left behind


# -- the page, in Chromium ----------------------------------------------------------------------
def _answer_key(root: Path) -> list[dict]:
    with open(root / "items" / "answer_key.csv", newline="") as fh:
        return list(csv.DictReader(fh))


class Browser:
    """One page of the quiz with every request and dialog recorded."""

    def __init__(self, playwright, root: Path):
        self.browser = launch_chromium(playwright)
        self.context = self.browser.new_context(accept_downloads=True, viewport={"width": 900, "height": 800})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto((root / "index.html").as_uri())

    def wait_choices(self):
        self.page.wait_for_selector("#choices button:not([disabled])", timeout=20_000)

    def download(self, button: str):
        with self.page.expect_download() as info:
            self.page.click(button)
        return Path(info.value.path()).read_text()

    def close(self):
        self.context.close()
        self.browser.close()


def _items_order(page) -> list[dict]:
    return json.loads(page.eval_on_selector("#quiz-data", "e => e.textContent"))["items"]


def _wrong(emotion: str) -> str:
    return EMOTIONS[(EMOTIONS.index(emotion) + 1) % len(EMOTIONS)]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_a_practice_flash_quiz_clicked_through(kind, request, tmp_path, capsys):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    sources, evil_subject = _sources(kind, request)
    root = tmp_path / "quiz"
    code, out, err = _run(capsys, "quiz", *sources, "-o", str(root), "--items", "8",
                          "--stage", "flash", "--mode", "practice", "--seed", "1", "--choices", "seven+neutral")
    assert code == 0, err
    key = _answer_key(root)
    assert len(key) == 8 and len(list((root / "items").glob("item-*.mp4"))) == 8
    assert {r["duration_ms"] for r in key} == {"40", "80", "160", "320"}
    with sync_playwright() as p:
        b = Browser(p, root)
        page = b.page
        # Text from sessions rendered by the template is escaped, not markup.
        assert evil_subject in page.text_content("#subjects")
        assert page.query_selector("#subjects b") is None
        items = _items_order(page)
        assert [str(it["number"]) for it in items] == [r["item"] for r in key]
        page.click("#start-btn")
        expected_right = 0
        for i, (item, row) in enumerate(zip(items, key, strict=True)):
            assert item["emotion"] == row["emotion"]
            b.wait_choices()
            answer = row["emotion"] if i % 3 != 1 else _wrong(row["emotion"])
            expected_right += answer == row["emotion"]
            number = [c["key"] for c in json.loads(page.eval_on_selector("#quiz-data", "e => e.textContent"))
                      ["choices"] if c["emotion"] == answer][0]
            page.keyboard.press(number)
            page.wait_for_selector("#feedback:not([hidden])")
            assert page.text_content("#truth") == row["emotion"]
            assert (page.text_content("#verdict") == "Right") == (answer == row["emotion"])
            if item["subject"] == evil_subject:
                assert page.text_content("#note") == EVIL_NOTE
                assert page.query_selector("#feedback script, #feedback img") is None
                assert evil_subject in page.text_content("#source")
            for au in row["aus"].split():
                assert au in page.text_content("#aus")
            # the slow replay plays the real clip, at 0.25x
            page.wait_for_function("() => document.getElementById('replay').currentTime > 0", timeout=10_000)
            assert page.eval_on_selector("#replay", "v => v.playbackRate") == 0.25
            page.keyboard.press("Enter")
        page.wait_for_selector("#results:not([hidden])")
        assert page.text_content("#overall").startswith(f"Overall: {expected_right} of 8 right")
        results = json.loads(b.download("#download-json"))
        page_late_cells = [int(t) for t in page.eval_on_selector_all(
            "#timing tbody tr td:last-child", "cells => cells.map(c => c.textContent)")]
        rows = list(csv.DictReader(b.download("#download-csv").splitlines()))
        assert page.evaluate("() => window.__pwned") is None
        b.close()
    assert b.dialogs == [] and b.errors == []
    assert any(evil_subject == it["subject"] for it in items), "the markup subject was never asked"
    # every request stayed inside the quiz folder
    assert b.requests and all(u.startswith(root.as_uri() + "/") for u in b.requests), b.requests
    # the results match the answer key, in CSV and JSON alike
    got = results["results"]
    assert [r["emotion"] for r in got] == [r["emotion"] for r in key]
    assert sum(r["correct"] for r in got) == expected_right
    assert [r["answer"] for r in rows] == [r["answer"] for r in got]
    assert [r["correct"] for r in rows] == [str(r["correct"]).lower() for r in got]
    # flash durations: a whole number of display frames, within one frame of the asked duration
    late = check_flash_timing(got, results["refresh_ms"], "chromium")
    assert sum(page_late_cells) == len(late)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_a_posttest_of_real_clips_plays_in_chromium(kind, request, tmp_path, capsys):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    sources, _ = _sources(kind, request)
    sources = sources[:2]
    root = tmp_path / "quiz"
    code, _, err = _run(capsys, "quiz", *sources, "-o", str(root), "--items", "4",
                        "--stage", "video", "--view", "face+body", "--mode", "posttest", "--seed", "2")
    assert code == 0, err
    key = _answer_key(root)
    pre = tmp_path / "pre"
    assert main(["quiz", *sources, "-o", str(pre), "--items", "4",
                 "--stage", "video", "--mode", "pretest", "--seed", "2"]) == 0
    capsys.readouterr()
    segs = lambda rows: {(r["session"], r["subject"], r["segment"]) for r in rows}  # noqa: E731
    assert not segs(key) & segs(_answer_key(pre))
    with sync_playwright() as p:
        b = Browser(p, root)
        page = b.page
        page.click("#start-btn")
        for row in key:
            b.wait_choices()  # enabled only once the clip has played to its end
            assert page.eval_on_selector("#clip", "v => v.ended && v.videoWidth > 0") is True
            page.keyboard.press(str(EMOTIONS.index(row["emotion"]) + 1))
        page.wait_for_selector("#results:not([hidden])")
        assert page.text_content("#overall").startswith("Overall: 4 of 4 right")
        assert page.is_hidden("#feedback")
        cells = page.eval_on_selector_all("#confusion tr", "rows => rows.map(r => r.textContent)")
        b.close()
    assert b.errors == [] and all(u.startswith(root.as_uri() + "/") for u in b.requests)
    assert len(cells) == 8  # header and one row per emotion


@pytest.mark.slow
def test_a_project_gives_only_subjects_who_consented(sample_session, tmp_path, capsys):
    proj = tmp_path / "proj"
    assert main(["project", "init", str(proj)]) == 0
    for subject, consent in (("P1", "quiz,train"), ("P2", "dataset"), ("P3", "dataset")):
        session = coded_copy(sample_session, tmp_path / subject.lower(), subject)
        assert main(["project", "add", str(proj), str(session.root), "--subject", subject,
                     "--consent", consent]) == 0
    capsys.readouterr()
    out = tmp_path / "quiz"
    code, stdout, err = _run(capsys, "quiz", str(proj), "-o", str(out), "--items", "5", "--stage", "stills")
    assert code == 0, err
    assert "skipped 2 subject(s) without quiz consent (2 session(s))" in stdout
    key = _answer_key(out)
    assert {r["subject"] for r in key} == {"P1"} and len(key) == 5
    html = (out / "index.html").read_text()
    assert "http:" not in html and "https:" not in html and "//" not in html.split("<script nonce")[0]
    # nobody consented: refused in one line, nothing written
    assert main(["project", "set", str(proj), "--subject", "P1", "--consent", "dataset"]) == 0
    capsys.readouterr()
    code, _, err = _run(capsys, "quiz", str(proj), "-o", str(tmp_path / "none"), "--items", "5")
    assert code == 2 and "no subject has quiz consent" in err and err.count("\n") == 1
    assert not (tmp_path / "none").exists()
