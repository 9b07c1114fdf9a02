"""Dates as Vietnamese state-agency portals write them.

Portals write dates day first ("05/11/2018" is 5 November 2018), in digits
("05/07/2018", "27.8.2014 - 10:45", "(09/10/2015 15:34:31)") or in words
("ngày 25 tháng 10 năm 2018", "Thứ ba, 25 Tháng 1 2022 16:22"), often with a
weekday and a time of day around them. Machine-readable dates (ISO 8601 in
``<time datetime>``, ``<meta article:published_time>`` and JSON-LD; RFC 822 in
RSS ``pubDate``) are parsed separately by :func:`parse_machine_date`.

Everything here is pure: no network, no clock. An absent date is ``None`` or
an empty list, never "today".

Decisions worth knowing:

- A post date needs a day. Month-year phrases ("tháng 5/2018",
  "Quý I/2018"), year ranges ("2016 - 2020") and bare years ("© 2018") are
  not dates; :func:`is_bare_year` recognises the last kind.
- Two-digit years are accepted only in the strict form ``dd/mm/yy`` (two
  digits each, slashes, nothing numeric glued on either side); 00-69 mean
  20yy and 70-99 mean 19yy (the POSIX ``%y`` pivot), so "31/12/99" is 1999.
  ``dd-mm-yy`` and ``dd.mm.yy`` are refused: they look too much like phone
  numbers ("08-12-34") and version numbers.
- Unaccented words ("ngay 25 thang 10 nam 2018", as some old portals write)
  are accepted; weekdays and month names must carry their diacritics.
- Vietnamese month names ("tháng Mười Hai") are accepted only where they
  cannot be read as "năm" = year: "25 tháng Năm, 2018" is a date,
  "25 tháng năm 2018" is not.
- Month-first "Tháng 10 25, 2018" (an English date format rendered with a
  Vietnamese locale) is accepted only with the comma before the year.
- Document numbers ("15/2018/QĐ-UBND", "05/07/2018/QĐ") are refused: a
  date glued to "/" plus a letter or digit is part of a number.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "VN_TZ",
    "DateMatch",
    "find_dates",
    "first_date",
    "parse_machine_date",
    "is_bare_year",
]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_time(value: datetime.datetime) -> datetime.datetime:
    """A stored moment in the province's time (Asia/Ho_Chi_Minh, +07:00); a naive one is taken as UTC,
    as the store writes them. Every export and the provenance show times through this."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(VN_TZ)

DEFAULT_MIN_YEAR = 1995
DEFAULT_MAX_YEAR = 2100

# --- small named parts -------------------------------------------------------
# Every date pattern starts with a plain digit class, so the regex engine can
# skip straight to digits (a leading lookbehind or optional group makes it try
# every position: 10x slower). Guards that look before the date therefore sit
# after its first digit, and day ranges are left to datetime.date.
NOT_AFTER_NUMBER = r"(?<![0-9][0-9])(?<![0-9][./-][0-9])"  # after the 1st digit
NOT_AFTER_WORD = r"(?<![\w./-][0-9])"  # after the 1st digit
DAY = r"(?:3[01]|[12][0-9]|0?[1-9])"
LEADING_DAY = rf"[0-9]{NOT_AFTER_NUMBER}[0-9]?"  # 1-31 left to datetime.date
MONTH = r"(?:1[0-2]|0?[1-9])"
YEAR = r"(?:19[0-9]{2}|2[0-9]{3})"  # min_year/max_year narrow it afterwards
ISO_YEAR = rf"[12]{NOT_AFTER_NUMBER}[0-9]{{3}}"
DAY_2DIGIT = rf"[0-3]{NOT_AFTER_WORD}[0-9]"
MONTH_2DIGIT = r"(?:1[0-2]|0[1-9])"
YEAR_2DIGIT = r"[0-9]{2}"
TWO_DIGIT_YEAR_PIVOT = 70  # "69" is 2069, "70" is 1970, as POSIX %y
# 0-23, written to start with a digit class (see above): the lookbehinds
# refuse a digit before the hour and the hours 24-99
HOUR = r"[0-9](?<![0-9][0-9])[0-9]?(?<![3-9][0-9])(?<!2[4-9])"
MINUTE = r"[0-5][0-9]"
SECOND = r"(?:[0-5][0-9]|60)"

