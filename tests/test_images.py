"""Photos and folders of numbered frames as frame sources, sessions and napari layers.

Frames are drawn with their index in them (tests/fixtures/videos.py) and written
losslessly as PNG, or as JPEG compared with OpenCV's decode of the same file.
The real face is scikit-image's astronaut portrait, tracked with the real models.
"""

from __future__ import annotations

import json
import pickle
import shutil
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from annotator.cli import main
from annotator.errors import SessionError, VideoError
from annotator.media import DEFAULT_FOLDER_FPS, PHOTO_FPS, ImageSequence, open_video
from annotator.session import Session
from tests.fixtures import videos as fx
from tests.fixtures.indexing import assert_indexes_like, keys_for

FIRST = 8  # crosses img9 → img10, where name order and number order differ
COUNT = 12


def cv2_rgb(path) -> np.ndarray:
    """An independent plain decode (libjpeg-turbo / libpng through OpenCV), EXIF applied."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_frames(folder, numbers, *, name="img{n}.png", size=(fx.WIDTH, fx.HEIGHT), quality=95):
    """Frame ``k`` (with ``k`` drawn in) as ``name.format(n=numbers[k])``; returns the frames."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for k, n in enumerate(numbers):
        rgb = fx.make_frame(k, *size)
        Image.fromarray(rgb).save(folder / name.format(n=n), quality=quality)
        frames.append(rgb)
    return frames


@pytest.fixture(scope="module")
def png_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips") / "EP02_01f"
    frames = write_frames(folder, range(FIRST, FIRST + COUNT))
    return folder, np.stack(frames)


@pytest.fixture(scope="module")
def astronaut_jpg(tmp_path_factory):
    from skimage.data import astronaut

    path = tmp_path_factory.mktemp("photos") / "astronaut.jpg"
    Image.fromarray(astronaut()).save(path, quality=92)
    return path


# --------------------------------------------------------------------------- frame folders


def test_folder_is_a_frame_exact_video(png_folder):
    folder, frames = png_folder
    with open_video(folder) as v:
        assert isinstance(v, ImageSequence)
        assert len(v) == COUNT and v.shape == (COUNT, fx.HEIGHT, fx.WIDTH, 3)
        assert (v.width, v.height, v.codec, v.rotation) == (fx.WIDTH, fx.HEIGHT, "png", 0)
        # Numeric order: img8, img9, img10 … (names sort img10 < img11 < … < img8 < img9).
        assert [f.name for f in v.files[:3]] == ["img8.png", "img9.png", "img10.png"]
        assert v.numbers.tolist() == list(range(FIRST, FIRST + COUNT)) and v.first_number == FIRST
        assert v.fps == DEFAULT_FOLDER_FPS
        np.testing.assert_allclose(v.timestamps, np.arange(COUNT) / DEFAULT_FOLDER_FPS)
        for i in (5, 0, 11, 3, 3, -1):
            assert np.array_equal(v[i], frames[i])  # PNG is lossless: exactly what was drawn
            assert fx.read_frame_number(v[i]) == i % COUNT
        assert [i for i, _ in v.iter_frames(2, 6)] == [2, 3, 4, 5]
        for i, rgb in v.iter_frames():
            assert np.array_equal(rgb, frames[i]) and rgb.flags.writeable
        with pytest.raises(TypeError):
            np.asarray(v)
    assert open_video(folder, fps=200).timestamps[1] == pytest.approx(1 / 200)


def test_folder_indexing_matches_numpy(png_folder):
    from hypothesis import HealthCheck, given, settings

    folder, frames = png_folder
    v = open_video(folder, cache_frames=COUNT)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(keys_for(frames.shape))
    def check(key):
        assert_indexes_like(v, frames, key)

    with v:
        check()
        assert np.array_equal(v[2:4, 0], frames[2:4, 0])
        with pytest.raises(IndexError):
            v[True]


def test_a_bad_key_fails_before_any_frame_is_read(png_folder, tmp_path):
    folder = tmp_path / "clip"
    shutil.copytree(png_folder[0], folder)
    v = open_video(folder, cache_frames=1)
    for f in v.files:
        f.unlink()  # any decode would now raise VideoError, not IndexError
    for key in [(slice(None), fx.HEIGHT), (slice(None), 0, 0, 0, 0), ([0, 1], [0, 1, 2]), (..., 3)]:
        with pytest.raises(IndexError):
            v[key]
    with pytest.raises(VideoError, match="img9.png: file not found"):
        v[1:3, 0]


