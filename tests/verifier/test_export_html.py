"""The HTML audit report as files: every claim linked to its evidence, every crawled string escaped."""

import dataclasses
import functools
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from bs4 import BeautifulSoup

from crawler.records import Post
from verifier.export.audit import build_audit, load_run
from verifier.export.html import write_html
from verifier.store import open_db, save_verdict

from .builders import EVIL_TITLE, GENERATED, SCRIPT_TITLE, build_province

BAD_URLS = ("javascript:alert(3)", "data:text/html,<script>alert(4)</script>")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("province")
    db_path, run_id = build_province(tmp)
    db = open_db(db_path)
    data = load_run(db, run_id)
    # a listing whose posts link to script URLs, and a post title that closes the cell and opens a script
    hoi_dap = data.verdict_map()[("so-tttt", "hoi-dap")]
    posts = (Post("</td><script>alert(5)</script>", BAD_URLS[0], hoi_dap.posts[0].published),
             Post("Ảnh", BAD_URLS[1], hoi_dap.posts[0].published)) + hoi_dap.posts
    save_verdict(db, run_id, dataclasses.replace(hoi_dap, posts=posts, posts_in_year=len(posts)),
                 data.rulebook.period)
    index = write_html(build_audit(db, run_id, generated_at=GENERATED), tmp / "out")
    return index.parent


@functools.cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def test_one_page_per_agency_and_per_fetch(site):
    names = {p.relative_to(site).as_posix() for p in pages(site)}
    assert names == {"index.html", "ranking.html", "evidence/1.html", "evidence/2.html", "evidence/1-raw.html",
                     "evidence/2-raw.html"} | {
        f"agency/{a}.html" for a in ("so-tu-phap", "so-tttt", "so-xay-dung", "so-y-te", "ubnd-hoa-an", "ubnd-bao-lac")}


def test_no_page_holds_a_script_and_each_forbids_scripts(site):
    for path in pages(site):
        doc = soup(path)
        assert doc.find_all("script") == [], path
        csp = doc.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
        assert "default-src 'none'" in csp and "script-src" not in csp, path
        assert not [a for a in doc.find_all(True) if any(k.lower().startswith("on") for k in a.attrs)], path


def test_crawled_text_is_shown_as_text(site):
    agency = soup(site / "agency/so-tu-phap.html")
    assert EVIL_TITLE in [a.get_text() for a in agency.select("table.posts a")]
    assert SCRIPT_TITLE in [td.get_text() for td in agency.select("table.pages td")]
    raw = soup(site / "evidence/1-raw.html")
    body = raw.find("pre", id="body").get_text()
    assert "<script>alert(2)</script>" in body and SCRIPT_TITLE in body     # the archived page, as text
    frame = soup(site / "evidence/1.html").find("iframe", id="archived")
    assert "sandbox" in frame.attrs and not frame["sandbox"] and "allow" not in str(frame.attrs)  # nothing allowed
    assert frame["srcdoc"].startswith('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" '
                                      "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    assert "<script>alert(2)</script>" in frame["srcdoc"]                   # the page itself, its script inert
    tttt = soup(site / "agency/so-tttt.html")
    assert "</td><script>alert(5)</script>" in [a.get_text() for a in tttt.select("table.posts td")]


def test_only_http_links_are_made_from_crawled_urls(site):
    for path in pages(site):
        for a in soup(path).find_all("a", href=True):
            href = a["href"]
            assert not href.lower().startswith(("javascript:", "data:", "vbscript:")), (path, href)
            if href.startswith("http"):
                assert "noopener" in a["rel"] and "noreferrer" in a["rel"]
    titles = [td.get_text() for td in soup(site / "agency/so-tttt.html").select("table.posts td")]
    assert "Ảnh" in titles                    # the post is listed, its title as plain text without a link


def test_every_local_link_leads_to_a_page_and_an_anchor_that_exist(site):
    checked = 0
    for path in pages(site):
        for a in soup(path).find_all("a", href=True):
            href = a["href"]
            if href.startswith(("http://", "https://")):
                continue
            target, fragment = urldefrag(href)
            file = (path.parent / target).resolve() if target else path.resolve()
            assert file.is_file(), (path, href)
            if fragment:
                assert soup(file).find(id=fragment) is not None, (path, href)
            checked += 1
    assert checked > 100


def test_index_ranks_each_group_and_lists_the_unranked_and_the_review_queue(site):
    index = soup(site / "index.html")
    so = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in index.select("#ranking-so tbody tr")]
    assert [r[:2] for r in so] == [["1", "Sở Thông tin và Truyền thông"], ["2", "Sở Tư pháp"],
                                   ["–", "Sở Xây dựng"], ["–", "Sở Y tế"]]
    assert so[0][2] == "133,05/150" and so[1][2:5] == ["127,05/150", "84,7", "Khá"]
    assert "Nộp phiếu sau thời hạn (nộp ngày 30/11/2018, hạn 26/11/2018)" in so[2][2]
    assert "Không nộp phiếu" in so[3][2]
    huyen = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in index.select("#ranking-huyen tbody tr")]
    assert [r[0] for r in huyen] == ["1", "1"]                     # a tie shares the rank
    queue = [tr.find_all("a")[1]["href"] for tr in index.select("#review-table tbody tr")]
    assert queue == ["agency/so-tu-phap.html#thanh-tra"]


