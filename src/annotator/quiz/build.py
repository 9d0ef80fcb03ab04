"""``annotator quiz``: an offline HTML quiz, and plain MP4 items, from coded real footage.

The folder it writes::

    DIR/
      index.html         the whole quiz (scripts and styles inline; no external URL)
      media/             item pictures (JPEG) and the practice mode's slow replays (MP4)
      items/             one MP4 per item and answer_key.csv, for other learning platforms

It is built in a temporary folder beside DIR and renamed into place when
complete, so a failed build leaves nothing that looks like a quiz.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AnnotatorError
from ..labels.facs import format_aus
from ..labels.model import EMOTIONS
from . import media
from .footage import SampleFootage, SessionFootage
from .items import CHOICES, CODED_STATUSES, DEFAULT_DURATIONS, MODES, VIEWS, Candidate, Item, select_items

#: How long the neutral face shows before and after a flash.
NEUTRAL_MS = 1000
#: Seconds of footage before the onset and after the offset in a video item.
DEFAULT_PAD_S = 0.5
#: How far before the onset the neutral frame is looked for, and its preferred distance.
NEUTRAL_SEARCH_S, NEUTRAL_BEFORE_S = 2.0, 0.25
#: Practice mode's replay speed.
REPLAY_RATE = 0.25


@dataclass(frozen=True)
class QuizOptions:
    items: int = 14
    durations: tuple[int, ...] = DEFAULT_DURATIONS
    mode: str = "practice"
    seed: int = 0
    stage: str = "flash"
    view: str = "face"
    choices: str = "seven"
    coder: str | None = None
    pad_s: float = DEFAULT_PAD_S
    title: str = "Micro-expression training"


@dataclass
class QuizResult:
    root: Path
    items: list[Item]
    notes: list[str] = field(default_factory=list)


def gather(sources: Sequence, coder: str | None) -> tuple[list, list[Candidate], list[str]]:
    """The coded segments as quiz candidates, each with the footage it is cut from.

    ``sources`` holds sessions (the segments of ``coder``, or of each session's only
    coder) and :class:`~annotator.quiz.sources.DatasetPart` (a dataset's samples of
    the subjects who consented to ``quiz``).
    """
    from .sources import DatasetPart

    footage, pool, notes = [], [], []
    skipped = 0
    for source in sources:
        if isinstance(source, DatasetPart):
            notes += _gather_dataset(source, coder, footage, pool)
            continue
        session = source
        coders = session.coders()
        if coder is None:
            if len(coders) != 1:
                what = "no coder's labels" if not coders else f"labels of {', '.join(coders)}"
                raise AnnotatorError(session.root, f"has {what}; pass --coder NAME to say whose labels to use")
            name = coders[0]
        else:
            name = coder
            if name not in coders:
                skipped += 1
                continue
        labels = session.load_labels(name)
        coded = [s for s in labels.sorted() if s.status in CODED_STATUSES and s.emotion in EMOTIONS]
        index = len(footage)
        footage.append(SessionFootage(session, name, labels.sorted()))
        for seg in coded:
            pool.append(Candidate(
                source=index, session=session.name, subject=session.subject, coder=name, segment_id=seg.id,
                onset=seg.onset, apex=seg.apex, offset=seg.offset, emotion=seg.emotion,
                aus=tuple(seg.aus), notes=seg.notes,
            ))
    if skipped:
        notes.append(f"{skipped} session(s) have no labels by {coder}: skipped")
    if not pool:
        who = f"coder {coder}" if coder else "their coders"
        raise AnnotatorError(
            None, f"no accepted or edited segments of the seven emotions by {who} in the sources given"
        )
    return footage, pool, notes


def _gather_dataset(part, coder: str | None, footage: list, pool: list[Candidate]) -> list[str]:
    """A dataset's samples as candidates (apex, onset and offset in clip frames)."""
    ds = part.dataset
    made_for = str(ds.settings.get("coder") or "")
    if coder is not None and coder != made_for:
        raise AnnotatorError(ds.root, f"holds the labels of {made_for or 'an unnamed coder'}, not {coder}; "
                                      "build a dataset with `annotator dataset PROJECT --coder NAME`")
    m = ds.manifest
    spans: dict[str, list[tuple[int, int]]] = {}
    for row in m.itertuples(index=False):
        spans.setdefault(str(row.session), []).append((int(row.onset), int(row.offset)))
    notes = []
    for _, row in m.sort_values("sample_id").iterrows():
        if str(row["subject"]) not in part.subjects or row["emotion"] not in EMOTIONS:
            continue
        first = int(row["start_frame"])
        others = [(on, off) for on, off in spans[str(row["session"])]
                  if (on, off) != (int(row["onset"]), int(row["offset"])) and off >= first
                  and on <= int(row["end_frame"])]
        index = len(footage)
        footage.append(SampleFootage(ds, row, others))
        aus = tuple(a for a in str(row["aus"] or "").split() if a)
        notes_text = str(row["notes"]) if "notes" in m.columns and isinstance(row["notes"], str) else ""
        pool.append(Candidate(
            source=index, session=str(row["session"]), subject=str(row["subject"]), coder=footage[-1].coder,
            segment_id=str(row["segment_id"]), onset=int(row["clip_onset"]), apex=int(row["clip_apex"]),
            offset=int(row["clip_offset"]), emotion=str(row["emotion"]), aus=aus, notes=notes_text,
        ))
    return notes


