"""Which characters a page's bytes are: the one decoding cascade both fetch paths read pages through.

Ordered from the most to the least trustworthy, as browsers order it:

    encoding = (
        bom(body)                    # a byte-order mark cannot be there by accident (it wins over the header)
        or declared(header, meta)    # what the server or the page says, unless the bytes plainly deny it
        or utf8(body)                # undeclared, and the bytes are valid UTF-8: nothing else is that by chance
        or legacy_font(body)         # TCVN3 / VNI bytes: readable by no codec, said so in the notes
        or detected(body)            # charset-normalizer on the bytes
    )

A declared charset the bytes plainly deny (utf-8 declared over bytes that are not UTF-8, a common
fault of old portals; a single-byte charset declared over valid multi-byte UTF-8) is set aside for
the bytes' own evidence, and the reading's notes say so. The text comes back in NFC (windows-1258
writes Vietnamese tone marks as combining characters).

Legacy Vietnamese font encodings (TCVN3 "ABC" with its `.VnTime` fonts, VNI with `VNI-Times`) put
Vietnamese letters in the code points of Latin-1 letters and signs: every codec reads them without
an error, as nonsense such as "ChØ ®¹o ®iÒu hµnh" (TCVN3) or "Chæ ñaïo ñieàu haønh" (VNI). They
are recognised by the letter-and-sign patterns each writes, which Unicode Vietnamese never does,
and by their font names in the markup. Such a page cannot be matched to a category by its words.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

TCVN3, VNI = "TCVN3", "VNI"

# What the evidence says of a page in a legacy font encoding (shown to reviewers, in Vietnamese).
LEGACY_NOTES = {
    TCVN3: "trang dùng bảng mã TCVN3 (ABC), không phải Unicode: không đọc được tên chuyên mục",
    VNI: "trang dùng bảng mã VNI, không phải Unicode: không đọc được tên chuyên mục",
}

# Detection reads at most this many bytes: enough for any page's charset, bounded on a huge one.
DETECT_BYTES = 256 * 1024
# Legacy patterns are counted in at most this many characters of the decoded text.
LEGACY_SCAN_CHARS = 512 * 1024
# Pattern hits that make a page legacy-encoded: few when its markup names a legacy font.
LEGACY_MIN_HITS = 8
LEGACY_MIN_HITS_WITH_FONT = 2

# --- legacy font encodings, as they look once read as cp1252 / Latin-1 ----------------------------

_ASCII_LETTER = "A-Za-z"
_VOWEL = "aeiouyAEIOUY"
# TCVN3 writes ă â ê ô ơ ư đ and most toned a's in the signs 0xA1-0xBE (¨ © ª « ¬ soft hyphen ® µ ¸ ¹ ...),
# which follow a letter inside a word; Unicode Vietnamese never puts a sign there.
_TCVN3_SIGNS = "¡¢£¤¥¦¨©ª¬\xad¶·¸¹¼½¾"
_TCVN3_PATTERN = re.compile(
    f"[{_ASCII_LETTER}][{_TCVN3_SIGNS}µ]"                  # "x·" xã, "hoµ" hoà, "b¸o" báo
    f"|[{_ASCII_LETTER}][«»][{_ASCII_LETTER}]"              # "Th«ng" Thông, "b»ng" bằng (not a «quote»)
    f"|(?<![{_ASCII_LETTER}])[®§][{_ASCII_LETTER}{_TCVN3_SIGNS}]"  # "®iÒu" điều, "§éc" Độc: đ/Đ starts a word
)
# VNI writes a toned vowel as the vowel and a mark byte (ø ù û õ ï; â ê for circumflex): "aø" à, "oä" ộ,
# "öô" ươ, and đ as ñ. The marks below never follow a vowel in Unicode Vietnamese (nor "oâ", "eâ", "aâ").
_VNI_MARKS = "øûïäåëæüØÛÏÄÅËÆÜ"
_VNI_PATTERN = re.compile(
    f"[{_VOWEL}][{_VNI_MARKS}]"                              # "hoøa" hòa, "Vieät" Việt, "chuû" chủ
    f"|[{_ASCII_LETTER}][öÖ][ôÔ]"                            # "nöôùc" nước, "ñöôïc" được
    f"|[aeoAEO][âÂ]"                                         # "Thoâng" Thông, "nhaân" nhân
    f"|(?<![{_ASCII_LETTER}])[ñÑ][{_ASCII_LETTER}]"          # "ñieàu" điều, "Ñoäc" Độc
)
# Signs and marks either encoding writes all the time and other text hardly ever (not the « » © ® · of
# breadcrumbs and footers): a page with hardly any is neither, the common case, found by one quick scan.
_LEGACY_SIGNS = re.compile(f"[{_TCVN3_SIGNS.replace('©', '').replace('·', '')}µ§{_VNI_MARKS}öÖñÑ]")
# Vietnamese letters outside Latin-1 (ă đ ĩ ũ ơ ư and the toned letters): text in Unicode.
_UNICODE_VIETNAMESE = re.compile("[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0"
                                 "\u1ea0-\u1ef9]")
_FONT_NAMES = {
    TCVN3: re.compile(r"(?<![\w.])\.Vn[A-Z][A-Za-z]*"),      # .VnTime, .VnArial, .VnTimeH
    VNI: re.compile(r"\bVNI[- ][A-Z][A-Za-z]*"),             # VNI-Times, VNI-Helve
}


@dataclass(frozen=True)
class Decoded:
    """A page's text and how it was read."""

    text: str                       # NFC
    encoding: str                   # the codec the text was decoded with
    source: str                     # "bom", "header", "meta", "valid-utf-8", "legacy", "detected", "default"
    legacy: str | None = None       # TCVN3 or VNI: a legacy font encoding no codec decodes
    notes: tuple[str, ...] = ()


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """The text of an HTML body by the cascade above; never raises (undecodable bytes become U+FFFD)."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        return _finish(to_unicode(body[len(bom):], bom_encoding), bom_encoding, "bom")
    header = http_content_type_encoding(content_type)
    declared, source = (header, "header") if header else (html_body_declared_encoding(body), "meta")
    if declared in ("utf-16", "utf-32"):
        declared += "-be"                # a declaration without a BOM means big-endian
    said = "no charset declared"
    if declared:
        denial = _denied(body, declared)
        if denial is None:
            return _finish(to_unicode(body, declared), declared, source)
        said = f"the page declares {declared} ({source}) but {denial}"
    if _valid_utf8(body):
        return _finish(body.decode("utf-8", "replace"), "utf-8", "valid-utf-8",
                       [f"{said}: read as utf-8"] if declared else [])
    latin = body.decode("cp1252", "replace")
    legacy = legacy_font_encoding(latin)
    if legacy:
        return _finish(latin, "cp1252", "legacy", [f"{said}: read as cp1252"] if declared else [], legacy)
    detected = _detect(body)
    if detected is None:
        return _finish(to_unicode(body, "utf-8"), "utf-8", "default", [f"{said}, none detected: read as utf-8"])
    return _finish(to_unicode(body, detected), detected, "detected", [f"{said}: read as {detected} (detected)"])


def legacy_font_encoding(text: str) -> str | None:
    """TCVN3 or VNI when the text is Vietnamese written in that font encoding (read as Latin-1), else None."""
    sample = text[:LEGACY_SCAN_CHARS]
    if len(_LEGACY_SIGNS.findall(sample)) < LEGACY_MIN_HITS_WITH_FONT:
        return None
    hits = {TCVN3: len(_TCVN3_PATTERN.findall(sample)), VNI: len(_VNI_PATTERN.findall(sample))}
    name = max(hits, key=lambda k: hits[k])
    need = LEGACY_MIN_HITS_WITH_FONT if _FONT_NAMES[name].search(sample) else LEGACY_MIN_HITS
    # a page with Unicode menus around legacy content is still legacy when the legacy words are a third or more
    unicode_letters = len(_UNICODE_VIETNAMESE.findall(sample))
    if hits[name] >= need and 2 * hits[name] >= unicode_letters:
        return name
    return None


def _finish(text: str, encoding: str, source: str, notes=(), legacy: str | None = None) -> Decoded:
    text = unicodedata.normalize("NFC", text)
    legacy = legacy or legacy_font_encoding(text)
    notes = tuple(notes) + ((LEGACY_NOTES[legacy],) if legacy else ())
    return Decoded(text, encoding, source, legacy, notes)


def _denied(body: bytes, declared: str) -> str | None:
    """Why the bytes plainly contradict the declared charset, or None when they may be it."""
    if codecs.lookup(declared).name == "utf-8":
        if _valid_utf8(body):
            return None
        text = body.decode("utf-8", "replace")
        bad = text.count("\ufffd")
        good = len(text) - len(text.encode("ascii", "ignore")) - bad
        if bad > good:               # not a stray byte in a UTF-8 page: most of its non-ASCII text is not UTF-8
            return f"{bad} of its byte sequences are not UTF-8"
        return None
    if _single_byte(declared) and not body.isascii() and _valid_utf8(body):
        return "its bytes are valid UTF-8"
    return None


def _valid_utf8(body: bytes) -> bool:
    """Strictly UTF-8, a sequence cut by the end of a bounded download allowed."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.end == len(body)
    return True


def _detect(body: bytes) -> str | None:
    """charset-normalizer's best guess over the first DETECT_BYTES, as a codec name w3lib accepts."""
    from charset_normalizer import from_bytes  # imported here: only pages without a usable charset need it

    best = from_bytes(body[:DETECT_BYTES]).best()
    if best is None:
        return None
    return resolve_encoding(best.encoding)        # refuses utf-7, whose ASCII spelling can hide markup


@lru_cache(maxsize=64)
def _single_byte(encoding: str) -> bool:
    """Does the codec read each byte as one character (cp1252, iso8859-*, koi8-*), not as sequences?"""
    try:
        decoder = codecs.getincrementaldecoder(encoding)("replace")
    except LookupError:
        return False
    return all(len(decoder.decode(bytes([b]))) == 1 for b in range(0x80, 0x100))
