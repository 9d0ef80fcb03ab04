"""Does the retraining loop help?  Prior against retrained, on a held-out subject (issue 13.6).

The sessions, tracked with the real models:

* ``carphone``: re-timed real footage (:mod:`benchmarks.realfootage`): the two
  real surprise onsets of the carphone man played as micro, macro and subtle
  events, and a clip with head motion between events;
* ``astronaut``: the bundled sample (five planted events of five emotions) and
  the astronaut portrait moving with no event;
* one subject per real still that ``make realdata`` fetched (takeo, Einstein,
  Tom Hanks): a face that moves but never expresses.

A simulated coder corrects the prior's proposals against the truth, the way a
person would in the workbench: a proposal that hits a true event is accepted
(edited when its emotion is wrong), every other one is rejected, and each
missed event is drawn.  Those corrected labels are what the model learns from.

For each subject held out in turn, the emotion model and the spotter
calibration are trained on the corrected labels of the other subjects only, and
measured on the held-out subject against its truth:

* spotting F1 (MEGC, IoU >= 0.5): the prior thresholds, the plain calibration
  (before: ``Spotter.fit`` on the other subjects), and the checked calibration
  (after: kept only where the training subjects, held out in turn, confirm it);
* emotion accuracy on the true events (apex features at the true intervals): the
  EMFACS prior, the plain learner (before: scaler + logistic regression alone), and
  the learner blended with the rules (after: the blend weight chosen by
  cross-validation over the training subjects, :func:`annotator.train.fit.choose_prior_weight`).

Then the training cost: 1,000 examples from 20 subjects, made by jittering the
real apex features (there are not 1,000 real events offline; this is said in the
output), through ``evaluate_loso`` and the final fit.

    python benchmarks/bench_retrain.py [--workdir DIR] [--workers 2] [--synthetic 1000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CODER = "coder"


#: One subject per real person: the source video or still a clip is cut from.
PEOPLE = {"carphone_pristine.mp4": "carphone", "WolfgangLanger_Pexels.mp4": "crying_laughing_woman",
          "single_face.mp4": "smiling_man"}


def subject_of(plan) -> str:
    """The person a clip shows: its source (a re-timed real video, or a still)."""
    if plan.source in PEOPLE:
        return PEOPLE[plan.source]
    return Path(plan.source).stem


def set_subject(session, subject: str):
    from annotator.session import Session

    path = session.root / "session.json"
    meta = json.loads(path.read_text())
    if meta.get("subject") != subject:
        meta["subject"] = subject
        path.write_text(json.dumps(meta))
    return Session.open(session.root)


def correct(session, truth, proposals):
    """The simulated coder's file: accept/edit hits with the true emotion, reject the rest, draw misses."""
    from annotator.spotting.metrics import match

    labels = session.new_labels(CODER)
    pairs = {j: i for i, j, _ in match(truth, proposals)}
    for j, p in enumerate(proposals):
        if j in pairs:
            t = truth[pairs[j]]
            status = "accepted" if p.emotion == t.emotion else "edited"
            labels.segments.append(p.replace(emotion=t.emotion, status=status, source=CODER))
        else:
            labels.segments.append(p.replace(status="rejected", source=CODER))
    hit = set(pairs.values())
    labels.segments += [t.replace(id=f"drawn-{i}", status="accepted", source=CODER)
                        for i, t in enumerate(truth) if i not in hit]
    session.save_labels(labels)
    return labels


