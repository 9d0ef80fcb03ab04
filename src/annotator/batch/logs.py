"""MediaPipe's own log lines, kept out of the user's terminal on a LocalCluster's workers.

MediaPipe and TFLite write INFO and WARNING lines straight to file descriptor 2
(glog's ``I1201 11:22:33.444 123 gl_context.cc:369] ...``, absl's "All log
messages before absl::InitializeLog()", TFLite's "INFO: Created TensorFlow Lite
XNNPACK delegate"), from C++, so Python's logging cannot filter them, and
``GLOG_minloglevel`` does not reach all of them.  A LocalCluster's workers
share the terminal of ``annotator batch``, so one batch printed a screenful
per block.

:class:`QuietNativeLogs` is a Dask worker plugin: on each worker it points fd 2
at a pipe and forwards every line to the real stderr except those noise lines.
glog's ERROR and FATAL lines, Python tracebacks and Dask's own log lines pass
through unchanged, so real errors still show.  ``ANNOTATOR_NATIVE_LOGS=1``
keeps everything (as it does for ``annotator track``).
"""

from __future__ import annotations

import os
import re
import threading

from distributed.diagnostics.plugin import WorkerPlugin

#: Lines dropped: glog INFO/WARNING (``I``/``W`` + MMDD time thread file:line]), absl's
#: pre-initialisation notice, and TFLite's ``INFO:`` lines.
NOISE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\s\]]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|INFO: )"
)

#: The environment a worker starts with: glog's own threshold as a first layer (ERROR and up).
QUIET_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}

_installed = False
_lock = threading.Lock()


def is_noise(line: bytes) -> bool:
    return bool(NOISE.match(line))


def _forward(read_fd: int, write_fd: int) -> None:
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        pending = b""
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not is_noise(line))
            if kept:
                os.write(write_fd, kept)
        if pending and not is_noise(pending):
            os.write(write_fd, pending)


def filter_native_logs() -> bool:
    """Route this process's fd 2 through the noise filter (once); ``False`` if kept as it is."""
    global _installed
    if os.environ.get("ANNOTATOR_NATIVE_LOGS"):
        return False
    with _lock:
        if _installed:
            return True
        for key, value in QUIET_ENV.items():
            os.environ.setdefault(key, value)
        try:
            import sys

            sys.stderr.flush()
            real = os.dup(2)
            read_fd, write_fd = os.pipe()
            os.dup2(write_fd, 2)
            os.close(write_fd)
        except OSError:
            return False
        threading.Thread(target=_forward, args=(read_fd, real), name="native-log-filter", daemon=True).start()
        _installed = True
        return True


class QuietNativeLogs(WorkerPlugin):
    """A ``distributed`` worker plugin that runs :func:`filter_native_logs` on every worker.

    Registered by :func:`annotator.batch.cluster.connect` on the LocalCluster only:
    a cluster's own workers log to the cluster's files, not the user's terminal.
    Its ``setup`` also runs on workers that join later (a nanny's restart).
    """

    name = "annotator-quiet-native-logs"

    def setup(self, worker) -> None:
        filter_native_logs()