# "14:30", "15:34:31", "14h30", "14h", "08:46 AM"
TIME = (
    rf"(?:{HOUR}:{MINUTE}(?::{SECOND})?|{HOUR}h(?:{MINUTE})?)"
    r"(?:\s?[AP]M\b)?(?![\w:])"
)
# ISO 8601 time of day and zone, as in "2018-07-05T14:30:00.000+07:00"
ISO_TIME = rf"{HOUR}:{MINUTE}(?::{SECOND}(?:[.,][0-9]+)?)?"
ISO_ZONE = r"(?:Z|[+-](?:0[0-9]|1[0-4])(?::?[0-5][0-9])?)"

# the words of "ngày 25 tháng 10 năm 2018", also as old portals write them
# without diacritics ("ngay 25 thang 10 nam 2018")
DAY_WORD = r"ng[aà]y"
MONTH_WORD = r"th[aá]ng"
YEAR_WORD = r"n[aă]m"

# "Thứ 5", "Thứ Năm", "Chủ nhật", "CN", "T5"
WEEKDAY = r"\b(?:thứ\s*(?:[2-7]|hai|ba|tư|năm|sáu|bảy|bẩy)|chủ\s*nhật|CN|T[2-7])\b"
# separators between a date and its time or weekday: "," "-" "–" "|"
GAP = r"\s{0,4}(?:[,|\-\u2013\u2014]\s{0,4})?"

MONTH_NAMES = {
    "một": 1,
    "giêng": 1,
    "hai": 2,
    "ba": 3,
    "tư": 4,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "bẩy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
    "mười một": 11,
    "mười hai": 12,
    "chạp": 12,
}
# longest first, so "mười hai" wins over "mười"
MONTH_NAME = (
    "(?:"
    + "|".join(
        name.replace(" ", r"\s+")
        for name in sorted(MONTH_NAMES, key=len, reverse=True)
    )
    + r")\b"
)

