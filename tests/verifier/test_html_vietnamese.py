"""The HTML report of the demo, as an agency's web editor reads it: Vietnamese throughout (criterion names, page
kinds, reasons, no English machine text outside the collapsed technical blocks), times in +07:00 stated once, the
rulebook by its title, the levels explained, why and how to fix every criterion not passed, the chain of requests
of a redirected page, and the ranking one A4 landscape page per group with its chart.

The demo is crawled once, as a reviewer crawls it (a whole process, the demo server as its proxy). The print and
screenshot checks need Chromium (skipped without it, unless PORTAL_EVIDENCE_REQUIRE_BROWSER is set).
"""

import re
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from tests.tools import required_tool
from verifier.export import labels as L
from verifier.export.audit import build_audit
from verifier.export.hints import audit_hint
from verifier.export.html import needs_hint, write_html
from verifier.export.names import agency_page, evidence_page
from verifier.store import open_db

from .builders import GENERATED, crawl_demo
from .test_html_browser import ARTIFACTS, chromium

ROOT = Path(__file__).resolve().parents[2]
A4_PORTRAIT, A4_LANDSCAPE = (595, 842), (842, 595)
# English words of the machine that must not reach an agency's reader
FORBIDDEN = {"article", "articles", "listing", "listings", "post", "posts", "post(s)", "pass", "passed", "fail",
             "failed", "review", "exempt", "page", "pages", "kind", "upd.", "points", "grade", "detail", "home",
             "feed", "error", "timeout", "found", "category"} | set(L.REASON)
_WORD = re.compile(r"[\w()]+\.?")
_URL_LIKE = re.compile(r"://|^/|[a-z0-9-]\.[a-z]{2,}(/|$)|\.html\b")     # a URL, a host, a path, a file name


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo crawled and its HTML report written; the time the report took is printed."""
    tmp = tmp_path_factory.mktemp("demo-html")
    db_path = crawl_demo(tmp)
    audit = build_audit(open_db(db_path), generated_at=GENERATED)
    started = time.monotonic()
    root = write_html(audit, tmp / "out").parent
    pages = len(list(root.rglob("*.html")))
    print(f"\ndemo HTML report: {pages} pages written in {time.monotonic() - started:.2f}s")
    return audit, root


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def visible_text(doc: BeautifulSoup) -> str:
    """What a reader sees: the technical blocks, the archived page's frame and URLs left out."""
    for hidden in doc.select("details.tech, iframe, head"):
        hidden.decompose()
    words = doc.get_text(" ").split()
    return " ".join(w for w in words if not _URL_LIKE.search(w))


def shown_pages(root: Path) -> list[Path]:
    """Every page of the report but the raw records (the archived source, as text, on purpose)."""
    return sorted(p for p in root.rglob("*.html") if not p.name.endswith("-raw.html"))


def test_no_english_word_of_the_machine_in_any_page(demo):
    _, root = demo
    checked = 0
    for path in shown_pages(root):
        text = visible_text(soup(path))
        english = {w for w in _WORD.findall(text) if w.lower() in FORBIDDEN or w.lower().rstrip(".") in FORBIDDEN}
        assert not english, (path.relative_to(root).as_posix(), sorted(english))
        checked += 1
    assert checked > 100


def test_criteria_by_name_never_by_slug_and_the_rulebook_by_its_title(demo):
    audit, root = demo
    slugs = {c.id for c in audit.rulebook.criteria}
    for path in shown_pages(root):
        text = visible_text(soup(path))
        assert not [w for w in text.split() if w.strip("()“”,.:;") in slugs], path.name
        assert "rules/" not in path.read_text(encoding="utf-8") and ".yaml" not in path.read_text(encoding="utf-8")
    index = visible_text(soup(root / "index.html"))
    assert audit.rulebook.title == "Bộ tiêu chí Cao Bằng năm 2018" and audit.rulebook.title in index
    agency = audit.data.agencies[0]
    page = soup(root / agency_page(agency.agency_id))
    names = [a.get_text() for a in page.select("#criteria tbody tr td:nth-of-type(2) a")]
    assert names == [c.name for c in audit.rulebook.criteria_for(agency.group, agency.agency_id)
                     if audit.points(agency.agency_id, c.id)]


