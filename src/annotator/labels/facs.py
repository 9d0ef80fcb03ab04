"""FACS action-unit notation: the one place AU lists are parsed and formatted.

One style everywhere annotator writes an AU list (the segment table, the
readout, the labels file, the exports whose format allows it): FACS's own,
without an ``AU`` prefix on any unit::

    1+2+R12C+25

Each unit is an optional side (``L`` left, ``R`` right, ``U`` unilateral; ``T``
top and ``B`` bottom as some datasets write them), the AU number, and an
optional intensity letter ``A`` (trace) to ``E`` (maximum); units are joined
with ``+``.  :func:`parse_aus` reads that and what people and tools also write
(``AU6 AU12``, ``AU4+AU7``, ``au10, R20``), so ``AU10+R20`` becomes ``10+R20``.
A dataset format that defines its own convention (CASME II, SAMM) keeps it
on import and export; annotator's files and tables use this one.
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple

SIDES: tuple[str, ...] = ("L", "R", "U", "T", "B")
#: FACS intensity, from trace (A) to maximum (E).
INTENSITIES: tuple[str, ...] = ("A", "B", "C", "D", "E")
#: One unit in the canonical style (as JSON Schema and Python read it).
UNIT_BODY = r"[LRUTB]?[1-9][0-9]?[A-E]?"
#: One AU without intensity (an AU lane's name): ``12``, ``R12``.
LANE_BODY = r"[LRUTB]?[1-9][0-9]?"
_UNIT_IN = re.compile(r"(?P<side>[LRUTB])?(?:AU)?(?P<side2>[LRUTB])?(?P<number>[0-9]{1,2})(?P<intensity>[A-E])?")
_SEPARATORS = re.compile(r"[+,;\s]+")


class AU(NamedTuple):
    """One action unit: its number, side (``""`` both) and FACS intensity (``""`` not scored)."""

    number: int
    side: str = ""
    intensity: str = ""

    def __str__(self) -> str:
        return f"{self.side}{self.number}{self.intensity}"

    @property
    def lane(self) -> str:
        """The AU without its intensity (``R12``): what an AU lane is named."""
        return f"{self.side}{self.number}"


def parse_au(text: str) -> AU:
    """One unit, in any of the accepted spellings (``AU12``, ``R12C``, ``au4``, ``RAU12``).

    Raises
    ------
    ValueError
        Naming the text, when it is not one action unit.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a FACS action unit such as 6, R12 or 23B")
    raw = text.strip()
    match = _UNIT_IN.fullmatch(raw.upper()) if raw == text else None
    if match is None or (match["side"] and match["side2"]):
        raise ValueError(f"{text!r} is not a FACS action unit such as 6, R12 or 23B")
    number = int(match["number"])
    if not 1 <= number <= 99:
        raise ValueError(f"{text!r}: AU numbers run from 1 to 99")
    return AU(number, match["side"] or match["side2"] or "", match["intensity"] or "")


def parse_aus(text: str | Iterable[str | AU]) -> list[AU]:
    """An AU list: a text (``"1+2+R12C"``, ``"AU6 AU12"``, ``"AU4, AU7"``) or a list of units.

    A text may use any of ``+ , ;`` and spaces between units.  A list (a labels
    file's ``aus``) holds one unit per item, or several joined by ``+`` (``"AU4+AU7"``,
    as version 1 files did), with nothing around them: ``"AU6\n"`` is refused.
    Order is kept; an empty text is an empty list.
    """
    if isinstance(text, str):
        return [parse_au(unit) for unit in _SEPARATORS.split(text.strip()) if unit]
    out: list[AU] = []
    for part in text:
        if isinstance(part, AU):
            out.append(part)
        elif isinstance(part, str) and part:
            out.extend(parse_au(unit) for unit in part.split("+"))
        else:
            raise ValueError(f"{part!r} is not a FACS action unit such as 6, R12 or 23B")
    return out


def format_aus(aus: str | Iterable[AU | str]) -> str:
    """The canonical cell: units joined with ``+`` (``1+2+R12C``); ``""`` when there are none.

    ``aus`` is anything :func:`parse_aus` reads: a cell such as ``"6+12"`` (a dataset
    manifest's) formats as itself.
    """
    return "+".join(str(a) for a in parse_aus(aus))


def normalize_aus(aus: str | Iterable[str]) -> list[str]:
    """Each unit of ``aus`` in the canonical style, one per list item: ``["AU4+AU7", "r12"]`` → ``["4", "7", "R12"]``."""
    return [str(a) for a in parse_aus(aus)]


def lane_name(text: str) -> str:
    """The canonical AU lane name for ``text`` (``AU12`` → ``12``); an intensity is refused."""
    au = parse_au(text)
    if au.intensity:
        raise ValueError(f"{text!r}: an AU lane is one AU without intensity (12, R12)")
    return au.lane


def lane_sort_key(lane: str) -> tuple[int, str]:
    """Lanes ordered by AU number, then side."""
    au = parse_au(lane)
    return (au.number, au.side)


__all__ = [
    "AU", "INTENSITIES", "LANE_BODY", "SIDES", "UNIT_BODY", "format_aus", "lane_name", "lane_sort_key",
    "normalize_aus", "parse_au", "parse_aus",
]
