"""The ``annotator`` command: a thin layer over the library.

Every user error is one line on stderr and a non-zero exit; tracebacks are
kept for bugs.  Subcommands import what they need lazily so ``annotator
--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import AnnotatorError
from .args import EXIT_USER_ERROR
from .coding import cmd_agree, cmd_evaluate, cmd_merge, cmd_open
from .corpus import cmd_dataset, cmd_models, cmd_project, cmd_quiz, cmd_train
from .install import cmd_cache, cmd_setup
from .interchange import cmd_export, cmd_formats, cmd_import
from .parser import build_parser
from .tracks import cmd_batch, cmd_info, cmd_probe, cmd_propose, cmd_track, cmd_verify

__all__ = [
    "EXIT_USER_ERROR", "build_parser", "main",
    "cmd_agree", "cmd_batch", "cmd_cache", "cmd_dataset", "cmd_evaluate", "cmd_export", "cmd_formats",
    "cmd_import", "cmd_info", "cmd_merge", "cmd_models", "cmd_open", "cmd_probe", "cmd_project",
    "cmd_propose", "cmd_quiz", "cmd_setup", "cmd_track", "cmd_train", "cmd_verify",
]


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # A warning meant for users (a format plugin that failed to load, a tracking
    # fallback) is one plain line; tqdm.write keeps a running progress bar intact.
    from tqdm import tqdm

    tqdm.write(f"annotator: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except AnnotatorError as exc:
        print(f"annotator: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        # Permissions, read-only or full disks, a file where a folder should be: the
        # user's to fix, so one line naming the path.  Writes are atomic, so nothing
        # half-written is left behind.
        from ..io import describe_os_error

        print(f"annotator: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("annotator: interrupted", file=sys.stderr)
        return 130