# --- compiled patterns ---------------------------------------------------------
# "2018-07-05", "2018/07/05", "2018-07-05T14:30:00+07:00"
ISO_DATE = re.compile(
    rf"(?P<year>{ISO_YEAR})(?P<sep>[-/])(?P<month>{MONTH})(?P=sep)"
    rf"(?P<day>{DAY})(?:T(?P<time>{ISO_TIME})(?P<zone>{ISO_ZONE})?)?"
    r"(?!\d)(?![/.-]\d)"
)
# "05/07/2018", "5-7-2018", "27.8.2014"; never glued to a document number
# ("05/07/2018/QĐ"), a longer dotted number or another digit
NUMERIC_DATE = re.compile(
    rf"(?P<day>{LEADING_DAY})(?P<sep>[/.-])(?P<month>{MONTH})(?P=sep)"
    rf"(?P<year>{YEAR})(?!\d)(?!/\w)(?!\.\d)"
)
# "05/07/18" (20yy); strict: two digits each, slashes (phone numbers use
# "-" and "."), nothing glued on
SHORT_NUMERIC_DATE = re.compile(
    rf"(?P<day>{DAY_2DIGIT})/(?P<month>{MONTH_2DIGIT})"
    rf"/(?P<year>{YEAR_2DIGIT})(?!\w)(?![/.-]\w)"
)
# "25 tháng 10 năm 2018", "25 Tháng 1 2022", "25 tháng 10, 2018",
# "25 tháng Mười, 2018"; a month name needs "," or "năm" before the year.
# A "ngày" before the day is added by _attach_time (see DAY_WORD_BEFORE).
WORDS_DATE = re.compile(
    rf"(?P<day>{LEADING_DAY})\s+{MONTH_WORD}\s+"
    rf"(?:(?P<month>{MONTH})(?:\s*,\s*|\s+{YEAR_WORD}\s+|\s+)"
    rf"|(?P<month_name>{MONTH_NAME})(?:\s*,\s*|\s+{YEAR_WORD}\s+))"
    rf"(?P<year>{YEAR})(?!\d)",
    re.IGNORECASE,
)
# "Tháng 10 25, 2018", "Tháng Mười 25, 2018": the comma is required
# (the first letter is a plain class and the flag scoped, for speed as above)
MONTH_FIRST_DATE = re.compile(
    rf"[tT](?<![^\W\d_][tT])(?i:h[aá]ng\s+(?:(?P<month>{MONTH})|(?P<month_name>{MONTH_NAME}))"
    rf"\s+(?P<day>{DAY}),\s*(?P<year>{YEAR})(?!\d))"
)
# English month names, as portals with an English interface render dates
# ("November 26, 2018", "Nov 26, 2018", "26 November 2018", "26th Nov 2018")
ENGLISH_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
ENGLISH_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
ORDINAL = r"(?:st|nd|rd|th)?"
# "November 26, 2018" / "Nov 26 2018": month first (a lookahead on the
# first letter keeps the engine from trying the alternation everywhere)
ENGLISH_MONTH_FIRST_DATE = re.compile(
    rf"(?=[JFMASONDjfmasond])(?<![^\W\d_])(?i:(?P<month_name>{ENGLISH_MONTH})"
    rf"\s+(?P<day>{DAY}){ORDINAL},?\s+(?P<year>{YEAR})(?!\d))"
)
# "26 November 2018", "26th Nov, 2018": day first
ENGLISH_DAY_FIRST_DATE = re.compile(
    rf"(?P<day>{LEADING_DAY}){ORDINAL}\s+(?i:(?P<month_name>{ENGLISH_MONTH}))"
    rf",?\s+(?P<year>{YEAR})(?!\d)"
)
# "Thứ hai, 05 11 2018": day, month and year apart by spaces, read only right
# after a weekday (elsewhere three numbers in a row are not a date)
SPACED_DATE = re.compile(
    rf"(?P<day>{LEADING_DAY})\s(?P<month>{MONTH})\s(?P<year>{YEAR})(?!\d)"
)
# weekdays, Vietnamese and English, with their ISO number (Monday = 1)
WEEKDAY_NUMBERS = {
    "2": 1, "hai": 1, "3": 2, "ba": 2, "4": 3, "tư": 3, "5": 4, "năm": 4,
    "6": 5, "sáu": 5, "7": 6, "bảy": 6, "bẩy": 6,
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
}
# a weekday right before a date: "Thứ 5, ", "Thu, ", "Thursday ", "CN - "
WEEKDAY_BEFORE = re.compile(
    r"(?:\bth[ứu]\s*(?P<vi>[2-7]|hai|ba|tư|năm|sáu|bảy|bẩy)|\bT(?P<short>[2-7])"
    r"|(?P<sunday>\bch[ủu]\s*nh[ậa]t|\bCN)"
    r"|\b(?P<en>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?)"
    rf"{GAP}(?:{DAY_WORD}\s{{0,4}}:?\s{{0,4}})?\Z",
    re.IGNORECASE,
)
WEEKDAY_WINDOW = 24  # characters searched before a date for WEEKDAY_BEFORE
# "ngày " right before a date in words, made part of its text
DAY_WORD_BEFORE = re.compile(rf"\b{DAY_WORD}\s{{1,4}}\Z", re.IGNORECASE)

# a time right after a date: "05/07/2018 14:30", "27.8.2014 - 10:45",
# "09/01/2020, 22:00", "05/07/2018 (14:30)", "05/07/2018 lúc 14h30"
TIME_AFTER = re.compile(
    rf"{GAP}(?:l[uú]c\s+)?(?:\(\s*{TIME}\s*\)|{TIME})", re.IGNORECASE
)
# a time right before a date, maybe with a weekday and "ngày" between:
# "14:30 05/07/2018", "08:46, Thứ Năm, 12/07/2018"; searched up to the date
TIME_BEFORE = re.compile(
    rf"{TIME}{GAP}(?:{WEEKDAY}{GAP})?(?:{DAY_WORD}\s{{0,4}}:?\s{{0,4}})?\Z", re.IGNORECASE
)
TIME_BEFORE_WINDOW = 60  # characters searched before a date for TIME_BEFORE

