"""The decoding cascade (crawler/charset.py): header, BOM, <meta>, then the bytes' own evidence; legacy font encodings.

The pages are built here from Vietnamese text: windows-1258 with Python's cp1258 codec (tone marks written as
combining characters, as Windows writes them); TCVN3 and VNI, which no codec writes, as the Latin-1 look of known
words' bytes ("ChØ ®¹o ®iÒu hµnh" is TCVN3's "Chỉ đạo điều hành", "Chæ ñaïo ñieàu haønh" VNI's). The last tests serve
them from a loopback portal to both fetch paths, the `check` spot-check and the `crawl`.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata

import pytest

from crawler.categories import CategoryMatcher
from crawler.charset import LEGACY_NOTES, TCVN3, VNI, decode_html, legacy_font_encoding
from crawler.extract import read_page
from tests.hostile.harness import AttackServer, Case, Reply, listing_page, run_both
from verifier.rulebook import load_rulebook

CATEGORY = "Chỉ đạo điều hành"
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def cp1258(text: str) -> bytes:
    """text as Windows writes it in windows-1258: a letter cp1258 lacks is its base letter and a combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
            out += (base + "".join(c for c in parts if c in TONE_MARKS)).encode("cp1258")
    return bytes(out)


def listing_html(title: str = CATEGORY, **kw) -> str:
    """The suite's category listing (3 posts of 2018: `pass` for chi-dao-dieu-hanh) without its <meta charset>."""
    return listing_page(title, **kw).body.replace('<meta charset="utf-8">', "", 1)


# Known words in the legacy encodings, written as the characters their bytes are in cp1252.
TCVN3_WORDS = {
    "title": "ChØ \xae\xb9o \xaeiÒu h\xb5nh",                         # Chỉ đạo điều hành
    "site": "Së Th\xf6 nghiÖm tØnh Cao B\xbbng",                       # Sở Thử nghiệm tỉnh Cao Bằng
    "post": "Th\xabng b\xb8o sè {n}/TB-UBND vÒ lÞch c\xabng t\xb8c tuÇn {n}",  # Thông báo số n/TB-UBND về lịch công tác tuần n
    "motto": "Céng ho\xb5 x\xb7 héi chñ nghÜa ViÖt Nam",               # Cộng hoà xã hội chủ nghĩa Việt Nam
}
VNI_WORDS = {
    "title": "Chæ ñaïo ñieàu haønh",
    "site": "Sôû Thöû nghieäm tænh Cao Baèng",
    "post": "Thoâng baùo soá {n}/TB-UBND veà lòch coâng taùc tuaàn {n}",
    "motto": "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam",
}


def legacy_listing(words: dict[str, str], *, font: str = "") -> bytes:
    """A listing written in a legacy font encoding (3 posts of 2018), its bytes as an old portal serves them."""
    rows = "\n".join(f'<div class="views-row"><span class="views-field-title"><a href="/node/{100 + n}">'
                     f'{words["post"].format(n=n)}</a></span><span class="date-display-single">{10 + n}/0{1 + n}/2018'
                     "</span></div>" for n in range(1, 4))
    style = f"<style>body {{ font-family: '{font}', serif }}</style>" if font else ""
    html = f"""<!DOCTYPE html><html><head>{style}<title>{words["title"]} | {words["site"]}</title></head>
<body><div id="header"><span class="site-name">{words["site"]}</span><p>{words["motto"]}</p></div>
<div class="breadcrumb"><a href="/">Trang chñ</a> » <span>{words["title"]}</span></div>
<h1 class="page-title">{words["title"]}</h1><div class="view"><div class="view-content">{rows}</div></div></body></html>"""
    return html.encode("cp1252")


@pytest.fixture(scope="module")
def matcher() -> CategoryMatcher:
    return CategoryMatcher.from_rulebook(load_rulebook())


# --- the cascade, on bytes -----------------------------------------------------------------------


def test_windows_1258_without_a_declared_charset_is_detected_and_read_in_nfc():
    decoded = decode_html(cp1258(listing_html()), "text/html")
    assert decoded.encoding == "cp1258" and decoded.source == "detected"
    assert CATEGORY in decoded.text and unicodedata.is_normalized("NFC", decoded.text)
    assert decoded.legacy is None


def test_the_header_charset_comes_first_and_a_meta_charset_next():
    body = cp1258(listing_html(head='<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">'))
    assert (decode_html(body, "text/html").encoding, decode_html(body, "text/html").source) == ("cp1258", "meta")
    assert CATEGORY in decode_html(body, None).text
    koi8 = "Новости".encode("koi8-r")
    assert decode_html(koi8, "text/html; charset=koi8-r").text == "Новости"


def test_a_bom_wins_over_a_header_that_says_otherwise():
    body = b"\xef\xbb\xbf" + listing_html().encode("utf-8")
    decoded = decode_html(body, "text/html; charset=windows-1258")
    assert (decoded.encoding, decoded.source) == ("utf-8", "bom") and CATEGORY in decoded.text


def test_utf8_bytes_under_a_declared_single_byte_charset_are_read_as_utf8_and_noted():
    decoded = decode_html(listing_html().encode("utf-8"), "text/html; charset=iso-8859-1")
    assert decoded.encoding == "utf-8" and CATEGORY in decoded.text
    assert decoded.notes == ("the page declares cp1252 (header) but its bytes are valid UTF-8: read as utf-8",)


def test_declared_utf8_over_windows_1258_bytes_is_set_aside_for_detection():
    decoded = decode_html(cp1258(listing_html(head='<meta charset="utf-8">')), None)
    assert decoded.encoding == "cp1258" and CATEGORY in decoded.text
    [note] = decoded.notes
    assert note.startswith("the page declares utf-8 (meta) but ") and note.endswith(": read as cp1258 (detected)")


