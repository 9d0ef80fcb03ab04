"""``annotator export|import|formats``: labels and tracks to and from the field's formats."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import AnnotatorError


def _format_options(args: argparse.Namespace) -> dict:
    """``--option KEY=VALUE`` and ``--frame-base`` as keyword options for a format."""
    out = {}
    for item in getattr(args, "option", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise AnnotatorError(None, f"--option {item!r}: expected KEY=VALUE")
        out[key.strip().replace("-", "_")] = value
    if getattr(args, "frame_base", None) is not None:
        out["frame_base"] = args.frame_base
    return out


def _output_path(args: argparse.Namespace) -> Path:
    """The export's target: the one place the output path is decided (and may be checked)."""
    return Path(args.output)


def cmd_export(args: argparse.Namespace) -> int:
    from ..formats import collect_records, get_format
    from ..io import check_output_path
    from ..session import Session

    fmt = get_format(args.format)
    if not getattr(fmt, "can_write", True):
        raise AnnotatorError(None, f"format {args.format!r} can only be read (see `annotator formats`)")
    # before any work: a labels file, a symlink or a device is never replaced
    check_output_path(args.output, force=args.force)
    if getattr(fmt, "exports", "labels") == "frames":  # per-frame tracks (frames-csv), not labels
        return _export_frames(fmt, args)
    sessions = [Session.open(p) for p in args.sessions]
    # Third-party formats get the frame times unless they say they need none.
    collected = collect_records(sessions, args.coder, include_proposals=args.proposals,
                                with_timing=getattr(fmt, "uses_timing", True))
    output = _output_path(args)
    notes = fmt.write(collected.records, output, **_format_options(args)) or []
    print(f"{output}: {collected.n_segments} segments from {len(sessions)} session(s)")
    from ..formats.records import au_intervals_left_out

    for note in [*collected.notes(), *notes, *au_intervals_left_out(fmt, collected.records)]:
        print(f"  note: {note}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..formats import get_format, session_timing
    from ..formats.importing import apply_import, pick_record, plan_import
    from ..session import Session

    fmt = get_format(args.format)
    if not getattr(fmt, "can_read", True):
        raise AnnotatorError(None, f"format {args.format!r} can only be written (see `annotator formats`)")
    if (args.into is None) == (args.video is None):
        raise AnnotatorError(None, "pass exactly one of --into SESSION or --video VIDEO")
    if getattr(fmt, "imports", "labels") == "tracks":  # OpenFace / Py-Feat: per-frame tracks, not labels
        return _import_tracks(fmt, args)
    session = Session.open(args.into) if args.into is not None else Session.create(args.video, subject=args.subject)
    options = {**_format_options(args), "fps": session.fps, "timing": session_timing(session)}
    if args.coder:
        options["coder"] = args.coder
    plans = []
    for path in args.paths:
        records = pick_record(list(fmt.read(path, **options)), session, path, args.subject)
        plans.extend(plan_import(session, records, path, coder=args.coder, force=args.force))
    targets = [p.path for p in plans]
    dup = next((t for t in targets if targets.count(t) > 1), None)
    if dup is not None:
        raise AnnotatorError(dup, "two of the imported files fill the same coder's labels; import them one at a time")
    for path in apply_import(plans):  # nothing is written until every file has been read and checked
        plan = next(p for p in plans if p.path == path)
        n_aus = len(plan.labels.au_intervals)
        lanes = f", {n_aus} AU interval{'s' * (n_aus != 1)}" if n_aus else ""
        print(f"{path}: {len(plan.labels.segments)} segments{lanes}{' (replaced)' if plan.replaces else ''}")
    if args.subject is not None:
        session.set_subject(args.subject)  # after the import: a refused import changes nothing
    return 0


def _import_tracks(fmt, args: argparse.Namespace) -> int:
    from ..formats.tracks_import import import_tracks

    if len(args.paths) != 1:
        raise AnnotatorError(args.paths[1], f"{fmt.name} fills one session's tracks from one file; "
                                            "import them one at a time")
    done = import_tracks(fmt, args.paths[0], into=args.into, video=args.video, subject=args.subject,
                         force=args.force, **_format_options(args))
    print(f"{done.path}: {done.frames_with_face} of {done.session.n_frames} frames with a face from {done.rows} rows "
          f"of {args.paths[0]} ({len(done.au_names)} AUs){' (replaced)' if done.replaced else ''}")
    for note in done.notes:
        print(f"  note: {note}")
    return 0


def _export_frames(fmt, args: argparse.Namespace) -> int:
    """One row per frame of one session (``frames-csv``)."""
    from ..errors import SessionError
    from ..session import Session

    if len(args.sessions) != 1:
        raise SessionError(args.sessions[1], f"{fmt.name} exports one session at a time")
    session = Session.open(args.sessions[0])
    rows = fmt.write_session(session, args.output, **_format_options(args))
    print(f"{args.output}: {rows} frames from {session.name}")
    return 0


def cmd_formats(args: argparse.Namespace) -> int:
    from ..formats import available_formats, direction_of

    for name, fmt in available_formats().items():
        print(f"{name}  ({direction_of(fmt)}, {fmt.suffix})  {getattr(fmt, 'description', '')}")
        print(f"    frames:   {getattr(fmt, 'frame_base', '') or 'not stated'}")
        print(f"    emotions: {getattr(fmt, 'emotions', '') or 'not stated'}")
    return 0
