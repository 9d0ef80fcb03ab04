"""The npe2 writer: File ▸ Save on an annotator video layer exports its session's labels."""

from __future__ import annotations


def write_labels_csv(path: str, data, meta: dict) -> list[str]:
    """npe2 writer: File ▸ Save on the video layer exports its session's labels (casme-csv).

    Every coder's segments are written (not the unreviewed proposals).  Returns
    ``[]`` for layers that are not an annotator video with a session, so napari
    can say nothing was written.
    """
    from ..formats import collect_records, get_format
    from ..io import check_output_path
    from ..session import Session

    info = (meta or {}).get("metadata", {}).get("annotator") or {}
    if not info.get("session"):
        return []
    # napari's save dialog has already asked before replacing a file; the rest
    # (a session's own files, symlinks, devices, read-only files) still holds
    check_output_path(path, force=True)
    collected = collect_records([Session.open(info["session"])], with_timing=False)
    get_format("casme-csv").write(collected.records, path)
    return [str(path)]
