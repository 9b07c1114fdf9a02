"""Vietnamese text normalisation for matching category names."""

from __future__ import annotations

import functools
import re
import unicodedata

_PUNCT = re.compile(r"[\s\-‐‑–—,/.:;|()\[\]{}\"'“”‘’«»!?…*+&>›»<‹←→]+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_space(text: str) -> str:
    """Collapse white space (including non-breaking) and trim; NFC.

    str.split() splits on exactly the characters re's \\s matches (every code point checked), so joining its
    pieces is re.sub(r"\\s+", " ", text).strip() without the regular expression's cost."""
    if not text.isascii():
        text = nfc(text).replace("\xa0", " ")
    return " ".join(text.split())


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
    return _fold_short(text) if len(text) <= MEMO_CHARS else _fold(text)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")).translate(_DROP_MARKS)


def normalise(text: str, *, accents: bool = True) -> str:
    """NFC, case-folded, punctuation and '-,/' folded to single spaces; accents optionally folded."""
    return _normalise_short(text, accents) if len(text) <= MEMO_CHARS else _normalise(text, accents)


def _normalise(text: str, accents: bool) -> str:
    text = nfc(text).casefold()
    if not accents:
        text = fold_accents(text)
    return _PUNCT.sub(" ", text).strip()


# Labels, titles and menu entries repeat on every page of a portal: short texts are folded and normalised
# once (a page's whole text is not kept)
MEMO_CHARS = 200
_fold_short = functools.lru_cache(maxsize=50_000)(_fold)
_normalise_short = functools.lru_cache(maxsize=50_000)(_normalise)


def tokens(text: str, *, accents: bool = True) -> tuple[str, ...]:
    return tuple(normalise(text, accents=accents).split())