# strict gate in front of datetime.fromisoformat, which also takes week dates
ISO_MACHINE = re.compile(
    rf"[0-9]{{4}}-?[0-9]{{2}}-?[0-9]{{2}}"
    rf"(?:[T ]{ISO_TIME}\s?{ISO_ZONE}?)?"
)
# the calendar date at the start of a machine value the strict parsers refuse
ISO_PREFIX = re.compile(r"(?P<year>[12][0-9]{3})-(?P<month>[01]?[0-9])-(?P<day>[0-3]?[0-9])(?![0-9])")
# "GMT+7", "UTC+07:00" in feeds → "+0700", which email.utils understands
GMT_OFFSET = re.compile(
    r"\b(?:GMT|UTC)\s*(?P<sign>[+-])\s*(?P<hours>[0-9]{1,2})(?::?(?P<minutes>[0-9]{2}))?\b",
    re.IGNORECASE,
)
SPACE_BEFORE_ZONE = re.compile(rf"\s+(?={ISO_ZONE}$)")

COPYRIGHT = r"(?:©|\(c\)|\bcopyright\b|\bbản\s+quyền\b)"
# "2018", "© 2018", "Copyright 2015 - 2018", "Năm 2018", "2016-2020"
BARE_YEAR = re.compile(
    rf"[\W_]*(?:(?:{COPYRIGHT}|\bnăm\b)[\W_]*)*{YEAR}(?:\s*[-\u2013\u2014/]\s*{YEAR})?[\W_]*",
    re.IGNORECASE,
)
# "Copyright © 2018 Sở Thông tin và Truyền thông"
COPYRIGHT_LINE = re.compile(rf"{COPYRIGHT}.{{0,80}}?(?<!\d){YEAR}(?!\d)", re.IGNORECASE)

# NFD input is normalised in chunks of about this many characters, each
# ending before an ASCII character
NFC_CHUNK = 256
ASCII_CHAR = re.compile(r"[\x00-\x7f]")
# a base character and the combining marks after it (decomposed Latin text)
COMBINING_RUN = re.compile(r".[\u0300-\u036f\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+", re.S)


@dataclass(frozen=True)
class DateMatch:
    """One date found in free text.

    ``start``/``end``/``text`` refer to the text as given to
    :func:`find_dates` (also when it was NFD); ``text`` includes a time of
    day found next to the date and, for dates in words, a leading "ngày".
    """

    value: datetime.date  # the calendar date in Vietnam local time
    start: int  # span in the input text
    end: int
    text: str  # the matched text
    has_time: bool  # a time of day was part of the match
    kind: str  # "numeric" | "words" | "iso"


class _Candidate(NamedTuple):
    """A date core found by one pattern, before times are attached."""

    start: int
    end: int
    value: datetime.date
    has_time: bool
    kind: str




def find_dates(
    text: str, *, min_year: int = DEFAULT_MIN_YEAR, max_year: int = DEFAULT_MAX_YEAR
) -> list[DateMatch]:
    """Every plausible day-first date written in free text, in order of appearance.

    Returns a list of :class:`DateMatch` (empty when there is none); never
    raises on odd input. Invalid calendar dates (31/02/2018) and years outside
    ``min_year..max_year`` are skipped. Decomposed (NFD) text is handled:
    matching runs on an NFC copy and spans are mapped back to ``text``.
    """
    if not text or not _has_digit(text):
        return []
    nfc, to_input = _to_nfc(text)
    candidates = _drop_overlaps(_find_candidates(nfc, min_year, max_year))
    matches = []
    previous_end = 0
    for index, candidate in enumerate(candidates):
        next_start = candidates[index + 1].start if index + 1 < len(candidates) else len(nfc)
        start, end, has_time = _attach_time(nfc, candidate, previous_end, next_start)
        previous_end = end
        if to_input is not None:
            start, end = to_input(start), to_input(end)
        matches.append(
            DateMatch(candidate.value, start, end, text[start:end], has_time, candidate.kind)
        )
    return matches


