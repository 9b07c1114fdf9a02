"""The HTML audit report opened in headless Chromium: the DOM it renders holds the ranking table and the
evidence links, and no script; a phone-size screenshot of each page is kept in tests/artifacts/.

Chromium is the Debian package (.ci/run installs it). Without it the test is skipped, unless
PORTAL_EVIDENCE_REQUIRE_BROWSER is set (CI sets it), where a missing browser is a failure.
"""

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from verifier.export.audit import build_audit
from verifier.export.html import write_html
from verifier.store import open_db

from .builders import EVIL_TITLE, GENERATED, SCRIPT_TITLE, build_province

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = (412, 915)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("PORTAL_EVIDENCE_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed but PORTAL_EVIDENCE_REQUIRE_BROWSER is set (install: apt-get "
                        "install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); set PORTAL_EVIDENCE_REQUIRE_BROWSER "
                    "to make this a failure")
    return CHROMIUM


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("province")
    db_path, run_id = build_province(tmp)
    return write_html(build_audit(open_db(db_path), run_id, generated_at=GENERATED), tmp / "out").parent


def chromium(browser, profile: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                            timeout=120, env={**os.environ, "LANG": "C.UTF-8"})
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    return result


def rendered(browser, page: Path, profile: Path) -> BeautifulSoup:
    """The DOM Chromium built from the page (after parsing, styles applied, any script it would run)."""
    result = chromium(browser, profile, "--dump-dom", page.as_uri())
    return BeautifulSoup(result.stdout.decode("utf-8"), "lxml")


def screenshot(browser, page: Path, name: str, profile: Path) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / name
    png.unlink(missing_ok=True)
    chromium(browser, profile, f"--screenshot={png}", f"--window-size={PHONE[0]},{PHONE[1]}", page.as_uri())
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == PHONE          # the phone-size viewport
    return png


def test_index_opens_with_the_ranking_tables(browser, report, tmp_path):
    dom = rendered(browser, report / "index.html", tmp_path / "profile")
    assert dom.find_all("script") == []
    so = dom.find("table", id="ranking-so")
    ranks = [[td.get_text(" ", strip=True) for td in tr.find_all("td")][:3] for tr in so.tbody.find_all("tr")]
    assert ranks[:2] == [["1", "Sở Thông tin và Truyền thông", "133,05/150"], ["2", "Sở Tư pháp", "127,05/150"]]
    huyen = dom.find("table", id="ranking-huyen")
    assert [tr.td.get_text(strip=True) for tr in huyen.tbody.find_all("tr")] == ["1", "1"]
    links = [a["href"] for a in so.find_all("a")]
    assert all((report / href).is_file() for href in links) and len(links) == 4
    screenshot(browser, report / "index.html", "report-index.png", tmp_path / "profile")


def test_agency_page_opens_with_its_evidence_links(browser, report, tmp_path):
    page = report / "agency" / "so-tu-phap.html"
    dom = rendered(browser, page, tmp_path / "profile")
    assert dom.find_all("script") == []
    assert len(dom.find("table", id="criteria").tbody.find_all("tr")) == 34
    section = dom.find("section", id="chi-dao-dieu-hanh")
    evidence = [a["href"] for a in section.select("a.evidence")]
    assert evidence == ["../evidence/1.html", "../evidence/2.html"]
    assert all((page.parent / href).resolve().is_file() for href in evidence)
    assert EVIL_TITLE in [a.get_text() for a in section.select("table.posts a")]
    assert SCRIPT_TITLE in [td.get_text() for td in section.select("table.pages td")]
    screenshot(browser, page, "report-agency-so-tu-phap.png", tmp_path / "profile")


def test_raw_evidence_page_shows_the_archived_page_as_text(browser, report, tmp_path):
    dom = rendered(browser, report / "evidence" / "1-raw.html", tmp_path / "profile")
    assert dom.find_all("script") == []
    body = dom.find("pre", id="body").get_text()
    assert "<script>alert(2)</script>" in body and EVIL_TITLE in body