def test_times_are_vietnamese_time_stated_once_per_page(demo):
    _, root = demo
    for path in shown_pages(root):
        text = visible_text(soup(path))
        said = text.count(L.TIME_NOTE)
        if path.name == "ranking.html":
            assert said == len(soup(path).select("section.group")), path.name      # once per printed page
        else:
            assert said == 1, (path.name, said)
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), path.name       # no ISO (UTC) stamps shown
    fetch = next(iter(demo[0].fetches.values()))
    evidence = visible_text(soup(root / evidence_page(fetch["id"])))
    assert L.vn_datetime(build_moment(fetch["fetched_at"])) in evidence


def build_moment(text):
    import datetime as dt
    return dt.datetime.fromisoformat(text)


def test_the_levels_and_their_thresholds_are_explained(demo):
    audit, root = demo
    for path in (root / "index.html", root / "ranking.html", root / agency_page(audit.data.agencies[0].agency_id)):
        legend = soup(path).select_one("div.legend").get_text()
        for level in audit.rulebook.levels:
            assert f"{level.name}:" in legend, (path.name, level.name)
            if level.min > 0:
                assert f"{L.vn_number(level.min)}%" in legend, (path.name, level.name)


def test_every_criterion_not_passed_says_why_and_how_to_fix_it(demo):
    audit, root = demo
    hinted = 0
    for agency in audit.data.agencies:
        page = soup(root / agency_page(agency.agency_id))
        fixes = page.select_one("ol.fixes")
        for criterion in audit.rulebook.criteria_for(agency.group):
            v = next((x for x in audit.verdicts_of(agency.agency_id) if x.criterion == criterion.id), None)
            cp = audit.points(agency.agency_id, criterion.id)
            if v is None or cp is None:
                continue
            section = page.find("section", id=criterion.id)
            hint = section.select_one("div.hint")
            if cp.status in ("pass", "exempt") and not needs_hint(criterion, v, cp):
                assert hint is None, (agency.agency_id, criterion.id)
                continue
            expected = audit_hint(audit, agency.agency_id, criterion.id)
            assert expected and hint is not None, (agency.agency_id, criterion.id)
            assert L.HINT in hint.get_text() and " ".join(expected.split()) in " ".join(hint.get_text().split())
            assert " ".join(expected.split()) in " ".join(fixes.get_text().split())
            if v.detail:                               # the machine's English, collapsed
                assert v.detail in section.select_one("details.tech").get_text()
            hinted += 1
    assert hinted > 30


def test_a_redirected_page_shows_its_chain_of_requests(demo):
    audit, root = demo
    redirected = [f for f in audit.fetches.values() if f["status"] and f["url"] != f["final_url"]]
    assert redirected
    for fetch in redirected:
        chain = soup(root / evidence_page(fetch["id"])).select("ol#chain li")
        assert len(chain) >= 2, fetch["id"]
        assert "HTTP 30" in chain[0].get_text() and "chuyển hướng tới" in chain[0].get_text()
        assert chain[0].a["href"] == fetch["url"] and chain[-1].a["href"] == fetch["final_url"]
        assert f"HTTP {fetch['status']}" in chain[-1].get_text()


def test_an_evidence_page_lists_the_posts_read_there_with_those_in_the_period_marked(demo):
    audit, root = demo
    listing = next(f for f in audit.fetches.values() if f["purpose"] == "listing" and (f["posts"] or 0) > 3)
    page = soup(root / evidence_page(listing["id"]))
    rows = page.select("table#posts tbody tr")
    assert rows and len(rows) <= listing["posts"] + 1
    marked = [r for r in rows if "in-period" in r.get("class", [])]
    assert all(r.find_all("td")[3].get_text() == L.YES for r in marked)
    assert all(r.find_all("td")[3].get_text() == "" for r in rows if r not in marked)
    assert page.find("iframe", id="archived") is not None and page.select_one("a.raw")["href"].endswith("-raw.html")