def first_date(text: str, **kw) -> datetime.date | None:
    """The first date in text (see :func:`find_dates` for keywords), or None."""
    if not text:
        return None
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    matches = find_dates(text, **kw)
    return matches[0].value if matches else None


def parse_machine_date(
    value: str, *, min_year: int = DEFAULT_MIN_YEAR, max_year: int = DEFAULT_MAX_YEAR
) -> datetime.date | None:
    """A machine-readable date as the Vietnam local calendar date, or None.

    Accepts ISO 8601 with or without time and zone (``<time datetime>``,
    ``<meta article:published_time>``, JSON-LD) and RFC 822/1123 (RSS
    ``pubDate``). A value with a zone is converted to Asia/Ho_Chi_Minh
    (``2018-12-31T20:00:00Z`` is 2019-01-01); a value without one is taken as
    local. Day-first text such as "05/07/2018" is not machine-readable here
    (ASP.NET feeds write month first): use :func:`find_dates` for it.
    Years outside ``min_year..max_year`` give None, which drops the
    placeholders CMSs write for "no date" ("0001-01-01T00:00:00",
    "1970-01-01"). Never raises.
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    moment = _parse_iso(value) or _parse_rfc822(value)
    if moment is None:
        day = _iso_calendar_prefix(value)
        return day if day is not None and min_year <= day.year <= max_year else None
    day = _local_date(moment)
    if day is None or not min_year <= day.year <= max_year:
        return None
    return day


def is_bare_year(value: str) -> bool:
    """True for texts that are only a year or a copyright line.

    "2018", "© 2018", "Copyright 2015-2018", "Năm 2018", a range "2016 - 2020"
    and "Copyright © 2018 Sở TTTT" are bare years; anything holding a full
    date ("© 2018 - cập nhật 05/07/2018") is not.
    """
    if not isinstance(value, str):
        return False
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        return False
    if BARE_YEAR.fullmatch(value):
        return True
    return bool(COPYRIGHT_LINE.search(value)) and not find_dates(value, min_year=1000)


# --- helpers -----------------------------------------------------------------


def _has_digit(text: str) -> bool:
    """Cheap gate: no digit, no date."""
    return any(c in text for c in "0123456789")


def _to_nfc(text: str) -> tuple[str, Callable[[int], int] | None]:
    """NFC copy of text and, when it differs, a map from its offsets to text's.

    The text is normalised in chunks cut before ASCII characters (which never
    compose with what precedes them). Offsets are mapped back chunk by chunk,
    and a chunk's table is built only when a date lies in it.
    """
    if unicodedata.is_normalized("NFC", text):
        return text, None
    input_starts: list[int] = []
    nfc_starts: list[int] = []
    pieces: list[str] = []
    position = nfc_length = 0
    while position < len(text):
        boundary = ASCII_CHAR.search(text, position + NFC_CHUNK)
        end = boundary.start() if boundary else len(text)
        piece = unicodedata.normalize("NFC", text[position:end])
        input_starts.append(position)
        nfc_starts.append(nfc_length)
        pieces.append(piece)
        nfc_length += len(piece)
        position = end
    input_starts.append(len(text))
    tables: dict[int, list[int]] = {}

    def to_input(index: int) -> int:
        """Offset in text of the NFC copy's offset index."""
        chunk_index = max(bisect_right(nfc_starts, index) - 1, 0)
        if chunk_index not in tables:
            chunk = text[input_starts[chunk_index] : input_starts[chunk_index + 1]]
            tables[chunk_index] = _chunk_offsets(chunk, len(pieces[chunk_index]))
        table = tables[chunk_index]
        local = min(index - nfc_starts[chunk_index], len(table) - 1)
        return input_starts[chunk_index] + table[local]

    return "".join(pieces), to_input


