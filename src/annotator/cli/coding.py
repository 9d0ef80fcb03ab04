"""``annotator agree|merge|evaluate|open``: coders' labels, compared, merged, scored and edited."""

from __future__ import annotations

import argparse

from ..errors import AnnotatorError


def _coder_list(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def cmd_agree(args: argparse.Namespace) -> int:
    import json

    from ..agreement import session_agreement
    from ..session import Session

    reports = [session_agreement(Session.open(p), _coder_list(args.coders)) for p in args.sessions]
    if args.json:
        print(json.dumps([{"session": str(p), **r.to_dict()} for p, r in zip(args.sessions, reports)], indent=2))
    else:
        for path, report in zip(args.sessions, reports):
            print(f"{path}: {report.format_text()}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from ..agreement import session_consensus
    from ..session import Session

    session = Session.open(args.session)
    coders = _coder_list(args.coders) or [c for c in session.coders() if c != args.output]
    labels = session_consensus(session, coders, coder=args.output)
    path = session.labels_path(args.output)
    if path.exists() and not args.force:
        raise AnnotatorError(path, "exists; pass --force to replace it")
    session.save_labels(labels)
    pending = [s for s in labels.segments if s.adjudication]
    print(f"{path}: {len(labels.segments)} segments from {', '.join(coders)}; {len(pending)} to adjudicate")
    for seg in pending:
        print(f"  {seg.onset}–{seg.offset} {seg.emotion}: {seg.adjudication}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate_files, report_json
    from ..spotting.metrics import format_table

    report = evaluate_files(args.truth, args.pred, truth_coder=args.truth_coder, pred_coder=args.pred_coder)
    print(report_json(report) if args.json else format_table(report))
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    """Start napari with the workbench on a video or a session."""
    from .._qt.app import main as run_workbench

    compare = [name.strip() for value in args.compare for name in value.split(",") if name.strip()]
    return run_workbench(args.path, coder=args.coder, compare=compare)
