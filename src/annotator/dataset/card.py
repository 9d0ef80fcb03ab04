"""The dataset card: what is in a dataset, in Markdown, with a plot of the class balance."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

CARD_FILE = "card.md"
PLOT_FILE = "class_balance.png"


def _table(counts, rows: Sequence[str], cols: Sequence[str], row_name: str) -> list[str]:
    lines = [f"| {row_name} | " + " | ".join(cols) + " | total |", "|---" * (len(cols) + 2) + "|"]
    for r in rows:
        values = [int(counts.get((r, c), 0)) for c in cols]
        lines.append(f"| {r} | " + " | ".join(str(v) for v in values) + f" | {sum(values)} |")
    return lines


def class_balance_plot(manifest, emotions: Sequence[str], path: Path) -> None:
    """Samples per emotion, stacked by split, as a PNG (matplotlib's Agg backend: no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    splits = sorted(manifest["split"].unique())
    fig = Figure(figsize=(7, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bottom = [0] * len(emotions)
    for split in splits:
        part = manifest[manifest["split"] == split]["emotion"].value_counts()
        heights = [int(part.get(e, 0)) for e in emotions]
        ax.bar(list(emotions), heights, bottom=bottom, label=split)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for i, total in enumerate(bottom):
        if total == 0:
            ax.text(i, 0, "none", ha="center", va="bottom", fontsize=8, color="firebrick")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("samples")
    ax.set_title(f"Class balance: {len(manifest)} samples from {manifest['subject'].nunique()} subjects")
    if len(splits) <= 12:
        ax.legend(fontsize=8, ncols=2 if len(splits) > 6 else 1)
    fig.tight_layout()
    fig.savefig(path, format="png")


def write_card(root: Path, manifest, settings: dict[str, Any], notes: Sequence[str], emotions: Sequence[str],
               consent: dict[str, bool]) -> None:
    """``card.md`` and ``class_balance.png`` in ``root``."""
    from ..io import atomic_write_text

    class_balance_plot(manifest, emotions, root / PLOT_FILE)
    n = len(manifest)
    lines = [f"# Dataset card: {settings['project_name'] or 'annotator dataset'}", ""]
    lines += [f"{n} samples (one per labelled segment) from {manifest['session'].nunique()} sessions of "
              f"{manifest['subject'].nunique()} subjects, made by annotator {settings['annotator_version']} "
              f"on {settings['created']}.", ""]
    lines += ["## How it was made", ""]
    said = ("project_name", "annotator_version", "created")
    lines += [f"- **{k}**: `{v}`" for k, v in settings.items() if k not in said]
    lines += ["- **Splits** are subject-disjoint: every subject's samples share one fold. "
              + ("Leave-one-subject-out: fold *k* tests the *k*-th subject." if settings["split"] == "loso" else
                 "Stratified by emotion as far as the subjects allow (scikit-learn's StratifiedGroupKFold)."), ""]
    lines += ["## Samples per emotion and split", ""]
    splits = sorted(manifest["split"].unique())
    counts = manifest.groupby(["emotion", "split"]).size().to_dict()
    lines += _table(counts, list(emotions), splits, "emotion")
    lines += ["", f"![Class balance]({PLOT_FILE})", ""]
    missing = [e for e in emotions if not (manifest["emotion"] == e).any()]
    if missing:
        lines += [f"No samples of: {', '.join(missing)}.", ""]
    lines += ["## Samples per kind", ""]
    lines += _table(manifest.groupby(["kind", "split"]).size().to_dict(), sorted(manifest["kind"].unique()), splits,
                    "kind")
    lines += ["", "## Samples per subject", ""]
    subjects = sorted(manifest["subject"].unique())
    lines += ["| subject | split | samples | " + " | ".join(emotions) + " | dataset consent |",
              "|---" * (len(emotions) + 4) + "|"]
    for s in subjects:
        part = manifest[manifest["subject"] == s]
        per = part["emotion"].value_counts()
        lines.append(f"| {s} | {', '.join(sorted(part['split'].unique()))} | {len(part)} | "
                     + " | ".join(str(int(per.get(e, 0))) for e in emotions)
                     + f" | {'yes' if consent.get(s) else 'not recorded'} |")
    lines += ["", "## Files", "",
              "- `manifest.parquet`, `manifest.csv`: one row per sample (the same rows).",
              "- `samples/<id>/`: the clip (`clip.mp4`, or `frames/img<N>.jpg` numbered by the source's "
              "1-based frame), `tracks.zarr` (the session's tracks for the clip's frames, zarr v3), "
              "`features.parquet` (the AU features of those frames, computed over the whole session).",
              "- `sessions/<session>/features.parquet`: each source session's AU features, every frame "
              "(what `annotator train DATASET` learns from, as it would from the project).",
              "- `manifest` column `consent`: the uses each subject consented to in the project "
              "(`annotator quiz DATASET` shows only subjects with `quiz`).",
              "- `SHA256SUMS`: the sha256 of every file, for `sha256sum -c`.", ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    if not all(consent.get(s) for s in subjects):
        lines += ["Real people's faces are personal data. Subjects without recorded *dataset* consent "
                  "(`annotator project set DIR --subject S --consent dataset`) should not leave the group.", ""]
    atomic_write_text(root / CARD_FILE, "\n".join(lines))