def _chunk_offsets(chunk: str, nfc_length: int) -> list[int]:
    """For each offset of NFC(chunk), plus its end, the offset in chunk."""
    table: list[int] = []
    position = 0
    for run in COMBINING_RUN.finditer(chunk):
        table.extend(range(position, run.start()))
        table.extend([run.start()] * len(unicodedata.normalize("NFC", run.group())))
        position = run.end()
    table.extend(range(position, len(chunk) + 1))
    if len(table) == nfc_length + 1:
        return table
    # composition beyond base + marks (not Latin text): search prefix lengths
    return [_prefix_length(chunk, wanted) for wanted in range(nfc_length + 1)]


def _prefix_length(chunk: str, wanted: int) -> int:
    """The longest prefix of chunk whose NFC is at most wanted characters long."""
    low, high = 0, len(chunk)
    while low < high:
        middle = (low + high + 1) // 2
        if len(unicodedata.normalize("NFC", chunk[:middle])) <= wanted:
            low = middle
        else:
            high = middle - 1
    return low


def _find_candidates(text: str, min_year: int, max_year: int) -> list[_Candidate]:
    """Date cores from every pattern, valid and in the year range."""
    candidates = []
    english = _has_english_month(text)
    for pattern, kind, to_date in _PATTERNS:
        if not english and pattern in _ENGLISH_PATTERNS:
            continue
        for match in pattern.finditer(text):
            value = to_date(match)
            if value is not None and min_year <= value.year <= max_year:
                has_time = kind == "iso" and match["time"] is not None
                candidates.append(_Candidate(match.start(), match.end(), value, has_time, kind))
    return candidates


def _iso_value(match: re.Match[str]) -> datetime.date | None:
    """The date of an ISO_DATE match; a timestamp with a zone in Vietnam time."""
    if match["zone"]:
        return parse_machine_date(match.group(), min_year=1, max_year=9999)
    return _valid_date(int(match["year"]), int(match["month"]), int(match["day"]))


def _numeric_value(match: re.Match[str]) -> datetime.date | None:
    """The date of a NUMERIC_DATE or SHORT_NUMERIC_DATE match.

    Day first, unless a weekday written right before it names the weekday of
    the month-first reading and not of the day-first one: an English
    interface renders "Thu, 07/05/2018" for Thursday 5 July 2018."""
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 2000 if year < TWO_DIGIT_YEAR_PIVOT else 1900
    day_first = _valid_date(year, int(match["month"]), int(match["day"]))
    weekday = _weekday_before(match)
    if weekday is None or (day_first is not None and day_first.isoweekday() == weekday):
        return day_first
    month_first = _valid_date(year, int(match["day"]), int(match["month"]))
    if month_first is not None and month_first.isoweekday() == weekday:
        return month_first
    return day_first


def _spaced_value(match: re.Match[str]) -> datetime.date | None:
    """The date of a SPACED_DATE match, only when a weekday stands right before it."""
    if _weekday_before(match) is None:
        return None
    return _valid_date(int(match["year"]), int(match["month"]), int(match["day"]))


def _english_value(match: re.Match[str]) -> datetime.date | None:
    """The date of an ENGLISH_*_DATE match."""
    month = ENGLISH_MONTHS.get(match["month_name"][:3].lower())
    if month is None:
        return None
    return _valid_date(int(match["year"]), month, int(match["day"]))


def _weekday_before(match: re.Match[str]) -> int | None:
    """The ISO weekday written right before a match ("Thứ 5, ", "Thu, "), or None."""
    start = match.start()
    found = WEEKDAY_BEFORE.search(match.string, max(0, start - WEEKDAY_WINDOW), start)
    if found is None:
        return None
    if found["sunday"]:
        return 7
    word = (found["vi"] or found["short"] or found["en"] or "").lower()
    return WEEKDAY_NUMBERS.get(word)


