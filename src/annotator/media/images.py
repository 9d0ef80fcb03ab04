"""Still images and folders of numbered frames, as frame sources.

A **photo** (JPEG, PNG, BMP or TIFF) is a one-frame source at time 0.  Its
frame rate is :data:`PHOTO_FPS` (1 fps) unless one is given: any positive rate
gives the same single time, 0 s, and 1 fps keeps ``frame / fps`` arithmetic
finite downstream.

A **frame folder** is a clip stored as one image per frame, the way CASME II
and SAMM ship theirs (``sub01/EP02_01f/img46.jpg``).  Each file's frame number
is the last run of digits in its name (``img46.jpg``, ``046.jpg``,
``reg_img46.jpg`` are all 46); frame *i* of the source is the *i*-th file in
numeric order (``img9`` before ``img10``), and :attr:`ImageSequence.numbers`
keeps the numbers, since the datasets' tables count frames by image number.
The rate is :data:`DEFAULT_FOLDER_FPS` (30 fps) unless one is given
(``annotator track --fps 200`` for CASME II); times are ``i / fps``.

The folder is checked when opened, from each file's header and last bytes
(cheap: no pixel is decoded): every file must be an image with the same name
pattern and the same upright size, the numbers must run without a gap, and a
JPEG or PNG must end the way a complete file does.  Files whose name starts
with ``.`` (``.DS_Store``) are skipped; anything else is an error naming it.

Why Pillow
----------
PyAV's ``image2`` demuxer also reads JPEG and PNG, but through FFmpeg's own
JPEG decoder and a YUV→RGB conversion in swscale, so its pixels differ from
what every image tool (Pillow, OpenCV, scikit-image, imageio) returns for the
same file; it ignores EXIF orientation; and it decodes a truncated JPEG
without complaint, filling the missing rows with grey.  Pillow decodes with
libjpeg-turbo like OpenCV does (the tests check the frames are bit-identical
to ``cv2.imread``), applies EXIF orientation with ``ImageOps.exif_transpose``,
and raises on a truncated file.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import VideoError
from ..io import sha256_file
from .frames import FrameSource

#: Suffixes read as images (lower case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
#: Frame rate of a photo when none is given.
PHOTO_FPS = 1.0
#: Frame rate of a frame folder when none is given.
DEFAULT_FOLDER_FPS = 30.0

_EXIF_ORIENTATION = 0x0112
# EXIF orientations that turn the stored image by a quarter turn, swapping width and height.
_QUARTER_TURNS = {5, 6, 7, 8}
# Counter-clockwise rotation a viewer applies for the orientations that are pure rotations.
_ROTATION = {1: 0, 3: 180, 6: 270, 8: 90}
_NUMBERED = re.compile(r"(.*?)(\d+)(\D*)")
# How far from the end a complete file's closing marker may sit (cameras append a little).
_TAIL_BYTES = 4096
_CLOSING_MARKER = {"JPEG": b"\xff\xd9", "MPO": b"\xff\xd9", "PNG": b"IEND"}


def is_image_source(path: str | os.PathLike) -> bool:
    """True for a folder or a file with an image suffix (what :class:`ImageSequence` opens)."""
    return os.path.isdir(path) or Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode one image file as an upright H×W×3 uint8 RGB array.

    EXIF orientation is applied; grey, palette and alpha images are converted
    to RGB (alpha is dropped).

    Raises
    ------
    VideoError
        When the file cannot be read or decoded (missing, not an image, truncated).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            upright = ImageOps.exif_transpose(im)
            rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
            return np.array(rgb, dtype=np.uint8)
    except FileNotFoundError:
        raise VideoError(path, "file not found") from None
    except UnidentifiedImageError:
        raise VideoError(path, "not an image file Pillow can read") from None
    except Image.DecompressionBombError as exc:
        raise VideoError(path, f"image too large to decode safely ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports a truncated or corrupt stream as OSError/SyntaxError.
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise VideoError(path, f"cannot decode the image ({detail}); is the file truncated or corrupt?") from None


def _header(path: Path) -> tuple[str, int, int, int]:
    """``(format, width, height, orientation)`` of an image, upright, from its header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            fmt = im.format or "?"
            width, height = im.size
            try:
                orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1))
            except Exception:  # noqa: BLE001 - a garbled EXIF block is not worth refusing the image
                orientation = 1
    except FileNotFoundError:
        raise VideoError(path, "file not found") from None
    except PermissionError:
        raise VideoError(path, "permission denied") from None
    except IsADirectoryError:
        raise VideoError(path, "is a directory, not an image") from None
    except UnidentifiedImageError:
        raise VideoError(path, "not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise VideoError(path, f"unreadable image header ({getattr(exc, 'strerror', None) or exc})") from None
    if orientation in _QUARTER_TURNS:
        width, height = height, width
    return fmt, width, height, orientation


def _check_complete(path: Path, fmt: str) -> None:
    """Refuse a JPEG or PNG whose closing marker is missing (a cut-off copy)."""
    marker = _CLOSING_MARKER.get(fmt)
    if marker is None:
        return
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - _TAIL_BYTES))
            tail = fh.read()
    except OSError as exc:
        raise VideoError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if marker not in tail:
        raise VideoError(path, f"truncated {fmt} (no end-of-image marker); copy the file again")