def neutral_frame(cand: Candidate, segments: list, present: np.ndarray, fps: float) -> int:
    """The same person's neutral frame: before the onset, in no coded segment, with a face."""
    busy = np.zeros(len(present), bool)
    for seg in segments:
        if seg.status != "rejected":
            busy[max(0, seg.onset - 1): seg.offset + 2] = True
    lo = max(0, cand.onset - int(round(NEUTRAL_SEARCH_S * fps)))
    want = cand.onset - max(1, int(round(NEUTRAL_BEFORE_S * fps)))
    options = [f for f in range(lo, cand.onset) if present[f] and not busy[f]]
    if not options:
        return cand.onset  # the onset is where movement starts: the closest to neutral there is
    return min(options, key=lambda f: (abs(f - want), f))


def _check_options(opts: QuizOptions) -> None:
    if opts.mode not in MODES:
        raise AnnotatorError(None, f"--mode must be one of {', '.join(MODES)}, not {opts.mode!r}")
    if opts.view not in VIEWS:
        raise AnnotatorError(None, f"--view must be one of {', '.join(VIEWS)}, not {opts.view!r}")
    if opts.choices not in CHOICES:
        raise AnnotatorError(None, f"--choices must be one of {', '.join(CHOICES)}, not {opts.choices!r}")
    if not 0 <= opts.pad_s <= 5:
        raise AnnotatorError(None, f"--pad must be within 0-5 s, got {opts.pad_s}")


def check_quiz_dir(out: Path, force: bool) -> Path:
    """Refuse a target that is a file, inside a session, or an existing folder without ``force``."""
    out = Path(out)
    real = out.resolve()
    for parent in (real, *real.parents):
        if (parent / "session.json").is_file():
            raise AnnotatorError(out, f"is inside the session {parent}; write the quiz somewhere else")
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise AnnotatorError(out, "exists and is not a folder; choose another -o")
        if any(out.iterdir()) and not force:
            raise AnnotatorError(out, "already exists; pass --force to replace it")
    if not real.parent.is_dir():
        raise AnnotatorError(out, f"cannot be written: its folder {real.parent} does not exist")
    return out


def build_quiz(sessions: Sequence, out: str | os.PathLike, opts: QuizOptions, *, force: bool = False) -> QuizResult:
    """Build the quiz folder ``out`` from sessions and dataset parts (see :func:`gather`)."""
    _check_options(opts)
    out = check_quiz_dir(Path(out), force)
    sources, pool, notes = gather(sessions, opts.coder)
    selection = select_items(pool, opts.items, mode=opts.mode, seed=opts.seed, stage=opts.stage,
                             durations=opts.durations)
    notes += selection.notes
    tmp = out.resolve().parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        (tmp / "media").mkdir()
        (tmp / "items").mkdir()
        records, more = _render_items(sources, selection.items, opts, tmp)
        notes += more
        _write_page(tmp / "index.html", records, opts, sources)
        _write_answer_key(tmp / "items" / "answer_key.csv", records)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return QuizResult(out, selection.items, notes)


