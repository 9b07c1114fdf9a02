"""What an introduction-like page carries: named content checks over its text. Pure.

A criterion that is judged by its content instead of its freshness (the introduction page: functions and
duties, organisation, leaders, contacts) names checks in the rulebook; each is a list of key phrases
(matched through the normalisation of category aliases, with accents and without) or one of the built-in
detectors below. The page's text comes from the extraction core (crawler.extract.page_text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.text import fold_accents, tokens

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


@dataclass(frozen=True)
class PageText:
    main: str = ""                   # the page's text outside menus, header, side boxes and footer
    footer: str = ""                 # the text of its footer


@dataclass(frozen=True)
class ContentFinding:
    found: tuple[ContentCheck, ...]
    missing: tuple[ContentCheck, ...]

    def enough(self, min_required: int) -> bool:
        return len(self.found) >= min_required


def find_content(rule: ContentRule, text: PageText) -> ContentFinding:
    """Which of the rule's checks the page's text carries, in the rule's order."""
    found, missing = [], []
    for check in rule.checks:
        where = f"{text.main}\n{text.footer}" if check.detector in FOOTER_DETECTORS else text.main
        (found if detect(check, where) else missing).append(check)
    return ContentFinding(tuple(found), tuple(missing))


def detect(check: ContentCheck, text: str) -> bool:
    if check.detector == "phrases":
        return has_phrase(text, check.phrases)
    return DETECTORS[check.detector](text)


def has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    """Does the text contain one of the phrases, as category aliases match (with accents, then without)?"""
    for accents in (True, False):
        toks = tokens(text, accents=accents)
        if any(_contains(toks, tokens(p, accents=accents)) for p in phrases):
            return True
    return False


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return 0 < n <= len(haystack) and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


# -- phone: a Vietnamese number, landline (0206 3852 123, (0206) 3.852.123) or mobile (0912 345 678),
# national (0 + 9–10 digits) or international (+84 + 8–10 digits); groups split by spaces, dots or dashes,
# never by "/" (a date "05/3/2018", a document number "15/2018/QĐ-UBND")
_PHONE_START = r"(?:\(?\+84\)?|\(0\d{2,3}\)|0)"
PHONE = re.compile(rf"(?<![\w/.+-]){_PHONE_START}[ .\-]?\d(?:[ .\-]?\d){{6,10}}(?![\w/]|[.\-]\d)")


def has_phone(text: str) -> bool:
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if digits.startswith("84") and 10 <= len(digits) <= 12:
            return True
        if digits.startswith("0") and 10 <= len(digits) <= 11:
            return True
    return False


# -- e-mail: a plain address; obfuscated ones ("abc[at]caobang.gov.vn") too, as portals write them
_LOCAL = r"(?<![\w.+-])[\w.+-]+"
_AT = r"(?:@|\s?[\[(]\s?at\s?[\])]\s?)"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
EMAIL = re.compile(_LOCAL + _AT + _DOMAIN, re.IGNORECASE)


def has_email(text: str) -> bool:
    return EMAIL.search(text) is not None


# -- address: a label ("Địa chỉ", "Trụ sở") followed closely by an administrative unit or street with its
# name ("phường Hợp Giang", "đường Hoàng Đình Giong"), or a house number on a street ("Số 10, phố Vườn Cam").
# Read accent-folded, case kept: the unit's name is capitalised.
_UNIT = r"(?:phuong|xa|thi tran|thi xa|quan|huyen|thanh pho|tp\.?|tinh|duong|pho|to dan pho|khu pho|ngo|ngach)"
_ADDRESS_LABEL = re.compile(r"\b(?:dia chi|tru so|d/c)\b", re.IGNORECASE)
_UNIT_NAME = re.compile(rf"(?i:\b{_UNIT})\s+(?:[A-Z0-9])")
_HOUSE = re.compile(rf"(?i:\bso)\s+\d+[A-Za-z]?(?:/\d+)?\s*,?\s*(?i:{_UNIT})\s+[A-Z0-9]")
ADDRESS_REACH = 120        # characters after the label within which the unit must come


def has_address(text: str) -> bool:
    folded = fold_accents(text)
    if _HOUSE.search(folded):
        return True
    return any(_UNIT_NAME.search(folded, m.end(), m.end() + ADDRESS_REACH) for m in _ADDRESS_LABEL.finditer(folded))


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
    folded = fold_accents(text)
    titles = [m.span() for m in _TITLE.finditer(folded)]
    if not titles:
        return False
    for name in _NAME.finditer(folded):
        start, end = name.span()
        for t_start, t_end in titles:
            gap = start - t_end if t_end <= start else t_start - end
            if 0 <= gap <= LEADER_REACH:
                return True
    return False


DETECTORS = {"phone": has_phone, "email": has_email, "address": has_address,
             "person_with_title": has_person_with_title}
