"""Argument types and the exit status shared by the subcommands."""

from __future__ import annotations

import argparse

EXIT_USER_ERROR = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _int_at_least(minimum: int, said: str):
    """An argparse type: an integer of at least ``minimum`` (``said`` words the bound)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {said}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "at least 1")
_count = _int_at_least(0, "0 or more")