def test_agency_page_links_each_criterion_to_its_evidence(site):
    page = soup(site / "agency/so-tu-phap.html")
    rows = page.select("#criteria tbody tr")
    assert len(rows) == 34
    chi_dao = page.find("section", id="chi-dao-dieu-hanh")
    assert "2/5" in chi_dao.get_text() and "2 post(s), grade from 1" in chi_dao.select_one("details.tech").get_text()
    archived = [a["href"] for a in chi_dao.select("table.pages a.evidence")]
    assert archived == ["../evidence/1.html", "../evidence/2.html"]
    post_evidence = [tr.find_all("td")[-1].a["href"] for tr in chi_dao.select("table.posts tbody tr")]
    assert post_evidence == ["../evidence/2.html", "../evidence/1.html", "../evidence/1.html"]  # article, listing
    thanh_tra = page.find("section", id="thanh-tra")
    assert "Cần xem xét" in thanh_tra.get_text() and "0 points until a reviewer decides" in thanh_tra.get_text()


def test_columns_hidden_on_a_phone_are_hidden_whole(site):
    """A column the phone layout hides (class "wide") loses its header too, so the others stay aligned."""
    tables = 0
    for path in pages(site):
        for table in soup(path).find_all("table"):
            head = [i for i, th in enumerate(table.thead.find_all("th")) if "wide" in th.get("class", [])]
            for tr in table.tbody.find_all("tr"):
                cells = tr.find_all("td")
                if any(td.get("colspan") for td in cells):
                    continue
                assert [i for i, td in enumerate(cells) if "wide" in td.get("class", [])] == head, (path, table.get("id"))
            tables += bool(head)
    assert tables > 10


def test_ranking_page_draws_each_group_as_svg_with_names_as_text(tmp_path):
    """The chart is drawn at build time (no script), and an agency's name in it stays text."""
    db_path, run_id = build_province(tmp_path)
    db = open_db(db_path)
    db["agencies"].update((run_id, "so-tu-phap"), {"agency_name": SCRIPT_TITLE + " & <svg onload=alert(7)>"})
    root = write_html(build_audit(db, run_id, generated_at=GENERATED), tmp_path / "out").parent
    page = soup(root / "ranking.html")
    assert page.find_all("script") == [] and len(page.select("svg.chart")) == 2
    so = page.find("section", id="group-so")
    labels = [t.get_text() for t in so.select("svg.chart text")]
    assert any(t.startswith("2. " + SCRIPT_TITLE + " & <sv") for t in labels), labels   # text, not markup
    assert len(so.find_all("svg")) == 1 and not so.select("svg svg")
    assert [float(b["width"]) for b in so.select("rect.bar")] == sorted(
        (float(b["width"]) for b in so.select("rect.bar")), reverse=True)
    assert [li.get_text(" ", strip=True) for li in so.select("ul.not-ranked li")] == [
        "Sở Xây dựng : Nộp phiếu sau thời hạn (nộp ngày 30/11/2018, hạn 26/11/2018)", "Sở Y tế : Không nộp phiếu"]
    assert "@page{size:A4 landscape" in (root / "ranking.html").read_text(encoding="utf-8")
