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


def fold_accents(text: str) -> str:
    """Strip Vietnamese diacritics: 'Chỉ đạo' -> 'Chi dao'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def normalise(text: str, *, accents: bool = True) -> str:
    """NFC, case-folded, punctuation and '-,/' folded to single spaces; accents optionally folded."""
    text = nfc(text).casefold()
    if not accents:
        text = fold_accents(text)
    return _PUNCT.sub(" ", text).strip()


def tokens(text: str, *, accents: bool = True) -> tuple[str, ...]:
    return tuple(normalise(text, accents=accents).split())