def test_the_ranking_page_has_a_table_a_chart_and_the_unranked_with_their_reason(demo):
    audit, root = demo
    page = soup(root / "ranking.html")
    assert page.find_all("script") == []
    for gid, _name, members in audit.groups():
        section = page.find("section", id=f"group-{gid}")
        ranked = [s for s in members if s.ranked]
        assert len(section.select(f"#ranking-{gid} tbody tr")) == len(ranked)
        bars = section.select("svg.chart rect.bar")
        assert len(bars) == len(ranked)
        widths = [float(b["width"]) for b in bars]
        assert widths == sorted(widths, reverse=True) and widths[0] > 0      # drawn in ranking order
        unranked = [s for s in members if not s.ranked]
        shown = [li.get_text(" ") for li in section.select("ul.not-ranked li")]
        assert len(shown) == len(unranked)
        for s, text in zip(unranked, shown):
            assert L.not_ranked_label(s, audit.rulebook.deadline) in text


# ------------------------------------------------------------------------------------------------ Chromium

@pytest.fixture(scope="module")
def browser():
    return required_tool("chromium")


def print_pdf(browser, page: Path, pdf: Path, profile: Path) -> PdfReader:
    chromium(browser, profile, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    return PdfReader(pdf)


def sizes(reader: PdfReader) -> set[tuple[int, int]]:
    return {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}


def test_the_ranking_prints_one_a4_landscape_page_per_group(browser, demo, tmp_path):
    audit, root = demo
    reader = print_pdf(browser, root / "ranking.html", tmp_path / "ranking.pdf", tmp_path / "profile")
    assert len(reader.pages) == len(audit.groups())
    assert sizes(reader) == {A4_LANDSCAPE}
    for (_gid, name, _members), pdf_page in zip(audit.groups(), reader.pages):
        assert name in pdf_page.extract_text()


def test_an_agency_page_prints_on_a_few_a4_pages(browser, demo, tmp_path):
    audit, root = demo
    # the longest pages: the most criteria to fix, and the most text
    ranked = sorted(audit.data.agencies, key=lambda a: -len((root / agency_page(a.agency_id)).read_bytes()))[:3]
    counts = {}
    for agency in ranked:
        reader = print_pdf(browser, root / agency_page(agency.agency_id), tmp_path / f"{agency.agency_id}.pdf",
                           tmp_path / "profile")
        counts[agency.agency_id] = len(reader.pages)
        assert sizes(reader) == {A4_PORTRAIT}
        text = " ".join(p.extract_text() for p in reader.pages)
        assert agency.agency_name in " ".join(text.split()) and L.TO_FIX in text
    print(f"\nprinted agency pages (A4): {counts}")
    assert all(1 <= n <= 4 for n in counts.values()), counts


def test_screenshots_of_an_agency_page_and_an_evidence_page(browser, demo, tmp_path):
    audit, root = demo
    agency = next(a for a in audit.data.agencies if a.agency_id == "stp")
    listing = next(f for f in audit.fetches.values() if f["agency_id"] == "stp" and f["purpose"] == "listing"
                   and (f["posts"] or 0) > 3)
    ARTIFACTS.mkdir(exist_ok=True)
    times = {}
    for name, page, size in (("html-agency-stp.png", root / agency_page(agency.agency_id), "1280,1600"),
                             ("html-evidence-stp.png", root / evidence_page(listing["id"]), "1280,1100")):
        png = ARTIFACTS / name
        png.unlink(missing_ok=True)
        started = time.monotonic()
        chromium(browser, tmp_path / "profile", f"--screenshot={png}", f"--window-size={size}", page.as_uri())
        times[name] = round(time.monotonic() - started, 2)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    print(f"\nscreenshots (render + capture, s): {times}")