@pytest.mark.parametrize("name", ["img{n:03d}.jpg", "reg_img{n}.jpg", "{n:03d}.jpg"])
def test_jpeg_folder_is_bit_identical_to_a_plain_decode(tmp_path, name):
    folder = tmp_path / "clip"
    write_frames(folder, range(46, 52), name=name, quality=80)
    with open_video(folder) as v:
        assert v.codec == "jpeg" and v.first_number == 46
        for i, f in enumerate(v.files):
            assert f.name == name.format(n=46 + i)
            assert np.array_equal(v[i], cv2_rgb(f))
            assert fx.read_frame_number(v[i]) == i


def test_folder_sha256_follows_the_content_not_the_place(png_folder, tmp_path):
    folder, _ = png_folder
    sha = open_video(folder).sha256
    copy = tmp_path / "elsewhere"
    shutil.copytree(folder, copy)
    assert open_video(copy).sha256 == sha
    Image.fromarray(fx.make_frame(99)).save(copy / "img10.png")
    assert open_video(copy).sha256 != sha
    shutil.copytree(folder, tmp_path / "renamed")
    for f in sorted((tmp_path / "renamed").iterdir()):
        f.rename(f.with_name("x" + f.name))
    assert open_video(tmp_path / "renamed").sha256 != sha


def test_folder_pickles_and_skips_dot_files(png_folder, tmp_path):
    folder = tmp_path / "clip"
    shutil.copytree(png_folder[0], folder)
    (folder / ".DS_Store").write_bytes(b"\0\1junk")
    v = open_video(folder, fps=200)
    w = pickle.loads(pickle.dumps(v))
    assert (len(w), w.fps, w.sha256) == (len(v), 200.0, v.sha256)
    assert np.array_equal(w[4], v[4])
    v.close()
    with pytest.raises(ValueError, match="closed"):
        v[0]


# --------------------------------------------------------------------------- photos


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_photo_is_one_frame_at_time_zero(astronaut_jpg, tmp_path, suffix):
    path = astronaut_jpg if suffix == ".jpg" else tmp_path / "astronaut.png"
    if suffix == ".png":
        Image.open(astronaut_jpg).save(path)
    with open_video(path) as v:
        assert v.shape == (1, 512, 512, 3) and v.codec == suffix.strip(".").replace("jpg", "jpeg")
        assert v.fps == PHOTO_FPS and v.timestamps.tolist() == [0.0]
        assert np.array_equal(v[0], cv2_rgb(path))
        assert v.sha256 == __import__("hashlib").sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("orientation, k", [(1, 0), (3, 2), (6, -1), (8, 1)])
def test_exif_orientation_is_applied(astronaut_jpg, tmp_path, orientation, k):
    # A portrait crop, so a quarter turn shows in the shape too.
    stored = np.asarray(Image.open(astronaut_jpg))[:, 100:400]
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"turned{orientation}.jpg"
    Image.fromarray(stored).save(path, quality=90, exif=exif)
    plain = np.asarray(Image.open(path).convert("RGB"))  # Pillow without exif_transpose
    with open_video(path) as v:
        assert v.orientation == orientation
        assert (v.height, v.width) == np.rot90(plain, k).shape[:2]
        assert np.array_equal(v[0], np.rot90(plain, k))
        assert np.array_equal(v[0], cv2_rgb(path))  # OpenCV honours EXIF orientation too


def test_grey_and_palette_images_become_rgb(tmp_path):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((40, 30), 128, np.uint8)).save(grey)
    with open_video(grey) as v:
        assert v[0].shape == (40, 30, 3) and (v[0] == 128).all()


# --------------------------------------------------------------------------- bad input


