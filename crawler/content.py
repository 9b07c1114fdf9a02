"""What an introduction-like page carries: named content checks over its text. Pure.

A criterion that is judged by its content instead of its freshness (the introduction page: functions and
duties, organisation, leaders, contacts) names checks in the rulebook; each is a list of key phrases
(matched through the normalisation of category aliases, with accents and without) or one of the built-in
detectors below. The page's text comes from the extraction core (crawler.extract.page_text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.text import clean_space, fold_accents, nfc, tokens

BUILT_IN = ("phone", "email", "address", "person_with_title")
# Contacts (address, phone, e-mail) count in the footer too: Vietnamese portals print the agency's own
# contact block there ("Địa chỉ … Điện thoại … Email …"), the block the law asks the portal to publish.
# Phrases and leaders count in the main text only: a menu entry "Cơ cấu tổ chức" is a link, not the
# organisation, and a footer's "Chịu trách nhiệm: …" names the portal's editor, not the agency's leaders.
FOOTER_DETECTORS = frozenset({"phone", "email", "address"})


@dataclass(frozen=True)
class ContentCheck:
    id: str
    label: str                       # Vietnamese, as reviewers read it
    detector: str                    # "phrases" or one of BUILT_IN
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContentRule:
    checks: tuple[ContentCheck, ...]
    min_required: int                # how many checks must be found

    @property
    def phrases(self) -> tuple[str, ...]:
        """The key phrases of its phrase checks: a link whose text carries one leads to more of the content."""
        return tuple(p for c in self.checks if c.detector == "phrases" for p in c.phrases)


@dataclass(frozen=True)
class PageText:
    main: str = ""                   # the page's text outside menus, header, side boxes and footer
    footer: str = ""                 # the text of its footer


@dataclass(frozen=True)
class CheckSeen:
    """One content check as a page judged by its content showed it: where it was found (the page's URL, and
    the page's own words around the match, bounded: crawled text, untrusted), or that it was not."""
    id: str
    label: str
    found: bool
    page: str | None = None
    excerpt: str = ""


@dataclass(frozen=True)
class ContentFinding:
    found: tuple[ContentCheck, ...]
    missing: tuple[ContentCheck, ...]
    results: tuple[CheckSeen, ...] = ()    # every check, in the rule's order, with where it was found

    def enough(self, min_required: int) -> bool:
        return len(self.found) >= min_required


EXCERPT_REACH = 60         # characters of the page's text kept on each side of a match
EXCERPT_CHARS = 200        # an excerpt's bound, whatever the match's length


def find_content(rule: ContentRule, text: PageText | list[tuple[str, PageText]]) -> ContentFinding:
    """Which of the rule's checks the pages' texts carry, in the rule's order: each check is looked for in
    one page at a time (the first that carries it is where it was found). `text`: one page's text, or
    (url, text) of each page read, in the order read."""
    pages = [("", text)] if isinstance(text, PageText) else text
    found, missing, results = [], [], []
    for check in rule.checks:
        hit = None
        for url, page in pages:
            where = f"{page.main}\n{page.footer}" if check.detector in FOOTER_DETECTORS else page.main
            where = nfc(where)
            span = locate(check, where)
            if span is not None:
                hit = CheckSeen(check.id, check.label, True, url or None, excerpt_of(where, *span))
                break
        (found if hit else missing).append(check)
        results.append(hit or CheckSeen(check.id, check.label, False))
    return ContentFinding(tuple(found), tuple(missing), tuple(results))


def excerpt_of(text: str, start: int, end: int) -> str:
    """The words around text[start:end], white space collapsed, at most EXCERPT_CHARS characters."""
    before, after = max(0, start - EXCERPT_REACH), min(len(text), end + EXCERPT_REACH)
    words = clean_space(text[before:after])[:EXCERPT_CHARS]
    return ("…" if before else "") + words + ("…" if after < len(text) else "")


def detect(check: ContentCheck, text: str) -> bool:
    return locate(check, text) is not None


def locate(check: ContentCheck, text: str) -> tuple[int, int] | None:
    """Where in the text the check is found ((start, end) of the match), or None."""
    if check.detector == "phrases":
        return find_phrase(text, check.phrases)
    return LOCATORS[check.detector](text)


def has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    """Does the text contain one of the phrases, as category aliases match (with accents, then without)?"""
    return find_phrase(text, phrases) is not None


def find_phrase(text: str, phrases: tuple[str, ...]) -> tuple[int, int] | None:
    """Where the first phrase the text contains is, as category aliases match (with accents, then without);
    the span is found again in the text itself, word by word; (0, 0) when the tokens match but no span does
    (a separator the normalisation folds and the search does not)."""
    for accents in (True, False):
        toks = tokens(text, accents=accents)
        for phrase in phrases:
            needle = tokens(phrase, accents=accents)
            if _contains(toks, needle):
                return _span(text, needle, accents) or (0, 0)
    return None


def _span(text: str, needle: tuple[str, ...], accents: bool) -> tuple[int, int] | None:
    """The span of the words of `needle` in `text` (case-folded, accents folded or not: the folded text keeps
    the text's length, one letter for one, so the span is the text's own)."""
    seen = text.casefold() if accents else fold_accents(text).casefold()
    if len(seen) != len(text):
        return None
    pattern = r"(?<!\w)" + r"[\W_]+".join(re.escape(tok) for tok in needle) + r"(?!\w)"
    m = re.search(pattern, seen)
    return m.span() if m else None


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return 0 < n <= len(haystack) and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


# -- phone: a Vietnamese number, landline (0206 3852 123, (0206) 3.852.123) or mobile (0912 345 678),
# national (0 + 9–10 digits) or international (+84 + 8–10 digits); groups split by spaces, dots or dashes,
# never by "/" (a date "05/3/2018", a document number "15/2018/QĐ-UBND")
_PHONE_START = r"(?:\(?\+84\)?|\(0\d{2,3}\)|0)"
PHONE = re.compile(rf"(?<![\w/.+-]){_PHONE_START}[ .\-]?\d(?:[ .\-]?\d){{6,10}}(?![\w/]|[.\-]\d)")


def has_phone(text: str) -> bool:
    return find_phone(text) is not None


def find_phone(text: str) -> tuple[int, int] | None:
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if digits.startswith("84") and 10 <= len(digits) <= 12:
            return m.span()
        if digits.startswith("0") and 10 <= len(digits) <= 11:
            return m.span()
    return None


# -- e-mail: a plain address; obfuscated ones ("abc[at]caobang.gov.vn") too, as portals write them
_LOCAL = r"(?<![\w.+-])[\w.+-]+"
_AT = r"(?:@|\s?[\[(]\s?at\s?[\])]\s?)"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
EMAIL = re.compile(_LOCAL + _AT + _DOMAIN, re.IGNORECASE)


def has_email(text: str) -> bool:
    return find_email(text) is not None


def find_email(text: str) -> tuple[int, int] | None:
    m = EMAIL.search(text)
    return m.span() if m else None


# -- address: a label ("Địa chỉ", "Trụ sở") followed closely by an administrative unit or street with its
# name ("phường Hợp Giang", "đường Hoàng Đình Giong"), or a house number on a street ("Số 10, phố Vườn Cam").
# Read accent-folded, case kept: the unit's name is capitalised.
_UNIT = r"(?:phuong|xa|thi tran|thi xa|quan|huyen|thanh pho|tp\.?|tinh|duong|pho|to dan pho|khu pho|ngo|ngach)"
_ADDRESS_LABEL = re.compile(r"\b(?:dia chi|tru so|d/c)\b", re.IGNORECASE)
_UNIT_NAME = re.compile(rf"(?i:\b{_UNIT})\s+(?:[A-Z0-9])")
_HOUSE = re.compile(rf"(?i:\bso)\s+\d+[A-Za-z]?(?:/\d+)?\s*,?\s*(?i:{_UNIT})\s+[A-Z0-9]")
ADDRESS_REACH = 120        # characters after the label within which the unit must come


def has_address(text: str) -> bool:
    return find_address(text) is not None


def find_address(text: str) -> tuple[int, int] | None:
    """Where the address is (spans in the accent-folded text, which keeps the text's length for NFC text)."""
    folded = fold_accents(text)
    house = _HOUSE.search(folded)
    if house:
        return house.span()
    for label in _ADDRESS_LABEL.finditer(folded):
        unit = _UNIT_NAME.search(folded, label.end(), label.end() + ADDRESS_REACH)
        if unit:
            return label.start(), unit.end()
    return None


# -- a leader: a title ("Giám đốc", "Phó Chủ tịch", "Chánh Thanh tra", "Trưởng phòng") and a person's name
# close by, either order ("Giám đốc Sở: Ông Nguyễn Văn An", "Nguyễn Thị Bình - Phó Giám đốc").
# A name is an honorific and two to four capitalised words, or a Vietnamese surname and two or three
# capitalised words (so "tỉnh Cao Bằng", "Sở Tư pháp" are not names). Accent-folded, case kept.
LEADER_TITLES = ("Pho Giam doc", "Giam doc", "Pho Chu tich", "Chu tich", "Pho Chanh Thanh tra", "Chanh Thanh tra",
                 "Pho Truong phong", "Truong phong", "Chanh Van phong", "Pho Chanh Van phong", "Pho Truong ban",
                 "Truong ban", "Bi thu", "Pho Bi thu")
SURNAMES = ("Nguyen Tran Le Pham Hoang Huynh Phan Vu Vo Dang Bui Do Ho Ngo Duong Ly Nong Luong Dinh Luc Trieu Ha "
            "Dam Mai Truong Lam Chu To Vi La Hua Luu Mac Ta Doan Thai Quan Be Hau Ma Sam Ngon Linh Tong Van Kieu "
            "Trinh Lai Tang Dao Thach Quach Giap Khong Au Hong Lo").split()
_WORD = r"[A-Z][a-z]+"
_TITLE = re.compile(r"\b(?:" + "|".join(t.replace(" ", r"\s+") for t in LEADER_TITLES) + r")\b", re.IGNORECASE)
_NAME = re.compile(rf"\b(?:(?:Ong|Ba|Dong chi|D/c)\s+{_WORD}(?:\s+{_WORD}){{1,3}}"
                   rf"|(?:{'|'.join(SURNAMES)})(?:\s+{_WORD}){{2,3}})\b")
LEADER_REACH = 60          # characters between a title and a name


def has_person_with_title(text: str) -> bool:
    return find_person_with_title(text) is not None


def find_person_with_title(text: str) -> tuple[int, int] | None:
    folded = fold_accents(text)
    titles = [m.span() for m in _TITLE.finditer(folded)]
    if not titles:
        return None
    for name in _NAME.finditer(folded):
        start, end = name.span()
        for t_start, t_end in titles:
            gap = start - t_end if t_end <= start else t_start - end
            if 0 <= gap <= LEADER_REACH:
                return min(start, t_start), max(end, t_end)
    return None


DETECTORS = {"phone": has_phone, "email": has_email, "address": has_address,
             "person_with_title": has_person_with_title}
LOCATORS = {"phone": find_phone, "email": find_email, "address": find_address,
            "person_with_title": find_person_with_title}
