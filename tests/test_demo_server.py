"""The bundled demo portals and the loopback server that hosts them (demo/server.py)."""

from __future__ import annotations

import csv
import filecmp
import subprocess
import sys
import unicodedata
from pathlib import Path

import httpx
import pytest

from demo.server import PortalServer
from demo.pipeline import DEMO_DIR
from verifier.rulebook import load_rulebook


@pytest.fixture(scope="module")
def server():
    with PortalServer() as srv:
        yield srv


def get(server, url: str, **kw) -> httpx.Response:
    with httpx.Client(proxy=server.proxy_url, trust_env=False, follow_redirects=False, timeout=10) as client:
        return client.request(kw.pop("method", "GET"), url, **kw)


def demo_rows(name: str) -> list[dict]:
    with (DEMO_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_registered_portal_home_is_served_through_the_proxy(server):
    served = 0
    for agency in demo_rows("agencies.csv"):
        response = get(server, agency["portal"])
        if agency["agency_id"] in ("thach-an", "sct"):          # hosts that do not resolve
            assert response.status_code == 502 and "could not be retrieved" in response.text
            continue
        response = response if response.status_code == 200 else get(server, response.headers["location"])
        assert response.status_code == 200, agency
        assert "Hôm nay" in response.text or "2019" in response.text          # the header's "today" trap
        assert "© 2018" in response.text and "Lượt truy cập" in response.text
        served += 1
    assert served == 9


def test_www_twin_and_tracking_parameters_reach_the_same_page(server):
    plain = get(server, "http://sotuphap.caobang.gov.vn/taxonomy/term/17")
    twin = get(server, "http://www.sotuphap.caobang.gov.vn/taxonomy/term/17?utm_source=zalo")
    assert plain.status_code == twin.status_code == 200 and plain.content == twin.content


def test_zero_based_drupal_paging_and_an_unknown_path(server):
    page2 = get(server, "http://sotuphap.caobang.gov.vn/taxonomy/term/17?page=1")
    assert page2.status_code == 200 and "Tin tức - Sự kiện" in page2.text
    missing = get(server, "http://sotuphap.caobang.gov.vn/taxonomy/term/9999")
    assert missing.status_code == 404


def test_traps_of_the_server(server):
    redirect = get(server, "http://sokhdt.caobang.gov.vn/chi-dao-dieu-hanh.html")
    assert redirect.status_code == 302 and redirect.headers["location"] == "http://sokhdt.caobang.gov.vn/"
    away = get(server, "http://caobang.gov.vn/web/hoa-an/lay-y-kien-du-thao")
    assert away.status_code == 302 and away.headers["location"].startswith("http://gopy.caobang.gov.vn/")
    assert get(server, "http://sonnptnt.caobang.gov.vn/3cms/thanh-tra-so.htm").status_code == 503
    soft = get(server, "http://sotnmt.caobang.gov.vn/Pages/ChuyenMuc/88/Thanh-tra-giai-quyet-khieu-nai.html")
    assert soft.status_code == 200 and "Không tìm thấy trang" in soft.text


def test_a_flaky_page_fails_once_then_answers():
    with PortalServer() as fresh:
        url = "http://sogtvt.caobang.gov.vn/category/thong-tin-dau-thau/"
        assert get(fresh, url).status_code == 503
        assert get(fresh, url).status_code == 200


def test_robots_txt_and_legacy_encodings(server):
    robots = get(server, "http://caobang.gov.vn/robots.txt").text
    assert "Disallow: /web/hoa-an/so-lieu-thong-ke" in robots
    legacy = get(server, "http://sonnptnt.caobang.gov.vn/3cms/tin-hoat-dong.htm")
    assert legacy.headers["content-type"] == "text/html; charset=windows-1258"
    text = unicodedata.normalize("NFC", legacy.content.decode("cp1258"))
    assert "Tin hoạt động" in text and "&#" not in text        # every letter in the legacy code page
    meta_only = get(server, "http://sogtvt.caobang.gov.vn/category/tin-tuc/")
    assert meta_only.headers["content-type"] == "text/html"


def test_webforms_listing_pages_by_postback(server):
    form = {"__EVENTTARGET": "ctl00$noidung$gvDanhSach", "__EVENTARGUMENT": "Page$3", "__VIEWSTATE": "x"}
    page3 = get(server, "http://nguyenbinh.caobang.gov.vn/Pages/KetLuanThanhTra.aspx", method="POST", data=form)
    assert page3.status_code == 200 and "Kết luận thanh tra" in page3.text
    page1 = get(server, "http://nguyenbinh.caobang.gov.vn/Pages/KetLuanThanhTra.aspx")
    assert page1.text != page3.text and "__doPostBack" in page1.text


def test_requests_are_logged_with_their_host(server):
    before = len(server.requests)
    get(server, "http://soyte.caobang.gov.vn/rss/chi-dao-dieu-hanh/")
    entry = list(server.requests)[before]
    assert (entry.host, entry.target, entry.status) == ("soyte.caobang.gov.vn", "/rss/chi-dao-dieu-hanh/", 200)


def test_committed_demo_is_what_build_py_writes(tmp_path):
    subprocess.run([sys.executable, str(DEMO_DIR / "build.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in ("agencies.csv", "reports.csv", "truth.csv"):
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name
    fresh = sorted(p.relative_to(tmp_path / "portals") for p in (tmp_path / "portals").rglob("*") if p.is_file())
    kept = sorted(p.relative_to(DEMO_DIR / "portals") for p in (DEMO_DIR / "portals").rglob("*") if p.is_file())
    assert fresh == kept
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "portals", DEMO_DIR / "portals", [str(p) for p in kept],
                                           shallow=False)
    assert not mismatch and not errors


def test_truth_covers_every_criterion_of_every_agency_with_a_form():
    rulebook = load_rulebook()
    groups = {a["agency_id"]: a["group"] for a in demo_rows("agencies.csv")}
    with_form = {r["agency_id"] for r in demo_rows("reports.csv")}
    truth = {(t["agency_id"], t["criterion"]) for t in demo_rows("truth.csv")}
    expected = {(a, c.id) for a in with_form for c in rulebook.criteria_for(groups[a])}
    assert truth == expected
    assert set(groups) - with_form == {"sct"}          # the agency that never sent a form


def test_truth_holds_every_verdict_row_of_the_spec():
    rows = {(t["status"], t["reason"]) for t in demo_rows("truth.csv")}
    spec = {("pass", "ok"), ("exempt", "not_applicable"), ("review", "not_applicable_unexplained"),
            ("fail", "no_link"), ("fail", "off_site"), ("fail", "unreachable"), ("fail", "not_found"),
            ("fail", "wrong_category"), ("fail", "no_posts_in_year"), ("review", "undated"),
            ("review", "robots_disallowed"), ("pass", "scored"), ("fail", "blank"), ("review", "logic_check")}
    assert spec <= rows
    assert any(t["discovered"] == "true" and t["status"] == "pass" for t in demo_rows("truth.csv"))


def test_demo_pages_carry_the_traps():
    portals = DEMO_DIR / "portals"
    nfd = (portals / "sogtvt.caobang.gov.vn" / "chi-dao-dieu-hanh-p1.html").read_text(encoding="utf-8")
    composed, decomposed = (unicodedata.normalize(form, "Chỉ đạo") for form in ("NFC", "NFD"))
    assert composed not in nfd and decomposed in nfd
    notice = (portals / "sotuphap.caobang.gov.vn" / "chi-dao-dieu-hanh-p1.html").read_text(encoding="utf-8")
    assert "Notice</b>: Undefined offset" in notice
    evil = (portals / "sotuphap.caobang.gov.vn" / "tin-tuc-su-kien-p1.html").read_text(encoding="utf-8")
    assert "=HYPERLINK(&quot;http://evil.example" in evil
    script = (portals / "sotuphap.caobang.gov.vn" / "chi-dao-dieu-hanh-p1.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in script and "<script>alert(" not in script
    assert Path(portals / "sokhdt.caobang.gov.vn" / "site.yaml").read_text(encoding="utf-8").count("oversized") == 1
