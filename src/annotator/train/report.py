"""The training report beside a model: Markdown with the LOSO scores, and a confusion-matrix PNG."""

from __future__ import annotations

import io
from pathlib import Path

from ..io import atomic_write_bytes, atomic_write_text
from ..labels import EMOTIONS
from .fit import COMPOSITE_CLASSES, Evaluation


def report_paths(model_path: str | Path) -> tuple[Path, Path]:
    """``(report.md, confusion.png)`` beside ``model_path`` (``m.skops`` → ``m.report.md``, ``m.confusion.png``)."""
    model_path = Path(model_path)
    stem = model_path.name[: -len(model_path.suffix)] if model_path.suffix else model_path.name
    return model_path.with_name(f"{stem}.report.md"), model_path.with_name(f"{stem}.confusion.png")


def confusion_png(ev: Evaluation) -> bytes:
    """The 7-class and the composite 3-class confusion matrices side by side, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.8), dpi=100)
    for k, (matrix, classes, title) in enumerate(
        [(ev.confusion_7, EMOTIONS, "7 emotions"), (ev.confusion_3, COMPOSITE_CLASSES, "MEGC composite")]
    ):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(classes)), classes)
        ax.set_xlabel("predicted")
        ax.set_ylabel("coder")
        ax.set_title(f"{title} (leave-one-subject-out)")
        top = max((v for row in matrix for v in row), default=0)
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def markdown(meta: dict, ev: Evaluation | None, png_name: str, timing: float) -> str:
    """The report's text."""
    lines = [f"# Emotion model `{meta['id']}`", ""]
    lines += [
        f"- feature version {meta['feature_version']} ({len(meta['channels'])} channels), spotter `{meta['spotter']}`",
        f"- labels: {', '.join(meta['labels'])}",
        f"- examples: {', '.join(f'{k} {v}' for k, v in meta['examples'].items())};"
        f" rejected proposals {meta['rejected']}",
        f"- subjects ({len(meta['subjects'])}): {', '.join(meta['subjects'])}",
        f"- sessions: {len(meta['sessions'])}; training data sha256 `{meta['data_sha256']}`",
        f"- spotter calibration: {', '.join(f'{k} {v:.4g}' for k, v in meta['spotter_calibration'].items()) or 'none (the prior)'}"
        + (f" ({meta['spotter_choice']})" if meta.get("spotter_choice") else ""),
        *([f"- the EMFACS rules blended in at weight {meta['prior_blend']['weight']} (chosen by cross-validation "
           "over the subjects; 0 is the learnt pipeline alone, 1 the rules alone)"] if meta.get("prior_blend") else []),
        f"- created {meta['created']} by annotator {meta['annotator']}; training took {timing:.2f} s",
        "",
    ]
    if ev is None:
        lines += ["No evaluation was run (`--no-eval`).", ""]
        return "\n".join(lines)
    lines += [
        "## Leave-one-subject-out", "",
        "UF1: mean over classes of F1, TP/FP/FN summed over the folds; UAR: mean per-class recall "
        "(MEGC 2019). Classes without a coder's sample are left out of both means. The composite "
        "is the 7-class prediction mapped to negative/positive/surprise. The prior is the EMFACS "
        "rules, untrained; the model is the learnt pipeline blended with them (the weight chosen "
        "inside each fold on its training subjects); \"learnt alone\" is the pipeline without the rules.", "",
        "| | UF1 | UAR | accuracy | n |", "|---|---|---|---|---|",
    ]
    for name, s in [("model, 7 emotions", ev.emotion_7), ("model, composite 3", ev.emotion_3),
                    ("prior, 7 emotions", ev.prior_7), ("prior, composite 3", ev.prior_3),
                    ("learnt alone, 7 emotions", ev.learnt_7)]:
        lines.append(f"| {name} | {_f(s.get('uf1'))} | {_f(s.get('uar'))} | {_f(s.get('accuracy'))} | {s.get('n')} |")
    lines += [
        "", "| spotting (pooled MEGC F1 on held-out subjects) | F1 |", "|---|---|",
        f"| prior thresholds | {_f(ev.spotting_prior_f1)} |",
        f"| calibrated on the other subjects (kept where they confirm it) | {_f(ev.spotting_calibrated_f1)} |",
        "", "| held-out subject | train | test | emotion accuracy | rules' weight | note |",
        "|---|---|---|---|---|---|",
    ]
    for fold in ev.folds:
        acc = fold.get("accuracy")
        lines.append(f"| {fold['subject']} | {fold['n_train']} | {fold['n_test']} | {_f(acc)} "
                     f"| {fold.get('prior_weight', '–')} | {fold.get('note', '')} |")
    lines += ["", f"Evaluation took {ev.seconds:.2f} s.", "", f"![confusion matrices]({png_name})", ""]
    return "\n".join(lines)


def write_report(model_path: str | Path, meta: dict, ev: Evaluation | None, timing: float) -> tuple[Path, Path | None]:
    """Write the report (and the PNG, when evaluated) atomically beside ``model_path``."""
    md, png = report_paths(model_path)
    if ev is not None:
        atomic_write_bytes(png, confusion_png(ev))
    atomic_write_text(md, markdown(meta, ev, png.name, timing))
    return md, (png if ev is not None else None)