def _replace_dir(tmp: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.resolve().parent / f".{out.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _render_items(sources: list, items: list[Item], opts: QuizOptions, root: Path) -> tuple[list[dict], list[str]]:
    tracks: dict[int, object] = {}
    frames: dict[int, object] = {}
    records, fallbacks = [], 0
    try:
        for item in items:
            cand = item.candidate
            src = sources[cand.source]
            if cand.source not in tracks:
                tracks[cand.source] = src.tracks()
                frames[cand.source] = src.frames()
            rec = _render_item(item, src, tracks[cand.source], frames[cand.source], opts, root)
            fallbacks += opts.stage == "flash" and rec["neutral_frame"] == rec["onset"]
            records.append(rec)
    finally:
        for f in frames.values():
            f.close()
    notes = []
    if fallbacks:
        notes.append(f"{fallbacks} flash item(s) have no neutral frame before the onset (a dataset clip "
                     "without --pad, or expressions back to back): the onset frame stands for neutral")
    return records, notes


def _render_item(item: Item, src, tracks, frames, opts: QuizOptions, root: Path) -> dict:
    cand = item.candidate
    fps = src.fps
    n = src.n_frames
    where = f"{src.where} segment {cand.segment_id}"
    neutral = neutral_frame(cand, src.segments, np.asarray(tracks.face_present), fps)
    pad = int(round(opts.pad_s * fps))
    first, last = max(0, cand.onset - pad), min(n - 1, cand.offset + pad)
    span = sorted({neutral, *range(first, last + 1)})
    if src.cropped:
        if opts.view != "face":
            raise AnnotatorError(where, "the dataset's clips are cropped to the face; --view face+body needs a "
                                        "dataset built without --crop")
        crop = media.resize(src.width, src.height)
    elif opts.view == "face":
        crop = media.face_crop(tracks.face_landmarks, span, where)
    else:
        crop = media.body_crop(tracks.face_landmarks, tracks.pose_landmarks, span, src.width, src.height, where)
    stem = f"item-{item.number:03d}"
    at = src.frame0  # the answer key gives the source video's frame numbers
    rec = {
        "number": item.number, "emotion": cand.emotion, "aus": list(cand.aus), "notes": cand.notes,
        "subject": cand.subject, "session": cand.session, "coder": cand.coder, "segment": cand.segment_id,
        "onset": cand.onset + at, "apex": cand.apex + at, "offset": cand.offset + at, "neutral_frame": neutral + at,
        "duration_ms": item.duration_ms, "repeat": item.repeat, "fps": fps,
    }
    clip_path = root / "items" / f"{stem}.mp4"
    if opts.stage == "video":
        pictures = [crop.apply(f) for f in frames.get(list(range(first, last + 1)))]
        media.write_mp4(clip_path, pictures, fps)
        rec.update(clip=f"items/{stem}.mp4", clip_frames=[first + at, last + at])
    else:
        neutral_pic, apex_pic = (crop.apply(f) for f in frames.get([neutral, cand.apex]))
        (root / "media" / f"{stem}-apex.jpg").write_bytes(media.jpeg_bytes(apex_pic))
        rec["apex_image"] = f"media/{stem}-apex.jpg"
        if opts.stage == "flash":
            (root / "media" / f"{stem}-neutral.jpg").write_bytes(media.jpeg_bytes(neutral_pic))
            rec["neutral_image"] = f"media/{stem}-neutral.jpg"
            sequence, clip_ms = media.flash_sequence(neutral_pic, apex_pic, item.duration_ms, NEUTRAL_MS)
            media.write_mp4(clip_path, sequence, media.FLASH_CLIP_FPS)
            rec["clip_apex_ms"] = clip_ms
        else:
            media.write_mp4(clip_path, [apex_pic] * 75, 25)  # 3 s of the still
    rec["item_file"] = f"items/{stem}.mp4"
    if opts.mode == "practice":
        replay = [crop.apply(f) for f in frames.get(list(range(cand.onset, cand.offset + 1)))]
        media.write_mp4(root / "media" / f"{stem}-replay.mp4", replay, fps)
        rec["replay"] = f"media/{stem}-replay.mp4"
    return rec


def _choices(opts: QuizOptions) -> list[dict]:
    names = list(EMOTIONS) + (["neutral"] if opts.choices == "seven+neutral" else [])
    return [{"key": str(i + 1), "emotion": e} for i, e in enumerate(names)]


def _write_page(path: Path, records: list[dict], opts: QuizOptions, sources: list) -> None:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("annotator.quiz", "templates"),
        autoescape=True,  # every label, note, subject and coder name is text, never markup
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    data = {
        "title": opts.title, "mode": opts.mode, "stage": opts.stage, "view": opts.view,
        "feedback": opts.mode == "practice", "seed": opts.seed, "choices": _choices(opts),
        "neutral_ms": NEUTRAL_MS, "replay_rate": REPLAY_RATE, "items": records,
    }
    subjects = sorted({r["subject"] for r in records})
    coders = sorted({s.coder for s in sources})
    html = env.get_template("index.html.j2").render(
        data=data, title=opts.title, opts=opts, n_items=len(records), subjects=subjects, coders=coders,
        nonce=secrets.token_urlsafe(16),
    )
    path.write_text(html, encoding="utf-8")


#: Columns of ``items/answer_key.csv``.
KEY_COLUMNS = ("item", "file", "emotion", "aus", "duration_ms", "clip_apex_ms", "subject", "session",
               "coder", "segment", "onset", "apex", "offset", "neutral_frame")


def _cell(value) -> str:
    text = "" if value is None else " ".join(value) if isinstance(value, list) else str(value)
    # A spreadsheet runs a cell starting with = + - @ as a formula: keep names and notes text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_answer_key(path: Path, records: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(KEY_COLUMNS)
    for r in records:
        row = {**r, "item": r["number"], "file": Path(r["item_file"]).name, "aus": format_aus(r.get("aus") or [])}
        w.writerow([_cell(row.get(c)) for c in KEY_COLUMNS])
    path.write_text(buf.getvalue(), encoding="utf-8")


def describe_selection(result: QuizResult) -> str:
    """One line: how many items, of which emotions, subjects and durations."""
    items = result.items
    emotions = {it.candidate.emotion for it in items}
    subjects = {it.candidate.subject for it in items}
    durs = sorted({it.duration_ms for it in items if it.duration_ms is not None})
    extra = f", durations {','.join(map(str, durs))} ms" if durs else ""
    return (f"{result.root}/index.html: {len(items)} items, {len(emotions)} emotions, "
            f"{len(subjects)} subjects{extra}")
