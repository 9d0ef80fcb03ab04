"""The Dask cluster a batch runs on: a ``LocalCluster`` here, or one that is already running."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ..errors import AnnotatorError


def _worker_environ() -> dict[str, str]:
    # Two malloc arenas keep a tracking worker's RSS flat (see annotator.tracking.worker:
    # _tune_malloc).  That must be set before the worker's threads start, so it goes in
    # the environment the nanny spawns the worker with; Dask's own defaults are kept.
    import dask.config

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    env.setdefault("MALLOC_ARENA_MAX", "2")
    if not os.environ.get("ANNOTATOR_NATIVE_LOGS"):
        from .logs import QUIET_ENV

        for key, value in QUIET_ENV.items():
            env.setdefault(key, value)
    return {k: str(v) for k, v in env.items()}


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int = 2, retries: int = 3) -> Iterator:
    """A ``distributed.Client``, on a new ``LocalCluster`` or on ``scheduler``.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); its workers must see
        the videos and OUTDIR at the same paths, and have the model bundle.
    workers : int
        Worker processes of the ``LocalCluster`` (one thread each: a MediaPipe graph
        keeps one core busy).  Ignored with ``scheduler``.
    retries : int
        How many times a worker may die under a task before the task fails
        (``distributed.scheduler.allowed-failures``; only settable here for the
        ``LocalCluster``, a running scheduler keeps its own).

    Raises
    ------
    AnnotatorError
        The scheduler cannot be reached.
    """
    import logging

    import dask.config
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise AnnotatorError(None, f"cannot reach the Dask scheduler {scheduler} ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    config = {
        "distributed.scheduler.allowed-failures": int(retries),
        "distributed.nanny.pre-spawn-environ": _worker_environ(),
    }
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=int(workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        try:
            client = Client(cluster)
            try:
                from .logs import QuietNativeLogs

                # Before any task loads mediapipe; a restarted worker gets it too.
                client.register_plugin(QuietNativeLogs())
                yield client
            finally:
                client.close()
        finally:
            cluster.close()


def worker_names(client) -> dict[str, str]:
    """Worker address to a short name (the LocalCluster's 0, 1, ...; else the host:port)."""
    info = client.scheduler_info().get("workers", {})
    return {addr: str(w.get("name", addr)) for addr, w in info.items()}


def total_threads(client) -> int:
    """Threads over all workers: how many blocks run at once."""
    return max(1, sum(client.nthreads().values()))