def _bad_folder(kind, tmp_path):
    """A broken folder or photo, and the file name its error must mention."""
    folder = tmp_path / kind
    if kind == "empty":
        folder.mkdir()
        return folder, folder.name, "no images"
    if kind in ("truncated_photo", "text_as_jpg", "missing_photo"):
        photo = tmp_path / f"{kind}.jpg"
        if kind == "truncated_photo":
            Image.fromarray(fx.make_frame(0, 320, 240)).save(photo, quality=90)
            data = photo.read_bytes()
            photo.write_bytes(data[: len(data) // 2])
        elif kind == "text_as_jpg":
            photo.write_text("not a picture\n")
        return photo, photo.name, {"truncated_photo": "truncated", "text_as_jpg": "not an image",
                                   "missing_photo": "not found"}[kind]
    write_frames(folder, range(1, 7))
    if kind == "mixed_sizes":
        Image.fromarray(fx.make_frame(0, 80, 60)).save(folder / "img4.png")
        return folder, "img4.png", "80×60"
    if kind == "gap":
        (folder / "img4.png").unlink()
        return folder, "img5.png", "frame 4 is missing"
    if kind == "non_image":
        (folder / "notes.txt").write_text("coder notes\n")
        return folder, "notes.txt", "not an image"
    if kind == "no_number":
        Image.fromarray(fx.make_frame(0)).save(folder / "cover.png")
        return folder, "cover.png", "no frame number"
    if kind == "other_pattern":
        Image.fromarray(fx.make_frame(0)).save(folder / "mask7.png")
        return folder, "mask7.png", "img<N>.png"
    if kind == "duplicate":
        Image.fromarray(fx.make_frame(0)).save(folder / "img004.png")
        return folder, "img4.png", "same frame number 4"
    if kind == "subfolder":
        (folder / "img7").mkdir()
        return folder, "img7", "folder inside"
    if kind == "truncated_frame":
        path = folder / "img3.png"
        path.write_bytes(path.read_bytes()[:-200])
        return folder, "img3.png", "truncated"
    if kind == "truncated_jpeg_frame":
        write_frames(folder, range(1, 7), name="img{n}.jpg")
        for f in folder.glob("*.png"):
            f.unlink()
        path = folder / "img5.jpg"
        path.write_bytes(path.read_bytes()[:-300])
        return folder, "img5.jpg", "truncated JPEG"
    if kind == "not_an_image_frame":
        (folder / "img3.png").write_bytes(b"GIF89a but really nothing at all")
        return folder, "img3.png", "not an image"
    raise AssertionError(kind)


BAD = [
    "empty", "missing_photo", "truncated_photo", "text_as_jpg", "mixed_sizes", "gap", "non_image",
    "no_number", "other_pattern", "duplicate", "subfolder", "truncated_frame",
    "truncated_jpeg_frame", "not_an_image_frame",
]


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_one_line_naming_the_file(kind, tmp_path):
    path, culprit, words = _bad_folder(kind, tmp_path)
    with pytest.raises(VideoError) as err:
        open_video(path)
    message = str(err.value)
    assert culprit in message and words in message, message
    assert "\n" not in message


def test_a_frame_cut_after_opening_is_refused_when_read(tmp_path):
    """Open-time checks read headers and file ends; a frame damaged later fails its decode."""
    folder = tmp_path / "clip"
    write_frames(folder, range(1, 4), name="img{n}.jpg", size=(320, 240))
    with open_video(folder) as v:
        path = folder / "img2.jpg"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        assert fx.read_frame_number(v[0]) == 0
        with pytest.raises(VideoError, match="img2.jpg: cannot decode the image .*truncated or corrupt"):
            v[1]
        with pytest.raises(VideoError, match="img2.jpg"):
            list(v.iter_frames())


@pytest.mark.parametrize("kind", ["gap", "mixed_sizes", "truncated_photo", "empty", "non_image"])
def test_track_refuses_bad_input_and_leaves_nothing(kind, tmp_path, capsys):
    path, culprit, _ = _bad_folder(kind, tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["track", str(path), "--workers", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("annotator: error: ") and culprit in lines[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no .annot left behind


def test_a_frame_folder_without_a_session_says_what_to_run(png_folder):
    with pytest.raises(SessionError, match=r"has no session yet \(EP02_01f.annot\); run `annotator track"):
        Session.open(png_folder[0])


def test_fps_only_for_images(png_folder, video_files):
    with pytest.raises(ValueError, match="fps applies to photos and frame folders"):
        open_video(video_files["h264_cfr_mp4"].path, fps=25)
    with pytest.raises(VideoError, match="positive"):
        open_video(png_folder[0], fps=0)


# --------------------------------------------------------------------------- sessions and tracking


@pytest.mark.slow
def test_track_a_photo_of_a_real_face(astronaut_jpg, tmp_path, capsys):
    from annotator.features import features_from_tracks
    from annotator.tracking.store import load_tracks

    photo = tmp_path / "astronaut.jpg"
    shutil.copy(astronaut_jpg, photo)
    assert main(["track", str(photo), "--workers", "1", "-q"]) == 0
    root = tmp_path / "astronaut.annot"
    assert capsys.readouterr().out.strip() == str(root)
    meta = json.loads((root / "session.json").read_text())["video"]
    assert (meta["frames"], meta["fps"], meta["source"], meta["path"]) == (1, PHOTO_FPS, "photo", "../astronaut.jpg")
    assert (root / "labels").is_dir()
    session = Session.open(photo)  # found beside the photo, as for a video
    tracks = load_tracks(session)
    assert tracks.time.tolist() == [0.0]
    assert tracks.face_present.tolist() == [True]
    assert tracks.face_landmarks.shape[:2] == (1, 478)
    assert np.isfinite(tracks.face_blendshapes).all()
    # The astronaut smiles: the features path reads it from the one frame.
    feats = features_from_tracks(tracks)
    assert feats.values.shape[0] == 1 and np.isfinite(feats.values).all()
    names = list(tracks.blendshape_names)
    smile = tracks.face_blendshapes[0, [names.index("mouthSmileLeft"), names.index("mouthSmileRight")]]
    assert smile.min() > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["grey", "no_face"])
def test_a_photo_without_a_face_is_a_warning(kind, tmp_path, capsys):
    photo = tmp_path / f"{kind}.png"
    if kind == "grey":
        Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(photo)
    else:
        Image.fromarray(fx.make_frame(3, 320, 240)).save(photo)
    assert main(["track", str(photo), "--workers", "1", "-q", "--no-pose"]) == 0
    err = capsys.readouterr().err
    assert "annotator: warning:" in err and "no face found" in err and photo.name in err
    assert (tmp_path / f"{kind}.annot" / "tracks.zarr").is_dir()


@pytest.mark.slow
def test_track_a_frame_folder_at_its_rate(astronaut_jpg, tmp_path, capsys):
    from annotator.tracking.run import track_videos
    from annotator.tracking.store import load_tracks

    folder = tmp_path / "sub01" / "EP02_01f"
    folder.mkdir(parents=True)
    face = np.asarray(Image.open(astronaut_jpg))
    for k, n in enumerate(range(46, 50)):
        Image.fromarray(np.roll(face, 2 * k, axis=1)).save(folder / f"img{n}.jpg", quality=92)
    assert main(["track", str(folder), "--fps", "200", "--workers", "1", "-q", "--no-pose"]) == 0
    root = tmp_path / "sub01" / "EP02_01f.annot"
    meta = json.loads((root / "session.json").read_text())["video"]
    assert (meta["frames"], meta["fps"], meta["source"], meta["first_number"]) == (4, 200.0, "frames", 46)
    session = Session.open(folder)
    with session.open_video() as v:
        assert v.fps == 200.0
    tracks = load_tracks(session)
    np.testing.assert_allclose(tracks.time, np.arange(4) / 200)
    assert tracks.face_present.all()
    # Tracking again at another rate would mix two time bases: refused, the session kept.
    with pytest.raises(SessionError, match="200 fps"):
        track_videos([folder], fps=30, workers=1, progress=False, pose=False)
    assert json.loads((root / "session.json").read_text())["video"]["fps"] == 200.0
    # The same rate (or none) resumes: already complete, nothing to do.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert track_videos([folder], workers=1, progress=False, pose=False)[0].root == root


# --------------------------------------------------------------------------- napari reader


def test_napari_reader_takes_photos_and_frame_folders(png_folder, astronaut_jpg, tmp_path):
    from annotator.napari._reader import napari_get_reader

    folder, frames = png_folder
    for path in (astronaut_jpg, folder):
        reader = napari_get_reader(str(path))
        assert reader is not None, path
        [(data, kwargs, kind)] = reader(str(path))
        assert kind == "image" and kwargs["rgb"] is True
        assert data.shape[0] == (1 if path == astronaut_jpg else COUNT)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "img1.png").write_bytes((folder / "img8.png").read_bytes())
    (mixed / "notes.txt").write_text("x")
    assert napari_get_reader(str(mixed)) is None  # not ours: another reader may take it
    assert napari_get_reader(str(tmp_path / "nothing.gif")) is None


@pytest.mark.gui
def test_file_open_in_napari(make_napari_viewer, png_folder, astronaut_jpg):
    """File ▸ Open goes through npe2's pattern matching to our reader, for a photo and a folder."""
    folder, frames = png_folder
    viewer = make_napari_viewer()
    [photo] = viewer.open(str(astronaut_jpg), plugin="annotator")
    assert photo.data.shape == (1, 512, 512, 3) and photo.rgb
    assert np.array_equal(np.asarray(photo.data[0]), cv2_rgb(astronaut_jpg))
    [clip] = viewer.open(str(folder), plugin="annotator")
    assert clip.data.shape == frames.shape
    viewer.dims.set_current_step(0, 10)
    assert np.array_equal(np.asarray(clip.data[viewer.dims.current_step[0]]), frames[10])
    assert clip.metadata["annotator"]["fps"] == DEFAULT_FOLDER_FPS


def test_napari_manifest_lists_the_image_patterns():
    from importlib.resources import files

    import yaml

    manifest = yaml.safe_load((files("annotator.napari") / "napari.yaml").read_text())
    [reader] = manifest["contributions"]["readers"]
    for pattern in ("*.jpg", "*.jpeg", "*.png"):
        assert pattern in reader["filename_patterns"]
    assert reader["accepts_directories"] is True
