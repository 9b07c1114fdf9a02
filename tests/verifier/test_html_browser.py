"""The HTML audit report opened in headless Chromium: the DOM it renders holds the ranking table and the
evidence links, and no script; a phone-size screenshot of each page is kept in tests/artifacts/.

Chromium is the Debian package (.ci/run installs it). Without it the test is skipped, unless
PORTAL_EVIDENCE_REQUIRE_BROWSER is set (CI sets it), where a missing browser is a failure.
"""

import dataclasses
import http.server
import os
import struct
import subprocess
import threading
import time
from html import escape
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.tools import required_tool
from verifier.export.audit import build_audit, load_run
from verifier.export.html import write_html
from verifier.store import open_db, save_verdict

from .builders import EVIL_TITLE, GENERATED, SCRIPT_TITLE, WarcMaker, build_province, page

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = (412, 915)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars")


@pytest.fixture(scope="module")
def browser():
    return required_tool("chromium")


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


def rendered(browser, page: Path, profile: Path, *extra: str) -> BeautifulSoup:
    """The DOM Chromium built from the page (after parsing, styles applied, any script it would run)."""
    result = chromium(browser, profile, *extra, "--dump-dom", page.as_uri())
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


# ------------------------------------------------------------------------------------------------ a hostile page

class _Beacon(http.server.BaseHTTPRequestHandler):
    """Records every request that reaches it (the path), and answers each with a tiny page."""

    hits: list[str] = []

    def do_GET(self):       # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        body = b"<html><body>beacon</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def beacon():
    _Beacon.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Beacon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Beacon.hits
    server.shutdown()
    server.server_close()


def hostile_page(base: str) -> bytes:
    """An archived page that tries every way out of its frame: scripts (inline, external, an event handler)
    that change the title, reach for the parent and navigate away; a meta refresh; an image, a style sheet,
    a CSS background and @import, a font, a frame, an object, a form and a video, all on the beacon."""
    return f"""<!DOCTYPE html><html><head><title>Trang gốc</title>
<meta http-equiv="refresh" content="0;url={base}/refresh">
<base href="{base}/base/">
<link rel="stylesheet" href="{base}/stylesheet">
<style>@import url({base}/import); @font-face{{font-family:x;src:url({base}/font)}}
body{{background:url({base}/background);font-family:x}}</style>
</head><body><h1>Chỉ đạo điều hành</h1>
<img src="{base}/img"><img src="relative-img">
<script>document.title = "PWNED"; try {{ parent.document.title = "PWNED"; }} catch (err) {{}}
new Image().src = "{base}/script-image"; location.href = "{base}/script-navigation";</script>
<script src="{base}/script.js"></script>
<iframe src="{base}/iframe"></iframe><object data="{base}/object"></object>
<video src="{base}/video" autoplay></video>
<form action="{base}/form" method="post"><input name="q" autofocus onfocus="location='{base}/onfocus'"></form>
<svg onload="location='{base}/svg'"></svg>
<p>Văn bản chỉ đạo số 1, ngày 05/03/2018</p></body></html>""".encode()


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, beacon):
    """The province with so-tttt's hoi-dap listing archived as the hostile page."""
    base, _ = beacon
    tmp = tmp_path_factory.mktemp("hostile")
    db_path, run_id = build_province(tmp)
    db = open_db(db_path)
    data = load_run(db, run_id)
    warc = WarcMaker(tmp / "warc", f"run-{run_id}-hostile.warc.gz")
    ref = warc.response("https://so-tttt.caobang.gov.vn/hoi-dap", hostile_page(base))
    warc.close()
    hoi_dap = data.verdict_map()[("so-tttt", "hoi-dap")]
    visit = page("https://so-tttt.caobang.gov.vn/hoi-dap", ref=ref, category="hoi-dap", label="Hỏi đáp", posts=1)
    save_verdict(db, run_id, dataclasses.replace(hoi_dap, pages=(visit,)), data.rulebook.period)
    audit = build_audit(db, run_id, generated_at=GENERATED)
    root = write_html(audit, tmp / "out").parent
    fid = next(i for i, f in audit.fetches.items() if (f["agency_id"], f["criterion"]) == ("so-tttt", "hoi-dap"))
    return root / "evidence" / f"{fid}.html"


def test_the_hostile_page_in_a_frame_without_protection_is_heard(browser, beacon, tmp_path):
    """The control: the same page in a plain frame (no sandbox, no policy) runs its script and loads from the
    beacon, so the silence of the test below means the report's frame stopped it."""
    base, hits = beacon
    control = tmp_path / "control.html"
    control.write_text(f'<html><body><iframe srcdoc="{escape(hostile_page(base + "/control").decode())}">'
                       "</iframe></body></html>", encoding="utf-8")
    chromium(browser, tmp_path / "profile", "--virtual-time-budget=3000", "--dump-dom", control.as_uri())
    heard = {h for h in hits if h.startswith("/control/")}
    assert {"/control/img", "/control/script-image"} <= heard, hits     # an image loaded, a script ran


def test_no_script_runs_and_nothing_loads_in_the_archived_page_frame(browser, beacon, hostile_report, tmp_path):
    base, hits = beacon
    before = [h for h in hits if not h.startswith("/control")]
    started = time.monotonic()
    dom = rendered(browser, hostile_report, tmp_path / "profile", "--virtual-time-budget=5000")
    elapsed = time.monotonic() - started
    frame = dom.find("iframe", id="archived")
    assert frame is not None and "sandbox" in frame.attrs and not frame["sandbox"]
    assert "<script>document.title" in frame["srcdoc"]            # the hostile page is there, whole
    assert dom.title.get_text().startswith("Bằng chứng")            # the parent's title unchanged
    del frame["srcdoc"]
    assert "PWNED" not in str(dom)                                   # nor anything else in the page
    assert [h for h in hits if not h.startswith("/control")] == before == [], hits   # nothing left the frame
    png = screenshot(browser, hostile_report, "report-evidence-hostile.png", tmp_path / "profile")
    assert png.stat().st_size > 1000
    print(f"\nhostile evidence page rendered in {elapsed:.2f}s")
