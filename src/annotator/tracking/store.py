"""``SESSION/tracks.zarr``: the face and body tracks of one video (public layout).

The store is a zarr v3 group that any zarr reader can open::

    import zarr
    g = zarr.open_group("clip.annot/tracks.zarr", mode="r")
    g["face/landmarks"][100]          # 478 x 3 pixels of frame 100

Layout (``T`` frames; frame ``i`` is napari's slider index ``i``)::

    tracks.zarr/
      time              [T]          float64  seconds, from the video's presentation timestamps
      face/present      [T]          bool     a face was found in the frame (and kept: see
                                              "Phantom faces" below)
      face/score        [T]          float32  detection confidence in [0, 1] of the tracked
                                              face: the best score of the bundle's own
                                              BlazeFace detector (face_detector.tflite, run
                                              on each frame alone) among its boxes with
                                              IoU >= 0.3 with the landmarks' box, 0 when
                                              none; NaN where no face, and everywhere with
                                              the legacy backend
      face/landmarks    [T, 478, 3]  float32  x, y in pixels of the upright frame, z*W
                                              (same scale as x); NaN where no face
      face/blendshapes  [T, 52]      float32  scores in [0, 1]; attribute ``names`` lists
                                              the 52 categories; NaN where no face, and
                                              everywhere with the legacy backend
      face/matrix       [T, 4, 4]    float32  facial transformation matrix (head pose);
                                              NaN where no face or with the legacy backend
      face68/landmarks  [T, 68, 2]   float32  optional: the 68-point (iBUG 300-W) landmarks of an
                                              imported OpenFace or Py-Feat CSV, x, y in pixels;
                                              NaN where no face or the CSV has no row
      aus/values        [T, K]       float32  optional: ready-made AU intensities of an imported
                                              CSV, scaled to 0..1 (OpenFace's 0-5 divided by 5);
                                              attributes ``names`` (``AU01``, ...; K of them),
                                              ``source`` (``openface-2.0``, ``py-feat``) and
                                              ``scale`` (the divisor applied); NaN where no face
                                              or the tool gives no intensity for that unit
      aus/occurrence    [T, K]       float32  optional, with ``aus/values``: the tool's presence
                                              call, 0 or 1 (OpenFace ``AUxx_c``); NaN where it
                                              makes none (Py-Feat, and OpenFace's AUs without
                                              ``_c``)
      emotions/values   [T, 7]       float32  optional: an imported Py-Feat CSV's emotion
                                              probabilities; attribute ``names`` (anger,
                                              disgust, fear, happiness, sadness, surprise,
                                              neutral) and ``source``
      pose/present      [T]          bool     a body was found
      pose/landmarks    [T, 33, 4]   float32  x, y pixels, z scaled like x, visibility;
                                              NaN where no body
      blocks_done       [B]          bool     bookkeeping for resuming: block b (frames
                                              b*chunk_frames ...) is written
      block_checksums   [B, A, 32]   uint8    sha256 of each array's values in block b, written
                                              just before its ``blocks_done`` marker; attribute
                                              ``arrays`` names the A arrays in order (``time``
                                              and every face/pose array).  Digests are over the
                                              decoded values in C order, every NaN as the same
                                              NaN (see :mod:`annotator.tracking.integrity`)

With ``annotator track --no-pose`` the ``pose`` group is not written at all and
the attribute ``pose_backend`` is ``null``.

Optional arrays (schema version 3): the group attribute ``extra_arrays`` maps each
optional array present to its trailing shape (``{"face68/landmarks": [68, 2],
"aus/values": [17], ...}``); it is ``{}`` (or absent, before version 3) when there
are none.  They are chunked, checksummed and verified like every other array.
A store imported from another tool's CSV (``annotator import openface-csv``) has
them, with ``face_backend`` naming the tool (:data:`IMPORTED_BACKENDS`), the
478-point mesh and blendshapes all NaN, ``face/matrix`` the tool's head rotation
and translation, ``face/score`` its confidence, and no pose.

Every array is chunked along time by ``chunk_frames`` frames (192 by default,
about 1 MB of landmarks), whole frames per chunk.  Absent faces and bodies are
NaN with ``present`` False, never an earlier frame's values.

Phantom faces: a run of fewer than ``min_face_run`` consecutive frames with a
face, with a frame without one (or the video's edge) on each side, is marked
absent (``present`` False, every face array NaN) once the whole video is
tracked: a detector finds "faces" in a blurry logo for a frame or two.  A run
that spans the whole video (a still image) is always kept.  ``min_face_run``
1 keeps every detection.

Warm-up: each block's detectors first see the ``warmup_frames`` frames before
the block (at the video's start, frame 0 held for ``W`` frames), so tracks have no
seam at block starts (see :mod:`annotator.tracking.worker`).

Group attributes::

    schema, schema_version   "annotator.tracks", 3 (2: no optional arrays, still read and
                             verified; 1: no face/score, no warm-up, still readable,
                             ``face_score`` reads as NaN)
    video_path               the video, relative to the session directory
    video_sha256             its checksum
    fps, frames, width, height
    face_backend             "face_landmarker_v2" or "face_mesh_legacy", or for an
                             imported CSV "openface_2_csv" / "pyfeat_csv"
    face_backend_version     mediapipe version
    face_model_sha256        the Face Landmarker bundle's sha256 (null for the legacy backend)
    pose_backend             "pose_full_legacy", or null when pose was skipped
    pose_backend_version     mediapipe version (null when skipped)
    chunk_frames, n_blocks   time chunking; tracking blocks are exactly one chunk
    warmup_frames            frames each block's detectors saw before its start
    min_face_run             shortest run of face frames kept (``track --min-face-run``)
    face_frames_removed      frames marked absent as phantom faces
    block_checksums          "sha256": the store has ``block_checksums`` (absent in stores
                             made before checksums, which stay readable but unverifiable)
    extra_arrays             the optional arrays present and their trailing shapes (above)
    imported_from            for an imported store: the CSV's file name and sha256
    complete                 true only once every block is written (written last)

Only a store with ``complete: true`` is a result; :func:`tracks_complete`
checks it and :func:`load_tracks` reads it into numpy.  :func:`load_tracks`
checks the structure on open and every block's checksum as it loads an array,
and refuses a damaged store in one line; :func:`verify_tracks` checks
everything (``annotator verify``); ``annotator track`` re-tracks damaged blocks.
"""