def _frame_number(path: Path) -> tuple[tuple[str, str, str], int] | None:
    """``((prefix, after, suffix), number)`` from a name like ``reg_img46.jpg``, else None."""
    m = _NUMBERED.fullmatch(path.stem)
    if m is None:
        return None
    return (m.group(1), m.group(3), path.suffix.lower()), int(m.group(2))


def _pattern_text(pattern: tuple[str, str, str]) -> str:
    return f"{pattern[0]}<N>{pattern[1]}{pattern[2]}"


def scan_folder(folder: Path) -> tuple[list[Path], np.ndarray]:
    """The image files of a frame folder in frame order, and their frame numbers.

    Raises
    ------
    VideoError
        Naming the offending file: an empty folder, a file that is not an image,
        a name without a number or off the folder's pattern, a repeated number,
        or a gap in the numbering.
    """
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except PermissionError:
        raise VideoError(folder, "permission denied") from None
    except OSError as exc:
        raise VideoError(folder, f"cannot list the folder ({exc.strerror or exc})") from None
    if not entries:
        raise VideoError(folder, "is a directory with no images in it (expected numbered frames such as img46.jpg)")
    numbered: list[tuple[tuple[str, str, str], int, Path]] = []
    for entry in entries:
        if entry.is_dir():
            raise VideoError(entry, "is a folder inside a frame folder; open a folder that holds only numbered images")
        if entry.suffix.lower() not in IMAGE_SUFFIXES:
            raise VideoError(
                entry, f"not an image; a frame folder holds only numbered {'/'.join(IMAGE_SUFFIXES)} files"
            )
        parsed = _frame_number(entry)
        if parsed is None:
            raise VideoError(entry, "has no frame number in its name (expected e.g. img46.jpg)")
        numbered.append((parsed[0], parsed[1], entry))
    pattern = Counter(p for p, _, _ in numbered).most_common(1)[0][0]
    for p, _, entry in numbered:
        if p != pattern:
            raise VideoError(entry, f"does not follow the folder's numbering {_pattern_text(pattern)}")
    numbered.sort(key=lambda t: t[1])
    for (_, a, first), (_, b, second) in zip(numbered, numbered[1:]):
        if b == a:
            raise VideoError(second, f"has the same frame number {b} as {first.name}")
        if b != a + 1:
            missing = f"frame {a + 1} is" if b == a + 2 else f"frames {a + 1}-{b - 1} are"
            raise VideoError(second, f"follows {first.name} but {missing} missing (a gap in the numbering)")
    files = [entry for _, _, entry in numbered]
    numbers = np.array([n for _, n, _ in numbered], np.int64)
    return files, numbers


