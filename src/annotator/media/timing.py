"""How long a clip lasts, said one way wherever it is printed."""

from __future__ import annotations


def clip_duration(times, fps: float) -> float:
    """Seconds from the first frame's presentation time to the end of the last frame.

    The last frame is shown for one nominal frame period, so a 300-frame clip at
    30 fps lasts 10.00 s (not the 9.97 s at which its last frame starts).
    """
    n = len(times)
    if n == 0:
        return 0.0
    period = 1.0 / fps if fps > 0 else 0.0
    return float(times[-1] - times[0]) + period