from __future__ import annotations

from .layout import (
    DEFAULT_CHUNK_FRAMES,
    DEFAULT_MIN_FACE_RUN,
    EXTRA_ARRAYS,
    FACE_ARRAYS,
    IMPORTED_BACKENDS,
    POSE_ARRAYS,
    READABLE_VERSIONS,
    SETTINGS_KEYS,
    STORE_NAME,
    TRACKS_SCHEMA,
    TRACKS_VERSION,
    VERIFIABLE_VERSIONS,
    block_range,
    extra_arrays,
    n_blocks,
    store_path,
)
from .reader import Tracks, load_tracks, tracks_complete
from .verify import record_block_checksums, store_problems, verify_tracks
from .writer import TrackWriter, short_runs, write_tracks

__all__ = [
    "DEFAULT_CHUNK_FRAMES",
    "DEFAULT_MIN_FACE_RUN",
    "EXTRA_ARRAYS",
    "FACE_ARRAYS",
    "IMPORTED_BACKENDS",
    "POSE_ARRAYS",
    "READABLE_VERSIONS",
    "SETTINGS_KEYS",
    "STORE_NAME",
    "TRACKS_SCHEMA",
    "TRACKS_VERSION",
    "VERIFIABLE_VERSIONS",
    "TrackWriter",
    "Tracks",
    "block_range",
    "extra_arrays",
    "load_tracks",
    "n_blocks",
    "record_block_checksums",
    "short_runs",
    "store_path",
    "store_problems",
    "tracks_complete",
    "verify_tracks",
    "write_tracks",
]