def _words_value(match: re.Match[str]) -> datetime.date | None:
    """The date of a WORDS_DATE or MONTH_FIRST_DATE match."""
    if match["month_name"]:
        month = MONTH_NAMES[" ".join(match["month_name"].lower().split())]
    else:
        month = int(match["month"])
    return _valid_date(int(match["year"]), month, int(match["day"]))


def _valid_date(year: int, month: int, day: int) -> datetime.date | None:
    """The date, or None for 31/02, 29/02 in a common year, day 0 or 32+."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


# each pattern with its kind and converter; on equal spans the earlier wins
_PATTERNS: tuple[
    tuple[re.Pattern[str], str, Callable[[re.Match[str]], datetime.date | None]], ...
] = (
    (ISO_DATE, "iso", _iso_value),
    (NUMERIC_DATE, "numeric", _numeric_value),
    (SHORT_NUMERIC_DATE, "numeric", _numeric_value),
    (WORDS_DATE, "words", _words_value),
    (MONTH_FIRST_DATE, "words", _words_value),
    (ENGLISH_MONTH_FIRST_DATE, "words", _english_value),
    (ENGLISH_DAY_FIRST_DATE, "words", _english_value),
    (SPACED_DATE, "numeric", _spaced_value),
)


_ENGLISH_PATTERNS = (ENGLISH_MONTH_FIRST_DATE, ENGLISH_DAY_FIRST_DATE)


def _has_english_month(text: str) -> bool:
    """Cheap gate: the English patterns run only on text naming a month."""
    lower = text.lower()
    return any(name in lower for name in ENGLISH_MONTHS)


def _drop_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Candidates in text order, the earliest and longest winning each overlap."""
    ordered = sorted(candidates, key=lambda c: (c.start, -c.end))
    kept: list[_Candidate] = []
    for candidate in ordered:
        if not kept or candidate.start >= kept[-1].end:
            kept.append(candidate)
    return kept


def _attach_time(
    text: str, candidate: _Candidate, previous_end: int, next_start: int
) -> tuple[int, int, bool]:
    """Span of a date widened by its leading "ngày" (dates in words) and by a
    time of day next to it; and whether there was a time."""
    start, end, has_time = candidate.start, candidate.end, candidate.has_time
    if candidate.kind == "words":
        day_word = DAY_WORD_BEFORE.search(text, max(previous_end, start - 12), start)
        if day_word:
            start = day_word.start()
    if has_time:
        return start, end, True
    after = TIME_AFTER.match(text, end, next_start)
    if after:
        return start, after.end(), True
    before = TIME_BEFORE.search(text, max(previous_end, start - TIME_BEFORE_WINDOW), start)
    if before:
        return before.start(), end, True
    return start, end, False


def _parse_iso(value: str) -> datetime.datetime | None:
    """An ISO 8601 date or timestamp, or None."""
    value = SPACE_BEFORE_ZONE.sub("", value.upper())
    if not ISO_MACHINE.fullmatch(value):
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def _iso_calendar_prefix(value: str) -> datetime.date | None:
    """The calendar date a malformed ISO timestamp starts with, read as written
    (CMS templates print "2018-11-26+0708:00:00" or "2018-1-6"); None otherwise."""
    match = ISO_PREFIX.match(value)
    if match is None:
        return None
    return _valid_date(int(match["year"]), int(match["month"]), int(match["day"]))


def _parse_rfc822(value: str) -> datetime.datetime | None:
    """An RFC 822/1123 timestamp (RSS pubDate), or None."""
    value = GMT_OFFSET.sub(_gmt_offset_to_numeric, value)
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _gmt_offset_to_numeric(match: re.Match[str]) -> str:
    """ "GMT+7" → "+0700"."""
    hours = int(match["hours"])
    minutes = int(match["minutes"] or 0)
    return f"{match['sign']}{hours:02d}{minutes:02d}"


def _local_date(moment: datetime.datetime) -> datetime.date | None:
    """The Vietnam calendar date of a moment; naive moments are local already."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.date()
    try:
        return moment.astimezone(VN_TZ).date()
    except (OverflowError, ValueError):
        return None
