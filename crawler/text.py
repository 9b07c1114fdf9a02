"""Vietnamese text normalisation for matching category names."""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[\s\-‐‑–—,/.:;|()\[\]{}\"'“”‘’«»!?…*+&>›»<‹←→]+")
_SPACE = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_space(text: str) -> str:
    """Collapse white space (including non-breaking) and trim; NFC."""
    return _SPACE.sub(" ", nfc(text).replace("\xa0", " ")).strip()


class _DropMarks(dict):
    """A str.translate table that drops the combining marks (category Mn), filled as characters are met."""

    def __missing__(self, code: int) -> int | None:
        out = self[code] = None if unicodedata.category(chr(code)) == "Mn" else code
        return out


_DROP_MARKS = _DropMarks()


def fold_accents(text: str) -> str:
    """Strip Vietnamese diacritics: 'Chỉ đạo' -> 'Chi dao'."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")).translate(_DROP_MARKS)


def normalise(text: str, *, accents: bool = True) -> str:
    """NFC, case-folded, punctuation and '-,/' folded to single spaces; accents optionally folded."""
    text = nfc(text).casefold()
    if not accents:
        text = fold_accents(text)
    return _PUNCT.sub(" ", text).strip()


def tokens(text: str, *, accents: bool = True) -> tuple[str, ...]:
    return tuple(normalise(text, accents=accents).split())
