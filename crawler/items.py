"""Is an item of a list on a page: by its document number or by its title's words. Pure.

A document number ("15/2018/QĐ-UBND") is compared normalised: case, spaces, Đ/D and accents, dashes
("–", "‐"), so "15/2018/QD - UBND" and "15/2018/qđ-ubnd" are the same number; it must stand on its own
("115/2018/QĐ-UBND" is another). A title is found in a row that carries at least `threshold` of its
words (normalised as category aliases, accents folded), every number of the title among them ("gói thầu
số 11" is not "gói thầu số 8"), within a row not much longer than the title.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.records import Item
from crawler.text import tokens

if TYPE_CHECKING:             # intake normalises numbers without loading the extraction core
    from crawler.extract.rows import Row

_DASHES = re.compile(r"[‐‑‒–—―−]")
_AROUND = re.compile(r"\s*([/\-.])\s*")
_SPACE = re.compile(r"\s+")
MATCHED_CHARS = 300          # the evidence: the matched row's first characters
# a row more than this many times the title's words (plus a few) is a text that may carry them by chance
ROW_WORDS_FACTOR, ROW_WORDS_EXTRA = 3, 12


@dataclass(frozen=True)
class ItemRule:
    match: str                       # "document_number" | "title"
    threshold: float = 0.8


def normalise_number(text: str) -> str:
    """A document number as compared: NFC, Đ as D, accents dropped, upper case, dashes as "-", no spaces
    around "/", "-" or ".", other runs of space as one."""
    text = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").upper()
    text = _DASHES.sub("-", text.replace("\xa0", " "))
    return _SPACE.sub(" ", _AROUND.sub(r"\1", text)).strip()


def item_query(item: Item, rule: ItemRule) -> str:
    """What is typed into the portal's search box for the item."""
    return item.number if rule.match == "document_number" and item.number else item.title


def matches(item: Item, rule: ItemRule, text: str) -> bool:
    if rule.match == "document_number" and item.number:
        number = normalise_number(item.number)
        return bool(number) and re.search(rf"(?<![A-Z0-9]){re.escape(number)}(?![A-Z0-9])",
                                          normalise_number(text)) is not None
    want = set(tokens(item.title, accents=False))
    if not want:
        return False
    have = tokens(text, accents=False)
    if len(have) > ROW_WORDS_FACTOR * len(want) + ROW_WORDS_EXTRA:
        return False
    # the numbers of a title name the item ("gói thầu số 11" is not "gói thầu số 8"): each must be there
    if any(any(ch.isdigit() for ch in word) and word not in have for word in want):
        return False
    return len(want & set(have)) >= rule.threshold * len(want)


def find_item(item: Item, rule: ItemRule, rows: tuple[Row, ...]) -> Row | None:
    """The first row that carries the item."""
    return next((row for row in rows if matches(item, rule, row.text)), None)


def evidence_text(row: Row) -> str:
    return row.text[:MATCHED_CHARS]
