"""The Chinese licence plate grammar (GA 36-2018): what a plate string may be, and its kind.

A plate is a province character, a letter for the issuing city, then five characters
(7 in all: blue, yellow, black, white plates), or six for new-energy vehicles (8: green),
or four and a usage character (学 coach, 警 police, 港/澳 cross-border, 挂 trailer, 领
consulate). Letters I and O are never used (they read as 1 and 0). A string that fits
none of these is reported as it was read and flagged, never forced into the grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"
_P, _L, _A = f"[{PROVINCES}]", f"[{LETTERS}]", f"[{LETTERS}{DIGITS}]"
_NEV_SMALL = f"[ABCDEFGHJK]{_A}{{1}}[{DIGITS}]{{4}}"  # 粤B D12345 / 粤B DF1234
_NEV_LARGE = f"[{DIGITS}]{{5}}[ABCDEFGHJK]"  # 粤B 12345D

_KINDS = (
    ("standard", re.compile(f"^{_P}{_L}{_A}{{5}}$")),
    ("new_energy", re.compile(f"^{_P}{_L}(?:{_NEV_SMALL}|{_NEV_LARGE})$")),
    ("coach", re.compile(f"^{_P}{_L}{_A}{{4}}学$")),
    ("police", re.compile(f"^{_P}{_L}{_A}{{4}}警$")),
    ("cross_border", re.compile(f"^粤Z{_A}{{4}}[港澳]$")),
    ("trailer", re.compile(f"^{_P}{_L}{_A}{{4}}挂$")),
    ("consulate", re.compile(f"^{_P}{_L}{_A}{{4}}领$")),
)


@dataclass(frozen=True)
class PlateGrammar:
    """Whether a string is a plate, and which kind (None when it is not)."""

    valid: bool
    kind: str | None


def check_plate(text: str) -> PlateGrammar:
    """The plate grammar's verdict on ``text``."""
    for kind, pattern in _KINDS:
        if pattern.match(text):
            return PlateGrammar(True, kind)
    return PlateGrammar(False, None)