def prepare(workdir: Path, workers: int):
    """Every session with its truth, reviewed by the simulated coder."""
    from annotator.labels import load_labels
    from annotator.session import Session
    from annotator.spotting.propose import propose
    from annotator.tracking.run import track_videos
    from benchmarks import realfootage as rf
    from benchmarks.bench_realfootage import prepare as prepare_clips
    from benchmarks.realdata import available
    from tests.fixtures.sample import SAMPLE_TRUTH, SAMPLE_VIDEO

    plans = [rf.event_clip("surprise_a", 0), rf.event_clip("surprise_b", 0), rf.mixed_clip(0)]
    # Re-timed events of more people and emotions, where realfootage has them (the crying and
    # laughing woman, the smiling man); only clips whose source footage is here.
    suite = getattr(rf, "emotion_suite", None)
    if suite is not None:
        plans += [p for p in suite(0) if available(p.source)]
    plans += [rf.still_clip(s, 0) for s in rf.STILLS if available(s)] + [rf.still_clip(rf.ASTRONAUT, 0)]
    out = []
    for t in prepare_clips(workdir, plans, workers=workers):
        session = set_subject(t.session, subject_of(t.clip.plan))
        out.append((session, t.truth))
    sample_dir = workdir / "sample"
    sample_dir.mkdir(parents=True, exist_ok=True)
    video = sample_dir / SAMPLE_VIDEO.name
    if not video.exists():
        shutil.copyfile(SAMPLE_VIDEO, video)
    (session,) = track_videos([video], out_dir=None, pose=False, workers=workers, progress=False)
    out.append((set_subject(Session.open(session.root), "astronaut"), load_labels(SAMPLE_TRUTH).segments))
    reviewed = []
    for session, truth in out:
        labels = propose(session)  # the prior's proposals, what the coder reviews
        correct(session, truth, list(labels.segments))
        reviewed.append((session, truth))
    return reviewed


def fold(data, truths, held: str, seed: int = 0) -> dict:
    """Train on every subject but ``held``; score prior and trained on ``held``."""
    from annotator.features.expression import PROPOSAL_LABELS
    from annotator.spotting.metrics import evaluate
    from annotator.spotting.spotter import Spotter
    from annotator.train.examples import emotion_rows
    from annotator.train.fit import (
        _fit_or_constant,
        blended_predictions,
        choose_prior_weight,
        fit_spotter,
        fit_spotter_checked,
    )

    train_idx = [i for i, s in enumerate(data.sessions) if s.subject != held]
    test_idx = [i for i, s in enumerate(data.sessions) if s.subject == held]
    mask = data.groups != held
    model, constant = _fit_or_constant(data.X[mask], data.y[mask], seed)
    calibrated = fit_spotter(data, train_idx)
    checked, spotter_why = fit_spotter_checked(data, train_idx)
    weight, _ = choose_prior_weight(data.X[mask], data.y[mask], data.groups[mask], data.channels, seed)
    prior = Spotter()
    t, p0, p1, p2 = {}, {}, {}, {}
    x_rows, y_rows = [], []
    for i in test_idx:
        s = data.sessions[i]
        t[i] = truths[i]
        p0[i] = prior.spot(s.features)
        p1[i] = calibrated.spot(s.features)
        p2[i] = checked.spot(s.features)
        X, y = emotion_rows(s.features, truths[i])
        x_rows.append(X)
        y_rows.append(y)
    X = np.concatenate(x_rows)
    y = np.concatenate(y_rows)
    row = {"subject": held, "sessions": len(test_idx), "events": int(len(y)),
           "train_examples": int(mask.sum()), "train_classes": sorted(set(data.y[mask].tolist()))}
    s0, s1, s2 = evaluate(t, p0)["all"], evaluate(t, p1)["all"], evaluate(t, p2)["all"]
    row["f1_prior"], row["f1_trained"], row["f1_checked"] = s0.f1, s1.f1, s2.f1
    row["fp_prior"], row["fp_trained"], row["fp_checked"] = (s0.proposals - s0.hits, s1.proposals - s1.hits,
                                                             s2.proposals - s2.hits)
    row["hits_prior"], row["hits_trained"], row["hits_checked"] = s0.hits, s1.hits, s2.hits
    row["threshold"] = round(float(calibrated._param("threshold")), 2)
    row["threshold_checked"] = round(float(checked._param("threshold")), 2)
    row["prior_weight"] = weight
    if len(y):
        probs = prior.emotion_probabilities(X, data.channels)
        prior_pred = np.array([PROPOSAL_LABELS[k] for k in probs.argmax(axis=1)], dtype=object)
        trained_pred = np.full(len(y), constant, dtype=object) if model is None else model.predict(X)
        row["emotion_prior"] = int(np.sum(prior_pred == y))
        row["emotion_trained"] = int(np.sum(trained_pred == y))
        row["emotion_blend"] = int(np.sum(blended_predictions(model, constant, X, data.channels, weight) == y))
        row["note"] = f"one training class: {constant}" if model is None else ""
    return row


