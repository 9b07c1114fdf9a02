"""The bundled demo portals and the loopback server that hosts them (demo/server.py)."""

from __future__ import annotations

import csv
import filecmp
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import httpx
import pytest

from demo.pipeline import DEMO_DIR
from demo.server import PortalServer, SiteConfigError
from verifier.rulebook import load_rulebook


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
    for name in ("agencies.csv", "reports.csv", "items.csv", "truth.csv"):
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
    expected = {(a, c.id) for a in with_form for c in rulebook.criteria_for(groups[a], a)}
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


# -- the server's machinery, on a small portal written here ---------------------------------------

LAB_HOST = "lab.caobang.gov.vn"
LAB_SITE = f"""\
host: {LAB_HOST}
server: nginx
robots: "User-agent: *\\nDisallow: /rieng\\n"
routes:
- path: /
  body: <html><body>trang chu</body></html>
- path: /cham
  body: <html><body>cham</body></html>
  delay: 0.3
- path: /treo
  body: never sent
  delay: 30
- path: /lon
  generate: {{kind: oversized, size: 200000, content_length: false}}
- path: /chap-chon
  body: ok
  fail_times: 2
  fail_status: 429
  fail_headers: {{Retry-After: "1"}}
- path: /danh-sach
  endless: {{param: page, template: list.html, item: "<li>{{{{N}}}} {{{{DATE}}}}</li>",
            next: '<a href="/danh-sach?page={{{{NEXT_PAGE}}}}">sau</a>'}}
"""


@pytest.fixture()
def lab_root(tmp_path):
    site = tmp_path / "portals" / LAB_HOST
    site.mkdir(parents=True)
    (site / "site.yaml").write_text(LAB_SITE, encoding="utf-8")
    (site / "list.html").write_text("<ul>{{ITEMS}}</ul>{{NEXT}}", encoding="utf-8")
    return tmp_path


def test_the_log_names_site_kind_and_times_and_overlap_is_counted_per_site(lab_root):
    with PortalServer(lab_root, latency=0.05) as srv:
        urls = [f"http://{LAB_HOST}/cham", f"http://www.{LAB_HOST}/cham"]
        threads = [threading.Thread(target=get, args=(srv, u)) for u in urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert srv.max_overlap == {LAB_HOST: 2}                  # the www. twin is the same site
        robots = get(srv, f"http://{LAB_HOST}/robots.txt")
        assert robots.status_code == 200 and "Disallow: /rieng" in robots.text
        assert robots.headers["server"] == "nginx"
        dead = get(srv, "http://khong-ton-tai.caobang.gov.vn/")
        assert dead.status_code == 502 and dead.headers["x-squid-error"].startswith("ERR_DNS_FAIL")
        assert srv.tally("site") == {LAB_HOST: 3, "khong-ton-tai.caobang.gov.vn": 1}
        assert srv.tally("kind") == {"route": 2, "robots": 1, "unknown_host": 1}
        slow = [e for e in srv.requests if e.target == "/cham"]
        assert {e.host for e in slow} == {LAB_HOST, f"www.{LAB_HOST}"}
        assert all(e.finished - e.started >= 0.35 for e in slow)    # latency + the route's delay
        assert srv.window >= 0.35 and len(srv.concurrency_profile()) == 10


def test_stop_ends_a_delayed_answer_at_once(lab_root):
    srv = PortalServer(lab_root).start()
    failed = []

    def ask():
        try:
            get(srv, f"http://{LAB_HOST}/treo")
        except httpx.HTTPError as exc:
            failed.append(exc)

    client = threading.Thread(target=ask)
    client.start()
    while not srv.requests:
        time.sleep(0.02)
    started = time.monotonic()
    srv.stop()
    client.join(timeout=5)
    assert time.monotonic() - started < 3 and failed                 # not the route's 30 s
    assert srv.requests[0].status == 200 and srv.requests[0].finished is not None


def test_generated_bodies_and_fail_n_times(lab_root):
    with PortalServer(lab_root) as srv:
        big = get(srv, f"http://{LAB_HOST}/lon")
        assert big.status_code == 200 and len(big.content) == 200000 and "content-length" not in big.headers
        page3 = get(srv, f"http://{LAB_HOST}/danh-sach?page=3").text
        assert "<li>21 " in page3 and "<li>30 " in page3 and "page=4" in page3
        assert get(srv, f"http://{LAB_HOST}/danh-sach?page=x").status_code == 404
        flaky = [get(srv, f"http://{LAB_HOST}/chap-chon") for _ in range(3)]
        assert [r.status_code for r in flaky] == [429, 429, 200] and flaky[0].headers["retry-after"] == "1"
        srv.reset()
        assert not srv.requests and get(srv, f"http://{LAB_HOST}/chap-chon").status_code == 429


def test_direct_requests_the_default_host_and_connect(lab_root):
    with PortalServer(lab_root) as srv:
        direct = httpx.get(f"{srv.proxy_url}/", trust_env=False)
        assert direct.status_code == 404 and "no default host" in direct.text
        with socket.create_connection((srv.host, srv.port), timeout=5) as sock:
            sock.sendall(f"CONNECT {LAB_HOST}:443 HTTP/1.1\r\nHost: {LAB_HOST}:443\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.1 501")
    with PortalServer(lab_root, default_host=LAB_HOST) as srv:
        assert "trang chu" in httpx.get(f"{srv.proxy_url}/", trust_env=False).text
    with pytest.raises(SiteConfigError, match="not a served portal"):
        PortalServer(lab_root, default_host="khac.caobang.gov.vn")
