"""Does the test suite notice a broken feature?  Hand-written mutants, one at a time.

Each mutant breaks the code the way a real bug would (an off-by-one frame index,
landmarks frozen across frames, a spotter that finds nothing, ...).  For each one
the script copies the repository's code and tests to a temporary folder, applies
the mutant there (its old text must occur exactly once in its file, else the
mutant is reported "stale" and skipped), and runs the few tests that should catch
it, with ``PYTHONPATH`` pointing at the copy.  The editable install's finder sits
at the end of ``sys.meta_path``, so the copy wins; the script checks that before
it starts.  A mutant is *killed* when those tests fail, *survived* when they pass.

    python benchmarks/mutation_check.py [--only NAME ...] [--timeout 900] [--list] [--no-baseline]

First the tests of all the mutants run once on the unmutated copy: they must
pass, or a mutant would count as killed by a test that fails anyway.

Prints one line per mutant and the score (killed / run).  Exits 1 when a mutant
survives or is stale.  The working tree is never touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ["src", "plugins", "tests", "schemas", "sample_data", "benchmarks", "pyproject.toml"]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]  # test files, or pytest node ids, run in the copy
    why: str = ""


MUTANTS = [
    Mutant(
        "media-off-by-one",
        "src/annotator/media/video.py",
        "frame = self._decoder.advance_to(i, on_frame)",
        "frame = self._decoder.advance_to(min(i + 1, len(self._index) - 1), on_frame)",
        ("tests/test_video.py::test_frame_numbers",),
        "random access returns the next frame",
    ),
    Mutant(
        "tracking-frozen-landmarks",
        "src/annotator/tracking/worker.py",
        'data["face/landmarks"][k] = f.landmarks',
        'data["face/landmarks"][k] = f.landmarks if k == 0 else data["face/landmarks"][0]',
        ("tests/test_tracking.py::test_landmarks_follow_the_known_shift",),
        "every frame of a block keeps the block's first landmarks",
    ),
    Mutant(
        "tracking-time-from-fps",
        "src/annotator/tracking/run.py",
        "times = np.asarray(source.timestamps, np.float64)",
        "times = np.arange(len(source), dtype=np.float64) / source.fps",
        ("tests/test_tracking.py::test_vfr_time_and_kinds",),
        "tracks' time computed as frame / fps instead of the video's timestamps",
    ),
    Mutant(
        "spotter-finds-nothing",
        "src/annotator/spotting/spotter.py",
        "        if not found:\n            return []\n        z_apex",
        "        if True:\n            return []\n        z_apex",
        ("tests/test_spotting.py::test_sample_quality",),
        "no proposals at all",
    ),
    Mutant(
        "editor-no-save-after-undo",
        "src/annotator/labels/editor.py",
        "        self.labels.segments = state\n        try:\n            self._save()\n",
        "        self.labels.segments = state\n        try:\n            pass\n",
        ("tests/test_editor.py",),
        "undo changes memory but not the coder's file",
    ),
    Mutant(
        "editor-clamp-removed",
        "src/annotator/labels/editor.py",
        "return min(max(0, int(frame)), last)",
        "return int(frame)",
        ("tests/test_editor.py",),
        "segments can start before frame 0 or end after the last frame",
    ),
    Mutant(
        "casme-csv-drops-a-column",
        "src/annotator/formats/casme.py",
        "pd.DataFrame(rows, columns=CSV_COLUMNS).to_csv(index=False)",
        'pd.DataFrame(rows, columns=CSV_COLUMNS).drop(columns=["Action Units"]).to_csv(index=False)',
        ("tests/test_formats_tables.py",),
        "the export loses the action units",
    ),
    Mutant(
        "casme-emotions-swapped",
        "src/annotator/formats/casme.py",
        '"happiness": "joy", "surprise": "surprise", "disgust"',
        '"happiness": "surprise", "surprise": "joy", "disgust"',
        ("tests/test_formats_tables.py",),
        "CASME II's happiness read as surprise and surprise as joy",
    ),
    Mutant(
        "lock-never-taken",
        "src/annotator/locks.py",
        "lock.acquire(timeout=max(0.0, deadline - time.monotonic()))",
        "pass",
        ("tests/test_faults_store.py::test_a_second_holder_waits_then_is_told_who_holds_the_lock",),
        "two writers may work on one session at once",
    ),
    Mutant(
        "checksum-never-checked",
        "src/annotator/tracking/integrity.py",
        "    if not np.array_equal(np.frombuffer(digest(values), np.uint8), recorded):\n",
        "    if False:\n",
        ("tests/test_faults_store.py::test_a_damaged_store_is_reported_refused_and_repaired[rewritten_block]",),
        "a rewritten block passes verify",
    ),
    Mutant(
        "model-sha-never-checked",
        "src/annotator/tracking/model_files.py",
        "    if digest != FACE_MODEL_SHA256:\n        raise ModelError(wheel",
        "    if False:\n        raise ModelError(wheel",
        ("tests/test_model_setup.py",),
        "a wheel with another face model is installed",
    ),
    Mutant(
        "atomic-write-in-place",
        "src/annotator/io.py",
        'fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)',
        "fd, tmp = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), str(path)",
        ("tests/test_crash_writes.py",),
        "session.json and exports written in place, so a crash leaves a half-new file",
    ),
    Mutant(
        "kind-threshold-exclusive",
        "src/annotator/labels/model.py",
        'return "micro" if duration <= micro_max_seconds + 1e-9 else "macro"',
        'return "micro" if duration < micro_max_seconds else "macro"',
        ("tests/test_labels.py",),
        "a segment of exactly 0.5 s is called macro",
    ),
]


def copy_repo(dest: Path) -> None:
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, dest / name)


def env_for(copy: Path) -> dict:
    env = dict(os.environ)
    paths = [str(copy), str(copy / "src"), *sorted(str(p) for p in (copy / "plugins").glob("*/src"))]
    env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def check_isolation(copy: Path) -> None:
    """The copy's modules, not the editable install's, are the ones imported."""
    code = "import annotator, tests; print(annotator.__file__); print(tests.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=copy, env=env_for(copy), capture_output=True, text=True, check=True)
    for line in out.stdout.split():
        if not Path(line).resolve().is_relative_to(copy.resolve()):
            sys.exit(f"mutation_check: {line} is imported from outside the copy {copy}; PYTHONPATH does not win")


def apply(copy: Path, m: Mutant) -> str | None:
    """Apply ``m`` in the copy; the reason it is stale, or None."""
    path = copy / m.file
    if not path.exists():
        return f"{m.file} does not exist"
    text = path.read_text()
    n = text.count(m.old)
    if n != 1:
        return f"its old text occurs {n} times in {m.file}"
    path.write_text(text.replace(m.old, m.new))
    return None


def run_one(m: Mutant, timeout: float) -> tuple[str, float, str]:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{m.name}-") as tmp:
        copy = Path(tmp)
        copy_repo(copy)
        stale = apply(copy, m)
        if stale:
            return "stale", 0.0, stale
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *m.tests]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(cmd, cwd=copy, env=env_for(copy), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "killed", time.perf_counter() - t0, f"timed out after {timeout:.0f} s"
        took = time.perf_counter() - t0
        tail = (done.stdout.strip().splitlines() or [""])[-1]
        if done.returncode == 0:
            return "survived", took, tail
        if done.returncode in (1,):  # tests failed
            return "killed", took, tail
        # 2-5: interrupted, internal error, usage error, no tests collected: not a kill
        return "error", took, f"pytest exit {done.returncode}: {tail or done.stderr.strip()[-300:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutants only")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per mutant (default 900)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip running the selected tests once without a mutant (they must pass)")
    args = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        for m in mutants:
            print(f"{m.name:28} {m.file}: {m.why}  [{' '.join(m.tests)}]")
        return 0
    with tempfile.TemporaryDirectory(prefix="mutant-check-") as tmp:
        copy_repo(Path(tmp))
        check_isolation(Path(tmp))
        if not args.no_baseline:
            # A test that fails without any mutant would "kill" every mutant: refuse to score then.
            selected = sorted({t for m in mutants for t in m.tests})
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", *selected]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=tmp, env=env_for(Path(tmp)), capture_output=True, text=True)
            tail = (done.stdout.strip().splitlines() or [""])[-1]
            print(f"baseline {'':28} {time.perf_counter() - t0:6.0f} s  {tail}", flush=True)
            if done.returncode != 0:
                print(done.stdout[-3000:])
                sys.exit("mutation_check: the selected tests fail without a mutant; fix them first")
    results = []
    for m in mutants:
        status, took, detail = run_one(m, args.timeout)
        results.append(status)
        print(f"{status:8} {m.name:28} {took:6.0f} s  {detail}", flush=True)
    killed = results.count("killed")
    run = len([r for r in results if r in ("killed", "survived")])
    print(f"\nmutation score: {killed}/{run} killed"
          + "".join(f", {results.count(s)} {s}" for s in ("stale", "error") if results.count(s)))
    return 0 if killed == run == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