def synthetic_timing(data, n: int = 1000, subjects: int = 20, seed: int = 0) -> dict:
    """LOSO + final fit on ``n`` examples jittered from the real apex features (said so in the output)."""
    from annotator.train.examples import TrainingSet
    from annotator.train.fit import emotion_pipeline, evaluate_loso

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(data.y), n)
    scale = data.X.std(axis=0) + 0.1
    X = data.X[pick] + rng.normal(0.0, 0.3, size=(n, data.X.shape[1])) * scale
    synth = TrainingSet(sessions=[], X=np.clip(X, 0.0, None), y=data.y[pick],
                        groups=np.array([f"syn{k:02d}" for k in rng.integers(0, subjects, n)], dtype=object),
                        channels=data.channels)
    t0 = time.perf_counter()
    ev = evaluate_loso(synth, spotting=False)
    t1 = time.perf_counter()
    emotion_pipeline().fit(synth.X, synth.y)
    t2 = time.perf_counter()
    return {"n": n, "subjects": len(set(synth.groups.tolist())), "loso_s": t1 - t0, "fit_s": t2 - t1,
            "uf1": ev.emotion_7["uf1"], "uar": ev.emotion_7["uar"]}


def print_table(rows: list[dict]) -> None:
    """Per held-out subject: spotting F1 and emotion right, prior / before (plain learner) / after (checked)."""
    print("| held-out subject | sessions | events | spotting F1 prior / before / after | false positives "
          "| threshold before / after | emotion right prior / before / after | blend weight | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        n = r["events"]
        emo = (f"{r['emotion_prior']}/{n} · {r['emotion_trained']}/{n} · {r['emotion_blend']}/{n}" if n else "–")
        print(f"| {r['subject']} | {r['sessions']} | {n} | {_f(r['f1_prior'])} · {_f(r['f1_trained'])} · "
              f"{_f(r['f1_checked'])} | {r['fp_prior']} · {r['fp_trained']} · {r['fp_checked']} "
              f"| {r['threshold']} · {r['threshold_checked']} | {emo} | {r['prior_weight']} | {r.get('note', '')} |")
    ev = [r for r in rows if r["events"]]
    total = sum(r["events"] for r in ev)
    print(f"\nemotion right on held-out events, all folds: prior {sum(r['emotion_prior'] for r in ev)}/{total}, "
          f"before (plain learner) {sum(r['emotion_trained'] for r in ev)}/{total}, "
          f"after (blend, weight by CV) {sum(r['emotion_blend'] for r in ev)}/{total}")
    hits = {k: sum(r[f"hits_{k}"] for r in rows) for k in ("prior", "trained", "checked")}
    fps = {k: sum(r[f"fp_{k}"] for r in rows) for k in ("prior", "trained", "checked")}
    print(f"spotting on held-out subjects, all folds: hits prior {hits['prior']}, before {hits['trained']}, after "
          f"{hits['checked']}; false positives prior {fps['prior']}, before {fps['trained']}, after {fps['checked']}")


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="keep clips and sessions here (default: a temp dir)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--synthetic", type=int, default=1000, metavar="N",
                        help="examples in the training-cost run (default 1000; the smoke test uses fewer)")
    args = parser.parse_args(argv)
    from annotator.train import gather

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        t0 = time.perf_counter()
        reviewed = prepare(workdir, args.workers)
        print(f"prepared {len(reviewed)} sessions in {time.perf_counter() - t0:.1f} s")
        data = gather([s for s, _ in reviewed], coder=CODER)
        truths = [t for _, t in reviewed]
        print(f"corrected labels: {len(data.y)} emotion examples "
              f"({', '.join(f'{c} {int(np.sum(data.y == c))}' for c in sorted(set(data.y.tolist())))}), "
              f"{data.n_rejected} rejected proposals, subjects {', '.join(data.subjects)}\n")
        rows = [fold(data, truths, held) for held in data.subjects]
        print_table(rows)
        timing = synthetic_timing(data, n=args.synthetic)
        print(f"\ntraining cost, {timing['n']} SYNTHETIC examples (real apex features jittered by 0.3 σ) from "
              f"{timing['subjects']} subjects: LOSO {timing['loso_s']:.2f} s, final fit {timing['fit_s']:.2f} s "
              f"(LOSO UF1 {_f(timing['uf1'])}, UAR {_f(timing['uar'])} on the jittered copies: not a figure of merit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
