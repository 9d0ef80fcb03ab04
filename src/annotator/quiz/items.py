"""Choosing quiz items: a pool of coded segments, balanced picks, disjoint pretest and posttest.

An item is one coded segment shown one way (for a flash, at one duration).  The
pool holds every accepted or edited segment of one of the seven emotions in
the coder's labels.  Pretest and posttest draw from two halves of the pool,
split per emotion by the seed, so no segment appears in both; practice draws
from all of it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from ..errors import AnnotatorError
from ..labels.model import EMOTIONS

MODES = ("pretest", "practice", "posttest")
STAGES = ("stills", "flash", "video")
VIEWS = ("face", "face+body")
CHOICES = ("seven", "seven+neutral")
#: Statuses that mean a person stands behind the segment (a proposal does not count).
CODED_STATUSES = ("accepted", "edited")
DEFAULT_DURATIONS = (40, 80, 160, 320)


@dataclass(frozen=True)
class Candidate:
    """One coded segment that can become an item."""

    source: int  # index into the list of sessions
    session: str  # the session's name (for the answer key)
    subject: str
    coder: str
    segment_id: str
    onset: int
    apex: int
    offset: int
    emotion: str
    aus: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Item:
    """A candidate placed in a quiz: its position, and the flash duration (ms) if any."""

    number: int  # 1-based position in the quiz
    candidate: Candidate
    duration_ms: int | None = None
    repeat: bool = False  # the same segment already appears (at another duration)


@dataclass
class Selection:
    items: list[Item]
    pool: int  # candidates available to this mode
    notes: list[str] = field(default_factory=list)


def parse_durations(text: str) -> tuple[int, ...]:
    """``"40,80,160"`` → ``(40, 80, 160)``; one line naming the bad value otherwise."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise AnnotatorError(None, f"--durations: {part!r} is not a whole number of milliseconds") from None
        if not 1 <= value <= 5000:
            raise AnnotatorError(None, f"--durations: {value} ms is outside 1-5000 ms")
        out.append(value)
    if not out:
        raise AnnotatorError(None, "--durations: give at least one duration in ms, e.g. 40,80,160,320")
    return tuple(dict.fromkeys(out))


def split_for_mode(pool: list[Candidate], mode: str, seed: int) -> list[Candidate]:
    """The part of ``pool`` a mode draws from.

    Each emotion's segments are shuffled by ``seed`` and dealt alternately to
    pretest and posttest, starting with whichever half is smaller so far, so both
    halves hold every emotion that has two segments or more.
    """
    if mode not in MODES:
        raise AnnotatorError(None, f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "practice":
        return list(pool)
    rng = random.Random(f"split:{seed}")
    halves: dict[str, list[Candidate]] = {"pretest": [], "posttest": []}
    for emotion in EMOTIONS:
        group = sorted((c for c in pool if c.emotion == emotion), key=_key)
        rng.shuffle(group)
        first = "pretest" if len(halves["pretest"]) <= len(halves["posttest"]) else "posttest"
        second = "posttest" if first == "pretest" else "pretest"
        for i, cand in enumerate(group):
            halves[first if i % 2 == 0 else second].append(cand)
    return halves[mode]


def _key(c: Candidate) -> tuple:
    return (c.subject, c.session, c.onset, c.segment_id)


def select_items(
    pool: list[Candidate], n: int, *, mode: str, seed: int, stage: str, durations: tuple[int, ...]
) -> Selection:
    """``n`` items balanced across emotions, subjects and durations, in an order fixed by ``seed``.

    Emotions take turns; within an emotion, subjects take turns; a flash
    stage gives each emotion every duration in turn.  A segment is reused only
    once every segment of its emotion has been used (for a flash, at another
    duration first), and the notes say so.
    """
    if stage not in STAGES:
        raise AnnotatorError(None, f"--stage must be one of {', '.join(STAGES)}, not {stage!r}")
    if n < 1:
        raise AnnotatorError(None, f"--items must be at least 1, got {n}")
    usable = split_for_mode(pool, mode, seed)
    if not usable:
        raise AnnotatorError(None, f"no coded segments left for the {mode} (pool of {len(pool)}); label more segments")
    rng = random.Random(f"{mode}:{seed}")
    by_emotion: dict[str, list[list[Candidate]]] = {}
    for emotion in EMOTIONS:
        subjects: dict[str, list[Candidate]] = defaultdict(list)
        for cand in sorted((c for c in usable if c.emotion == emotion), key=_key):
            subjects[cand.subject].append(cand)
        if not subjects:
            continue
        lanes = [subjects[s] for s in sorted(subjects)]
        rng.shuffle(lanes)
        for lane in lanes:
            rng.shuffle(lane)
        by_emotion[emotion] = lanes
    emotions = list(by_emotion)
    rng.shuffle(emotions)
    # One round-robin stream per emotion over its subjects: A1 B1 C1 A2 B2 A3 ...
    streams = {e: _round_robin(by_emotion[e]) for e in emotions}
    flash = stage == "flash"
    durs = list(durations) if flash else [None]
    offsets = {e: i for i, e in enumerate(emotions)}  # so emotions start on different durations
    picked: list[tuple[Candidate, int | None, bool]] = []
    counts = dict.fromkeys(emotions, 0)
    used: set[tuple[int, str, int | None]] = set()
    for k in range(n):
        emotion = emotions[k % len(emotions)]
        j = counts[emotion]
        counts[emotion] += 1
        stream = streams[emotion]
        cand = stream[j % len(stream)]
        duration = durs[(offsets[emotion] + j) % len(durs)]
        repeat = j >= len(stream)
        key = (cand.source, cand.segment_id, duration)
        picked.append((cand, duration, repeat or key in used))
        used.add(key)
    rng.shuffle(picked)
    items = [Item(i + 1, c, d, r) for i, (c, d, r) in enumerate(picked)]
    notes = []
    missing = [e for e in EMOTIONS if e not in by_emotion]
    if missing:
        notes.append(f"no coded {', '.join(missing)} segments for the {mode}: those emotions are not asked")
    repeats = sum(it.repeat for it in items)
    if repeats:
        notes.append(f"{repeats} of {n} items reuse a segment (only {len(usable)} segments for the {mode})")
    return Selection(items, len(usable), notes)


def _round_robin(lanes: list[list[Candidate]]) -> list[Candidate]:
    out: list[Candidate] = []
    for i in range(max(len(lane) for lane in lanes)):
        out.extend(lane[i] for lane in lanes if i < len(lane))
    return out
