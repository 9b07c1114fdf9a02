"""Links to a host the rulebook allows for a criterion (allowed_hosts: the public-service portals), judged on
that host by `check` and `crawl`, while every other criterion keeps the registry rule (`off_site`)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.links import investigate_link
from crawler.settings import RunOptions
from crawler.urls import Scope, allowed_host
from demo.pipeline import DEMO_LIMITS, proxy_env
from verifier.api import check_link
from verifier.errors import RulebookError
from verifier.rulebook import load_rulebook

DVC = "http://dichvucong.caobang.gov.vn"
AGENCY_PAGE = f"{DVC}/thu-tuc-hanh-chinh?donvi=stp"
STP = "http://sotuphap.caobang.gov.vn"
ROOT = Path(__file__).resolve().parent.parent


# -- the rulebook field

def test_the_bundled_rulebook_allows_the_two_public_service_portals_for_dich_vu_cong_only(rulebook):
    assert rulebook.criterion("dich-vu-cong").allowed_hosts == ("dichvucong.caobang.gov.vn", "dichvucong.gov.vn")
    assert [c.id for c in rulebook.criteria if c.allowed_hosts] == ["dich-vu-cong"]


def _with_dvc_hosts(tmp_path: Path, value: str, criterion: str = "dich-vu-cong") -> Path:
    text = Path(load_rulebook().source).read_text(encoding="utf-8")
    text = text.replace("    allowed_hosts: [dichvucong.caobang.gov.vn, dichvucong.gov.vn]\n", "", 1)
    anchor = f"  - id: {criterion}\n"
    text = text.replace(anchor, f"{anchor}    allowed_hosts: {value}\n", 1)
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("value", [
    "[https://dichvucong.gov.vn]",         # a URL, not a host
    "[DichVuCong.gov.vn]",                 # not lower-case
    "[dichvucong.gov.vn/tthc]",            # a path
    "[dichvucong.gov.vn:8080]",            # a port
    "[localhost]",                         # one label
    "['*.']",
    "dichvucong.gov.vn",                   # not a list
])
def test_a_malformed_allowed_host_is_a_rulebook_error_naming_the_field(tmp_path, value):
    with pytest.raises(RulebookError) as exc:
        load_rulebook(_with_dvc_hosts(tmp_path, value))
    assert "criteria[dich-vu-cong].allowed_hosts" in str(exc.value)


def test_allowed_hosts_on_a_reported_criterion_is_refused(tmp_path):
    with pytest.raises(RulebookError) as exc:
        load_rulebook(_with_dvc_hosts(tmp_path, "[dichvucong.gov.vn]", criterion="dvc-muc-3-4"))
    assert "allowed_hosts belong to website criteria" in str(exc.value)


def test_a_wildcard_entry_loads(tmp_path):
    book = load_rulebook(_with_dvc_hosts(tmp_path, "['*.dichvucong.gov.vn', dichvucong.caobang.gov.vn]"))
    assert book.criterion("dich-vu-cong").allowed_hosts == ("*.dichvucong.gov.vn", "dichvucong.caobang.gov.vn")


HOSTS = ("dichvucong.caobang.gov.vn", "*.dichvucong.gov.vn")


@pytest.mark.parametrize("url,entry", [
    ("http://dichvucong.caobang.gov.vn/thu-tuc-hanh-chinh?donvi=stp", "dichvucong.caobang.gov.vn"),
    ("https://www.DichVuCong.CaoBang.gov.vn:8443/x", "dichvucong.caobang.gov.vn"),   # www twin, case, port
    ("http://dichvucong.caobang.gov.vn./x", "dichvucong.caobang.gov.vn"),           # trailing dot
    ("http://tthc.dichvucong.gov.vn/x", "*.dichvucong.gov.vn"),
    ("http://dichvucong.gov.vn/x", None),               # the wildcard names subdomains only
    ("http://evil-dichvucong.caobang.gov.vn/x", None),
    ("http://dichvucong.caobang.gov.vn.evil.example/x", None),
    ("http://evildichvucong.gov.vn/x", None),
    ("http://sotuphap.caobang.gov.vn/x", None),
    ("not a url at all", None),
])
def test_which_links_are_on_an_allowed_host(url, entry):
    assert allowed_host(url, HOSTS) == entry


def test_the_link_is_investigated_in_the_scope_of_its_host_alone(rulebook, matcher):
    inv = investigate_link("dich-vu-cong", AGENCY_PAGE, scope=Scope.parse(STP), matcher=matcher,
                           options=RunOptions(period=rulebook.period),
                           allowed_hosts=rulebook.criterion("dich-vu-cong").allowed_hosts)
    assert inv.outcome.allowed_host == "dichvucong.caobang.gov.vn" and inv.outcome.refused is None
    assert inv.scope.owns(f"{DVC}/thu-tuc/cap-phieu-ly-lich-tu-phap.html")
    # neither the agency's own portal nor the other allowed host: nothing is followed off the host
    assert not inv.scope.owns(f"{STP}/taxonomy/term/10") and not inv.scope.owns("http://dichvucong.gov.vn/")


# -- check, on loopback

@pytest.fixture
def check(server):
    def run(url: str, criterion: str = "dich-vu-cong"):
        with proxy_env(server.proxy_url):
            return check_link(url, criterion, agency_portal=STP, allow_private=True,
                              timeout=DEMO_LIMITS.read_timeout).verdict
    return run


def test_check_judges_the_agency_page_on_the_public_service_portal(check, server):
    before = len(server.requests)
    got = check(AGENCY_PAGE)
    assert (got.status, got.reason, got.posts_in_year) == ("pass", "ok", 5), got.detail
    assert "dichvucong.caobang.gov.vn is allowed by the rulebook for dich-vu-cong" in got.detail
    assert {r.host for r in list(server.requests)[before:]} == {"dichvucong.caobang.gov.vn"}


def test_check_fails_the_public_service_portals_home_page(check):
    got = check(DVC + "/")
    assert (got.status, got.reason) == ("fail", "wrong_category"), got.detail
    assert "home page of dichvucong.caobang.gov.vn" in got.detail


def test_check_without_the_agency_portal_knows_the_host_too(server):
    with proxy_env(server.proxy_url):
        home = check_link(DVC + "/", "dich-vu-cong", allow_private=True, timeout=DEMO_LIMITS.read_timeout).verdict
        page = check_link(AGENCY_PAGE, "dich-vu-cong", allow_private=True, timeout=DEMO_LIMITS.read_timeout).verdict
    assert (home.status, home.reason) == ("fail", "wrong_category") and "home page of" in home.detail
    assert (page.status, page.reason) == ("pass", "ok")


@pytest.mark.parametrize("url, agency, want", [
    (AGENCY_PAGE, ("stp", "Sở Tư pháp"), ("pass", "ok")),                      # ?donvi=stp and its heading
    (AGENCY_PAGE, ("stp", "Sở Tư pháp tỉnh Cao Bằng"), ("pass", "ok")),        # the province's name left out
    (f"{DVC}/thu-tuc-hanh-chinh", ("sgtvt", "Sở Giao thông vận tải"), ("fail", "not_agency_page")),  # all of them
    (AGENCY_PAGE, ("sgtvt", "Sở Giao thông vận tải"), ("fail", "not_agency_page")),                 # another's
])
def test_a_list_on_the_public_service_portal_is_the_agencys_only_if_it_names_the_agency(server, url, agency, want):
    with proxy_env(server.proxy_url):
        got = check_link(url, "dich-vu-cong", allow_private=True, timeout=DEMO_LIMITS.read_timeout,
                         agency=agency).verdict
    assert (got.status, got.reason) == want, got.detail
    if want[1] == "not_agency_page":
        assert got.posts_in_year is None and got.posts == ()
        assert f"names neither {agency[1]!r} nor its code {agency[0]!r}" in got.detail


def test_check_of_an_unreachable_allowed_host_is_unreachable(check):
    got = check("http://dichvucong.gov.vn/thu-tuc-hanh-chinh?donvi=stp")    # no such host behind the proxy
    assert (got.status, got.reason) == ("fail", "unreachable"), got.detail


def test_check_keeps_off_site_for_a_criterion_without_allowed_hosts(check, server):
    before = len(server.requests)
    got = check(AGENCY_PAGE, "tin-tuc-su-kien")
    assert (got.status, got.reason) == ("fail", "off_site"), got.detail
    assert list(server.requests)[before:] == []          # nothing fetched


# -- crawl, on loopback

REPORTS = [
    ("stp", "dich-vu-cong", AGENCY_PAGE),                        # allowed: judged there
    ("stp", "tin-tuc-su-kien", AGENCY_PAGE),                     # the same host, not allowed for this criterion
    ("stp", "lay-y-kien", "https://www.facebook.com/sotuphapcaobang"),
    ("skhdt", "dich-vu-cong", DVC + "/"),                        # the portal's home page
]
WANT = {
    ("stp", "dich-vu-cong"): ("pass", "ok"),
    ("stp", "tin-tuc-su-kien"): ("fail", "off_site"),
    ("stp", "lay-y-kien"): ("fail", "off_site"),
    ("skhdt", "dich-vu-cong"): ("fail", "wrong_category"),
}


@pytest.fixture(scope="module")
def crawled(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("allowed")
    (folder / "agencies.csv").write_text(
        "agency_id,agency_name,group,portal\n"
        f"stp,Sở Tư pháp,so,{STP}\nskhdt,Sở Kế hoạch và Đầu tư,so,http://sokhdt.caobang.gov.vn\n", encoding="utf-8")
    (folder / "reports.csv").write_text(
        "agency_id,criterion,url,value,not_applicable,note,submitted_at\n"
        + "".join(f"{a},{c},{u},,,,20/11/2018\n" for a, c, u in REPORTS), encoding="utf-8")
    db = folder / "evidence.db"
    before = len(server.requests)
    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": "",
           "NO_PROXY": ""}
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(folder / "agencies.csv"),
                             "--reports", str(folder / "reports.csv"), "--db", str(db),
                             "--timeout", str(DEMO_LIMITS.read_timeout)],
                            env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return db, list(server.requests)[before:]


def test_the_crawl_judges_the_allowed_host_link_there_and_keeps_off_site_elsewhere(crawled):
    db, _ = crawled
    con = sqlite3.connect(db)
    try:
        got = {(a, c): (s, r) for a, c, s, r in con.execute(
            "select agency_id, criterion, status, reason from verdicts")}
    finally:
        con.close()
    assert {k: got[k] for k in WANT} == WANT


def test_the_crawl_requests_only_the_portals_and_the_allowed_host(crawled):
    _, requests = crawled
    assert {r.host for r in requests} == {"sotuphap.caobang.gov.vn", "sokhdt.caobang.gov.vn",
                                         "dichvucong.caobang.gov.vn"}
    on_dvc = {r.target for r in requests if r.host == "dichvucong.caobang.gov.vn"}
    # the two reported pages and the host's own robots.txt, then pages the agency page links (the article of a
    # procedure dated before the period, opened to see whether it was updated within it)
    assert {"/", "/robots.txt", "/thu-tuc-hanh-chinh?donvi=stp"} <= on_dvc
    assert all(t.endswith(".html") for t in on_dvc - {"/", "/robots.txt", "/thu-tuc-hanh-chinh?donvi=stp"})


@pytest.mark.parametrize("given", ["stp=", "=Sở Tư pháp", " "])
def test_check_refuses_an_agency_option_that_is_neither_id_nor_id_and_name(given):
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", AGENCY_PAGE, "-c", "dich-vu-cong",
                             "--agency", given], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and "--agency" in result.stderr and "ID=Name" in result.stderr
