"""Where a quiz item's frames come from: a whole session, or one sample of a dataset.

Both give the same things in their own frame numbers (a session's from its
video's first frame, a sample's from its clip's): the frame rate and count, the
tracked face and pose for the crops, the frames themselves, and the coded
segments around, so the neutral frame of a flash avoids other expressions.
``frame0`` turns their numbers back into the source video's for the answer key.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ..errors import AnnotatorError


class Frames:
    """Decoded frames of one video or clip, kept for the items that reuse them."""

    def __init__(self, video):
        self.video = video
        self.cache: dict[int, np.ndarray] = {}

    def get(self, indices: list[int]) -> list[np.ndarray]:
        missing = sorted(set(indices) - set(self.cache))
        if missing:
            lo, hi = missing[0], missing[-1] + 1
            for i, frame in self.video.iter_frames(lo, hi):
                if i in missing:
                    self.cache[i] = frame
        return [self.cache[i] for i in indices]

    def close(self) -> None:
        self.video.close()


class SessionFootage:
    """A whole session (its coder's segments are the neighbours of every item)."""

    frame0 = 0
    cropped = False  # frames are the video's own

    def __init__(self, session, coder: str, segments: list):
        self.session = session
        self.coder = coder
        self.segments = segments
        self.fps = session.fps
        self.n_frames = session.n_frames
        self.where = str(session.root)
        meta = session.meta["video"]
        self.width, self.height = int(meta["width"]), int(meta["height"])

    def tracks(self):
        from ..tracking.store import load_tracks

        return load_tracks(self.session)

    def frames(self) -> Frames:
        return Frames(self.session.open_video())


@dataclass(frozen=True)
class _Neighbour:
    onset: int
    offset: int
    status: str = "accepted"


class SampleFootage:
    """One dataset sample: its clip (onset − pad … offset + pad), the track slice, and the session's other samples."""

    def __init__(self, dataset, row, neighbours: list):
        self.dataset = dataset
        self.row = row
        self.frame0 = int(row["start_frame"])
        self.fps = float(row["fps"])
        self.n_frames = int(row["end_frame"]) - self.frame0 + 1
        self.cropped = bool(row["crop"])
        self.width, self.height = int(row["width"]), int(row["height"])
        self.where = f"{dataset.root} sample {row['sample_id']}"
        self.coder = str(row["coders"] or dataset.settings.get("coder") or "")
        self.segments = [_Neighbour(on - self.frame0, off - self.frame0) for on, off in neighbours]

    def tracks(self):
        t = self.dataset.tracks(self.row)
        if t["face_present"] is None or t["face_landmarks"] is None or len(t["face_present"]) != self.n_frames:
            raise AnnotatorError(self.dataset.path(self.row["tracks"]),
                                 f"does not hold the {self.n_frames} frames of sample {self.row['sample_id']}")
        return SimpleNamespace(**t)

    def frames(self) -> Frames:
        from ..media import open_video

        path = self.dataset.path(self.row["clip"])
        video = open_video(path, proxy=False) if path.is_file() else open_video(path, fps=self.fps)
        if len(video) != self.n_frames:
            video.close()
            raise AnnotatorError(path, f"has {len(video)} frames, the manifest says {self.n_frames}")
        return Frames(video)