class ImageSequence(FrameSource):
    """A photo or a folder of numbered frames as a lazy ``(T, H, W, 3)`` uint8 array.

    The same API as :class:`~.video.VideoSource` (indexing, ``timestamps``,
    ``iter_frames``, ``sha256`` …); see the module docstring for what is read
    and checked.  Frames are decoded on demand, with a small LRU cache, and are
    bit-identical to a plain decode of each file with EXIF orientation applied.

    Parameters
    ----------
    path : str or os.PathLike
        An image file or a folder of numbered images.
    fps : float, optional
        Frame rate; default :data:`PHOTO_FPS` for a photo, :data:`DEFAULT_FOLDER_FPS`
        for a folder.
    cache_frames : int
        How many decoded frames to keep in memory.

    Attributes
    ----------
    files : tuple of Path
        The image of each frame, in frame order.
    numbers : np.ndarray
        The frame number in each file's name (read-only int64); a photo is frame 0.
    first_number : int
        ``numbers[0]``: add it to a frame index to get the dataset's image number.
    orientation : int
        The first image's EXIF orientation (1 when none), already applied.
    """

    def __init__(self, path: str | os.PathLike, *, fps: float | None = None, cache_frames: int = 16):
        self.path = Path(path)
        self.is_folder = self.path.is_dir()
        if fps is None:
            fps = DEFAULT_FOLDER_FPS if self.is_folder else PHOTO_FPS
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise VideoError(self.path, f"the frame rate must be a positive number, not {fps}")
        self.fps = fps
        self._cache_size = max(int(cache_frames), 1)
        self._lock = threading.RLock()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._closed = False
        if self.is_folder:
            files, numbers = scan_folder(self.path)
            heads = [_header(f) for f in files]
            fmt, width, height, orientation = heads[0]
            for f, (f_fmt, w, h, _) in zip(files, heads):
                if (w, h) != (width, height):
                    raise VideoError(
                        f, f"is {w}×{h} but {files[0].name} is {width}×{height}; the frames of a clip must share one size"
                    )
                _check_complete(f, f_fmt)
        else:
            if not self.path.exists():
                raise VideoError(self.path, "file not found")
            files, numbers = [self.path], np.zeros(1, np.int64)
            fmt, width, height, orientation = _header(self.path)
            # One frame: decode it now, so a bad photo fails before anything is made from it.
            self._remember(0, read_image(self.path))
        self.files = tuple(files)
        self.numbers = numbers
        self.numbers.flags.writeable = False
        self.first_number = int(numbers[0])
        self.codec = fmt.lower()
        self.orientation = orientation
        self.rotation = _ROTATION.get(orientation, 0)
        self.width, self.height = int(width), int(height)
        self._timestamps = np.arange(len(files), dtype=np.float64) / self.fps
        self._timestamps.flags.writeable = False
        if not self.is_folder and self._cache[0].shape != self.frame_shape:
            raise VideoError(self.path, "the decoded image does not have the size its header states")

    def __len__(self) -> int:
        return len(self.files)

    @cached_property
    def sha256(self) -> str:
        """sha256 of what the frames are made of (hex).

        A photo: of the file's bytes, as for a video.  A folder: of each file's
        name and sha256 in frame order, so renaming, replacing, adding or removing
        a frame changes it, and copying the folder elsewhere does not.
        """
        if not self.is_folder:
            return sha256_file(self.path)
        h = hashlib.sha256()
        for f in self.files:
            try:
                digest = sha256_file(f)
            except OSError as exc:
                raise VideoError(f, f"cannot read the file ({exc.strerror or exc})") from None
            h.update(f"{f.name}\0{digest}\n".encode())
        return h.hexdigest()

    # -- frames --------------------------------------------------------------------------

    def _read(self, i: int) -> np.ndarray:
        rgb = read_image(self.files[i])
        if rgb.shape != self.frame_shape:
            raise VideoError(
                self.files[i],
                f"is {rgb.shape[1]}×{rgb.shape[0]} but the clip is {self.width}×{self.height} (changed since it was opened?)",
            )
        return rgb

    def _frame(self, i: int) -> np.ndarray:
        with self._lock:
            self._check_open()
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
            return self._remember(i, self._read(i))

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, rgb)`` for frames ``start … stop-1``; new, writable arrays equal to ``v[index]``."""
        start, stop, _ = slice(start, stop).indices(len(self))
        for i in range(start, stop):
            self._check_open()
            yield i, self._read(i)

    def close(self) -> None:
        """Drop the cache; later reads raise."""
        with self._lock:
            self._closed = True
            self._cache.clear()

    # -- what a video has and images do not need ------------------------------------------

    @property
    def has_proxy(self) -> bool:
        """Always False: each frame is its own file, already cheap to read in any order."""
        return False

    @property
    def proxy_path(self) -> None:
        return None

    def build_proxy(self, progress=None) -> Path:
        """Refused: images are read directly, so a proxy would not be faster."""
        raise VideoError(self.path, "images are read one file per frame; they need no proxy")

    def __repr__(self) -> str:
        first = f", first number {self.first_number}" if self.is_folder else ""
        return self._describe() + first + ")"

    def __reduce__(self):
        # Workers get a fresh handle on the same files, not this cache.
        return (_reopen, (os.fspath(self.path), self.fps, self._cache_size))


def _reopen(path: str, fps: float, cache_frames: int) -> ImageSequence:
    return ImageSequence(path, fps=fps, cache_frames=cache_frames)