def test_a_stray_byte_in_a_utf8_page_keeps_its_declared_utf8():
    body = listing_html().encode("utf-8").replace(b"</h1>", b"\xff</h1>")
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert (decoded.encoding, decoded.source, decoded.notes) == ("utf-8", "header", ())
    assert CATEGORY in decoded.text


def test_a_utf8_page_cut_inside_a_character_is_still_utf8():
    body = listing_html().encode("utf-8")
    cut = body[:body.index("điều".encode()) + 1]          # inside the two bytes of "đ"
    assert decode_html(cut, "text/html").encoding == "utf-8"


def test_utf7_detected_or_declared_is_never_used():
    body = b"<html><body>+ADw-script+AD4-alert(1)+ADw-/script+AD4-</body></html>"
    decoded = decode_html(body, "text/html; charset=utf-7")
    assert decoded.encoding != "utf-7" and "<script>" not in decoded.text


@pytest.mark.parametrize(("words", "name"), [(TCVN3_WORDS, TCVN3), (VNI_WORDS, VNI)])
def test_legacy_font_encodings_are_recognised_whatever_the_page_declares(words, name):
    body = legacy_listing(words)
    for content_type in ("text/html", "text/html; charset=windows-1252", "text/html; charset=utf-8"):
        decoded = decode_html(body, content_type)
        assert decoded.legacy == name, content_type
        assert LEGACY_NOTES[name] in decoded.notes


def test_a_font_name_in_the_markup_is_enough_with_a_few_words():
    assert legacy_font_encoding(f"<title>{TCVN3_WORDS['title']}</title>") is None
    assert legacy_font_encoding(f"<font face='.VnTime'>{TCVN3_WORDS['title']}</font>") == TCVN3
    assert legacy_font_encoding(f"<font face='VNI-Times'>{VNI_WORDS['title']}</font>") == VNI


def test_unicode_vietnamese_and_other_latin_text_are_not_legacy():
    assert legacy_font_encoding(listing_html() * 3) is None
    assert legacy_font_encoding(unicodedata.normalize("NFD", listing_html())) is None
    french = "Noël à Paris: «Tin tức» du café, © 2018 Sở Tư pháp®, Mũi Né, l'été, où la fête" * 3
    assert legacy_font_encoding(french) is None


def test_a_legacy_page_matches_no_category(matcher):
    for words, name in ((TCVN3_WORDS, TCVN3), (VNI_WORDS, VNI)):
        reading = read_page("http://a.charset.gov.vn/cddh", legacy_listing(words), {"Content-Type": "text/html"},
                            matcher)
        assert reading.legacy_encoding == name and reading.category.criterion is None
        assert LEGACY_NOTES[name] in reading.notes


# --- both fetch paths, on a loopback portal ------------------------------------------------------


def _served(body: bytes, content_type: str) -> dict:
    return {"/cddh": Reply(200, (("Content-Type", content_type),), body), "/robots.txt": Reply(404, (), b"")}


PAGES = {
    # agency: (what it serves, the Content-Type it says, the verdict both paths must give)
    "cp1258": (cp1258(listing_html()), "text/html", ("pass", "ok")),
    "mislabelled": (listing_html().encode("utf-8"), "text/html; charset=windows-1258", ("pass", "ok")),
    "fakeutf8": (cp1258(listing_html()), "text/html; charset=utf-8", ("pass", "ok")),
    "tcvn3": (legacy_listing(TCVN3_WORDS, font=".VnTime"), "text/html", ("review", "legacy_encoding")),
    "vni": (legacy_listing(VNI_WORDS), "text/html; charset=windows-1252", ("review", "legacy_encoding")),
}


@pytest.fixture(scope="module")
def both_paths(tmp_path_factory):
    """Each page's spot-check and one crawl over them all: {agency: (Result, the crawl's verdict detail)}."""
    with AttackServer() as server:
        cases = []
        for agency, (body, content_type, _) in PAGES.items():
            host = f"{agency}.charset.gov.vn"
            server.portal(host, _served(body, content_type))
            cases.append(Case(agency, f"http://{host}", f"http://{host}/cddh"))
        workdir = tmp_path_factory.mktemp("charset")
        results = run_both(server, cases, workdir)
    con = sqlite3.connect(workdir / "evidence.db")
    try:
        details = dict(con.execute("select agency_id, detail from verdicts where criterion = 'chi-dao-dieu-hanh'"))
    finally:
        con.close()
    return {agency: (results[agency], details.get(agency, "")) for agency in PAGES}


@pytest.mark.parametrize("agency", list(PAGES))
def test_both_paths_read_the_page_by_its_bytes(both_paths, agency):
    result, crawl_detail = both_paths[agency]
    expected = PAGES[agency][2]
    assert result.same_verdict == expected, result.explain()
    assert not result.outside(), result.explain()
    check_detail = json.loads(result.check.output[result.check.output.index("{"):])["detail"]
    if expected == ("pass", "ok"):
        assert result.check.posts == result.crawl.posts == 3
    for detail in (check_detail, crawl_detail):
        if agency == "tcvn3":
            assert detail.startswith(LEGACY_NOTES[TCVN3]), detail
        elif agency == "vni":
            assert detail.startswith(LEGACY_NOTES[VNI]), detail
        elif agency == "mislabelled":
            assert "the page declares cp1258 (header) but its bytes are valid UTF-8: read as utf-8" in detail, detail
        elif agency == "fakeutf8":
            assert "the page declares utf-8 (header) but" in detail and "read as cp1258 (detected)" in detail, detail
        else:
            assert "declares" not in detail, detail
