"""Quiz benchmarks: building a quiz from many sessions, and flash timing in headless Chromium and Firefox.

Prints figures measured in one run (no assertions)::

    python benchmarks/bench_quiz.py [--sessions 20] [--items 100] [--flash-items 40] [--screenshots docs]

1. Building a ``--items``-item quiz from ``--sessions`` coded copies of the tracked
   sample (each a different subject): seconds and folder size, for a practice flash
   quiz (with slow replays) and a posttest of real clips.
2. A posttest flash quiz of ``--flash-items`` items clicked through in Debian's
   headless Chromium: the shown duration (performance.now() between the rAF that
   draws the apex and the one that removes it) against the asked one, per duration:
   median and worst error in ms and in display frames; then the same quiz in Debian's
   stock headless Firefox ESR (puppeteer-core over WebDriver BiDi, tests/fixtures/firefox.py).
3. With ``--screenshots DIR``: ``quiz-item.png`` (a stills item) and
   ``quiz-results.png`` (the results of 2.).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.cli import main as annotator  # noqa: E402
from annotator.session import Session  # noqa: E402
from tests.fixtures import firefox  # noqa: E402
from tests.fixtures.quiz import coded_copy, launch_chromium  # noqa: E402
from tests.fixtures.sample import track_sample  # noqa: E402


def folder_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def tracked_sample() -> Session:
    """The sample, tracked by `make demo` or by an earlier run (kept under build/, not committed)."""
    from annotator.tracking.store import tracks_complete

    for root in (REPO / "build" / "demo" / "astronaut.annot", REPO / "build" / "bench-quiz" / "astronaut.annot"):
        if tracks_complete(root):
            return Session.open(root)
    print("tracking the sample once ...", flush=True)
    return track_sample(REPO / "build" / "bench-quiz")


def build(sources: list[str], out: Path, *args: str) -> tuple[float, float, int]:
    """Wall-clock and CPU seconds (this process: the build is single-threaded), and bytes."""
    t0, c0 = time.perf_counter(), time.process_time()
    code = annotator(["quiz", *sources, "-o", str(out), *args])
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if code != 0:
        raise SystemExit(f"annotator quiz failed ({code})")
    return seconds, cpu, folder_size(out)


def click_through(page, n: int) -> dict:
    page.click("#start-btn")
    for _ in range(n):
        page.wait_for_selector("#choices button:not([disabled])", timeout=30_000)
        page.keyboard.press("1")
    page.wait_for_selector("#results:not([hidden])")
    with page.expect_download() as info:
        page.click("#download-json")
    return json.loads(Path(info.value.path()).read_text())


def timing_table(browser: str, results: dict, n: int) -> None:
    frame = results["refresh_ms"]
    print(f"\n2. flash durations in {browser}: rAF frame {frame:.2f} ms ({1000 / frame:.1f} Hz), {n} items")
    print("   asked ms | items | frames shown | shown median ms | median error ms (frames) | "
          "worst error ms (frames) | off by > 1 frame")
    for asked in sorted({r["asked_ms"] for r in results["results"]}):
        rows = [r for r in results["results"] if r["asked_ms"] == asked]
        errors = [r["shown_ms"] - asked for r in rows]
        med = statistics.median(errors)
        worst = max(errors, key=abs)
        frames = sorted({r["shown_frames"] for r in rows})
        late = sum(not r["timing_ok"] for r in rows)
        print(f"   {asked:8d} | {len(rows):5d} | {','.join(map(str, frames)):>12s} | "
              f"{statistics.median(r['shown_ms'] for r in rows):15.1f} | "
              f"{med:+8.1f} ({med / frame:+.2f}) | {worst:+8.1f} ({worst / frame:+.2f}) | {late}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--flash-items", type=int, default=40)
    ap.add_argument("--screenshots", type=Path, default=None, metavar="DIR")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-quiz-") as tmp:
        work = Path(tmp)
        sample = tracked_sample()
        t0 = time.perf_counter()
        sessions = [coded_copy(sample, work / f"p{i:02d}", f"P{i:02d}") for i in range(1, args.sessions + 1)]
        sources = [str(s.root) for s in sessions]
        print(f"{args.sessions} coded sessions ({5 * args.sessions} segments) in {time.perf_counter() - t0:.1f} s")

        print(f"\n1. building a {args.items}-item quiz from {args.sessions} sessions")
        for k, (label, extra) in enumerate((
            ("practice, flash, face", ["--stage", "flash", "--mode", "practice"]),
            ("practice, stills, face+body", ["--stage", "stills", "--view", "face+body", "--mode", "practice"]),
            ("posttest, video, face", ["--stage", "video", "--mode", "posttest"]),
        )):
            out = work / f"quiz-{k}"
            seconds, cpu, size = build(sources, out, "--items", str(args.items), *extra)
            print(f"   {label:30s} {seconds:6.1f} s wall, {cpu:6.1f} s CPU  {size / 1e6:6.2f} MB  "
                  f"({cpu / args.items * 1000:.0f} ms CPU/item)")

        flash = work / "flash"
        build(sources, flash, "--items", str(args.flash_items), "--stage", "flash", "--mode", "posttest",
              "--seed", "4")
        stills = work / "stills"
        build(sources[:3], stills, "--items", "3", "--stage", "stills", "--mode", "practice")
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(accept_downloads=True, viewport={"width": 820, "height": 640})
            page.goto((flash / "index.html").as_uri())
            results = click_through(page, args.flash_items)
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.screenshots / "quiz-results.png"), full_page=True)
                page.goto((stills / "index.html").as_uri())
                page.click("#start-btn")
                page.wait_for_selector("#choices button:not([disabled])")
                page.screenshot(path=str(args.screenshots / "quiz-item.png"))
            browser.close()
        ff_results = ff_version = None
        if firefox.missing() is None:
            out = firefox.click_through(flash, work / "firefox")
            ff_results, ff_version = out["results"], out["browser"]

    timing_table("headless Chromium", results, args.flash_items)
    if ff_results is None:
        print(f"\n   Firefox: skipped ({firefox.missing()})")
    else:
        timing_table(f"headless Firefox ESR ({ff_version})", ff_results, args.flash_items)
    if args.screenshots:
        for name in ("quiz-item.png", "quiz-results.png"):
            print(f"   {args.screenshots / name}: {(args.screenshots / name).stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
