"""Life years as collections and authorities write them, and when two people's years agree."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FLORUIT = re.compile(r"^\s*(active|exhibited|established|founded|fl\.|flourished)|century", re.I)
_DEATH_AFTER_DASH = re.compile(r"[–-]\s*(?:c\.\s*|\?\s*|after\s+|before\s+)*(\d{2,4})")
_DIED = re.compile(r"\bdied\s+(?:c\.\s*)?(\d{3,4})")

Years = tuple[int | None, int | None]  # birth, death


def life_years(birth: int | None, death: int | None, life_dates: str | None) -> Years:
    """Birth and death years to compare. Where the death year is missing, it is read from the
    life dates as written ("1887–1964", "c.1760–1803", "1565 or 66–1640", "died 1907"); dates of
    activity ("active 1820–1840", "19th century") are not life dates and give no years."""
    if life_dates and _FLORUIT.search(life_dates):
        return None, None
    if death is None and life_dates and not life_dates.lstrip().startswith("born"):
        match = _DEATH_AFTER_DASH.search(life_dates) or _DIED.search(life_dates)
        if match:
            digits = match.group(1)
            if len(digits) == 2 and birth is not None:  # "1565–66"
                death = birth // 100 * 100 + int(digits)
                death += 100 if death < birth else 0
            elif len(digits) >= 3:
                death = int(digits)
    return birth, death


@dataclass(frozen=True)
class YearsEvidence:
    agreed: tuple[str, ...] = ()  # "born 1775" or "born 1775/1776"
    conflicts: tuple[str, ...] = ()

    @property
    def compatible(self) -> bool:
        return not self.conflicts


def compare_years(ours: Years, theirs: Years, tolerance: int) -> YearsEvidence:
    """Birth and death years agree when both are known and differ by at most `tolerance`;
    a year one side does not know is neither for nor against."""
    agreed, conflicts = [], []
    for what, a, b in (("born", ours[0], theirs[0]), ("died", ours[1], theirs[1])):
        if a is None or b is None:
            continue
        shown = f"{what} {a}" if a == b else f"{what} {a}/{b}"
        (agreed if abs(a - b) <= tolerance else conflicts).append(shown)
    return YearsEvidence(tuple(agreed), tuple(conflicts))


def years_text(years: Years) -> str:
    birth, death = years
    if birth is None and death is None:
        return "no life years"
    return f"{birth if birth is not None else '?'}–{death if death is not None else ''}"
