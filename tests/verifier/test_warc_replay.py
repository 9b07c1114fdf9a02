"""The evidence opened by the standard tools of web archiving: warcio, cdxj-indexer and pywb.

A small demo crawl (three agencies: sokhdt's category that redirects home, Hòa An's link that
redirects off the portal, Nguyên Bình's WebForms listing paged by form posts) and a spot-check with
`--warc`, exported as warc/ and evidence.wacz; then `warcio check`, `cdxj-indexer -s -p` and a pywb
of its own virtual environment (installed from the package registry once per session, or the tests
say why they are skipped) replay what every verdict rests on.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from surt import surt
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from cli import app
from crawler.categories import CategoryMatcher
from crawler.settings import RunOptions
from crawler.spotcheck import spot_check
from demo.pipeline import DEMO_DIR, DEMO_LIMITS
from demo.server import PortalServer
from verifier.rulebook import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AGENCIES = {"skhdt", "hoa-an", "nguyen-binh"}
REDIRECT_HOME = "http://sokhdt.caobang.gov.vn/chi-dao-dieu-hanh.html"
REDIRECT_OFF_SITE = "http://caobang.gov.vn/web/hoa-an/lay-y-kien-du-thao"
WEBFORMS = "http://nguyenbinh.caobang.gov.vn/Pages/KetLuanThanhTra.aspx"
TOOLS = ("pywb==2.10.0", "wacz==0.6.0")      # pywb replays; py-wacz validates a WACZ


def records(path: Path) -> list:
    """Every record of a WARC file: (type, WARC headers, HTTP headers or None, content)."""
    out = []
    with path.open("rb") as fh:
        for r in ArchiveIterator(fh):
            out.append((r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read()))
    return out


def demo_subset(folder: Path) -> tuple[Path, Path]:
    paths = []
    for name in ("agencies.csv", "reports.csv"):
        with open(DEMO_DIR / name, encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(rows[0])
            writer.writerows(r for r in rows[1:] if r[0] in AGENCIES)
        paths.append(folder / name)
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def evidence(server, tmp_path_factory):
    """The crawl of three demo agencies, a spot-check's WARC, and the run exported as warc/ and WACZ twice."""
    folder = tmp_path_factory.mktemp("evidence")
    agencies, reports = demo_subset(folder)
    db = folder / "evidence.db"
    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": "",
           "NO_PROXY": ""}
    crawl = subprocess.run([sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(agencies),
                            "--reports", str(reports), "--db", str(db), "--timeout", str(DEMO_LIMITS.read_timeout)],
                           env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert crawl.returncode in (0, 1), crawl.stderr[-3000:]
    check_warc = folder / "check.warc.gz"
    for url, criterion in ((REDIRECT_OFF_SITE, "lay-y-kien"), (REDIRECT_HOME, "chi-dao-dieu-hanh")):
        done = CliRunner().invoke(app, ["check", url, "-c", criterion, "--warc", str(check_warc), "--json",
                                        "--timeout", str(DEMO_LIMITS.read_timeout)], env=env)
        assert done.exit_code in (0, 1), done.output
    outs = []
    for name in ("report", "again"):
        out = folder / name
        done = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(out), "--format", "json,warc,wacz"])
        assert done.exit_code in (0, 1), done.output
        outs.append(out)
    return {"db": db, "check": check_warc, "report": outs[0], "again": outs[1],
            "crawl_warcs": sorted((folder / "evidence-warc").glob("*.warc.gz"))}


def fetch_rows(db: Path) -> list[dict]:
    import sqlite3

    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("select * from fetches order by id")]
    finally:
        con.close()


# -- warcio and cdxj-indexer


def test_warcio_check_passes_on_the_crawl_and_the_spot_check(evidence):
    files = [*evidence["crawl_warcs"], evidence["check"]]
    done = subprocess.run([str(BIN / "warcio"), "check", "-v", *map(str, files)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "digest pass" in done.stdout and "fail" not in done.stdout.replace("digest pass", "")


def test_the_exported_index_is_what_cdxj_indexer_prints(evidence):
    warc = evidence["report"] / "warc"
    names = sorted(p.name for p in warc.glob("*.warc.gz"))
    done = subprocess.run([str(BIN / "cdxj-indexer"), "-s", "-p", *names], cwd=warc, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert (warc / "index.cdxj").read_text(encoding="utf-8") == done.stdout
    posts = [line for line in done.stdout.splitlines() if "__wb_method=post" in line]
    assert len({line.split(" ", 1)[0] for line in posts}) >= 2       # each postback page has its own key


def test_each_request_follows_its_response_and_names_it(evidence):
    for path in [*evidence["crawl_warcs"], evidence["check"]]:
        recs = records(path)
        assert recs[0][0] == "warcinfo"
        for i, (kind, headers, _http, _body) in enumerate(recs):
            if kind != "request":
                continue
            before = recs[i - 1][1]
            assert headers.get_header("WARC-Concurrent-To") == before.get_header("WARC-Record-ID")
            assert headers.get_header("WARC-Target-URI") == before.get_header("WARC-Target-URI")


def test_redirect_hops_are_archived_on_both_paths(evidence):
    for path, note in ((evidence["crawl_warcs"][0], "names normalised"), (evidence["check"], None)):
        recs = records(path)
        hop = next(i for i, r in enumerate(recs) if r[0] == "response"
                   and r[1].get_header("WARC-Target-URI") == REDIRECT_HOME)
        kind, headers, http, _ = recs[hop]
        assert http.get_statuscode() == "302" and http.get_header("Location") == "http://sokhdt.caobang.gov.vn/"
        assert http.statusline == "302 Found"
        assert (note in (headers.get_header("WARC-Payload-Note") or "")) if note else \
            headers.get_header("WARC-Payload-Note") is None
        assert recs[hop + 1][0] == "request"
        home = recs[hop + 2]         # the next exchange: the home page it led to
        assert (home[0], home[1].get_header("WARC-Target-URI"), home[2].get_statuscode()) == \
            ("response", "http://sokhdt.caobang.gov.vn/", "200")
        off = next(i for i, r in enumerate(recs) if r[0] == "response"
                   and r[1].get_header("WARC-Target-URI") == REDIRECT_OFF_SITE)
        assert recs[off][2].get_header("Location") == "http://gopy.caobang.gov.vn/du-thao/hoa-an"
        meta = recs[off + 2]          # why the hop was not followed, pointing at the answer it refused
        assert meta[0] == "metadata" and meta[1].get_header("WARC-Refers-To") == recs[off][1].get_header(
            "WARC-Record-ID")
        assert b"error: off_site" in meta[3]


def test_the_spot_check_keeps_the_status_line_and_headers_as_received(evidence, server):
    proxy = urlsplit(server.proxy_url)
    conn = http.client.HTTPConnection(proxy.hostname, proxy.port, timeout=10)
    conn.request("GET", REDIRECT_HOME, headers={"Host": "sokhdt.caobang.gov.vn"})
    answer = conn.getresponse()
    sent = [name for name, _ in answer.getheaders()]
    reason, version = answer.reason, answer.version
    conn.close()
    recs = records(evidence["check"])
    kind, headers, http_headers, _ = next(r for r in recs if r[0] == "response"
                                          and r[1].get_header("WARC-Target-URI") == REDIRECT_HOME)
    assert http_headers.protocol == f"HTTP/{version // 10}.{version % 10}"
    assert http_headers.statusline == f"302 {reason}"
    assert [name for name, _ in http_headers.headers] == sent      # names, case and order as the server sent


def test_the_warcinfo_carries_the_runs_provenance(evidence):
    import sqlite3

    con = sqlite3.connect(evidence["db"])
    provenance = json.loads(con.execute("select provenance from runs").fetchone()[0])
    con.close()
    kind, _headers, _http, body = records(evidence["crawl_warcs"][0])[0]
    fields = dict(line.split(": ", 1) for line in body.decode("utf-8").splitlines())
    assert fields["isPartOf"] == "portal-evidence run 1"
    assert fields["rulebook-sha256"] == provenance["rulebook"]["sha256"]
    assert fields["rulebook-title"] == provenance["rulebook"]["title"]
    assert fields["user-agent"] == provenance["user_agent"]
    assert fields["period"] == " ".join(provenance["period"])
    assert fields["started-at"] == provenance["started_at"]
    assert fields["proxy"] == "yes" and fields["robots"] == "obeyed"
    kind, _headers, _http, body = records(evidence["check"])[0]
    assert kind == "warcinfo" and b"isPartOf: portal-evidence check" in body and b"\r\ncommand: " in body


def test_the_server_address_is_recorded_on_a_direct_connection(tmp_path):
    """Through a proxy the address connected to is the proxy's, so none is written; direct, it is the server's,
    on both paths."""
    rulebook = load_rulebook()
    options = RunOptions(period=tuple(rulebook.period), limits=DEMO_LIMITS, allow_private=True)
    with PortalServer(default_host="sokhdt.caobang.gov.vn") as srv:
        url = f"http://127.0.0.1:{srv.port}/chuyen-muc/tin-tuc-su-kien.html"
        warc = tmp_path / "direct.warc.gz"
        saved = {k: os.environ.pop(k, None) for k in ("http_proxy", "HTTP_PROXY")}
        try:
            spot_check(url, "tin-tuc-su-kien", matcher=CategoryMatcher.from_rulebook(rulebook), options=options,
                       warc_path=warc)
        finally:
            os.environ.update({k: v for k, v in saved.items() if v is not None})
        # the crawl (Scrapy) of the same portal, direct
        agencies, reports = tmp_path / "agencies.csv", tmp_path / "reports.csv"
        agencies.write_text(f"agency_id,agency_name,group,portal\nskhdt,Sở Kế hoạch và Đầu tư,so,"
                            f"http://127.0.0.1:{srv.port}\n", encoding="utf-8")
        reports.write_text(f"agency_id,criterion,url,value,not_applicable,note,submitted_at\n"
                           f"skhdt,tin-tuc-su-kien,{url},,,,23/11/2018\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
        crawl = subprocess.run([sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(agencies),
                                "--reports", str(reports), "--db", str(tmp_path / "direct.db"), "--allow-private",
                                "--timeout", str(DEMO_LIMITS.read_timeout)], env=env, capture_output=True,
                               text=True, timeout=120, cwd=ROOT)
        assert crawl.returncode in (0, 1), crawl.stderr[-3000:]
    for path in [warc, *(tmp_path / "direct-warc").glob("*.warc.gz")]:
        responses = [r for r in records(path) if r[0] == "response"]
        assert responses and all(r[1].get_header("WARC-IP-Address") == "127.0.0.1" for r in responses), path
    assert len(list((tmp_path / "direct-warc").glob("*.warc.gz"))) == 1


# -- WACZ


def test_the_wacz_follows_the_spec_and_its_digests_hold(evidence):
    path = evidence["report"] / "evidence.wacz"
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl", "indexes/index.cdx.gz",
                "indexes/index.idx"} <= set(names)
        archived = [n for n in names if n.startswith("archive/")]
        assert sorted(Path(n).name for n in archived) == sorted(p.name for p in evidence["crawl_warcs"])
        assert all(zf.getinfo(n).compress_type == zipfile.ZIP_STORED for n in archived)
        package_bytes = zf.read("datapackage.json")
        package = json.loads(package_bytes)
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        assert {r["path"] for r in package["resources"]} == set(names) - {"datapackage.json",
                                                                         "datapackage-digest.json"}
        for resource in package["resources"]:
            data = zf.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), resource["path"]
            assert resource["bytes"] == len(data)
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest == {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        lines = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode("utf-8").splitlines()]
        idx = zf.read("indexes/index.idx").decode("utf-8").splitlines()
    assert lines[0]["format"] == "json-pages-1.0"
    pages = lines[1:]
    checked = {f"{r['agency_id']}/{r['criterion']}" for r in fetch_rows(evidence["db"])}
    assert sorted(p["id"] for p in pages) == sorted(checked) and len(checked) >= 10
    by_id = {p["id"]: p for p in pages}
    assert "Sở Kế hoạch và Đầu tư" in by_id["skhdt/chi-dao-dieu-hanh"]["title"]
    assert by_id["skhdt/chi-dao-dieu-hanh"]["url"] == REDIRECT_HOME
    assert all(p["ts"].endswith("Z") for p in pages)
    assert idx[0].startswith("!meta 0 ") and '"format": "cdxj-gzip-1.0"' in idx[0]


def test_the_wacz_is_the_same_bytes_on_each_export(evidence):
    first = (evidence["report"] / "evidence.wacz").read_bytes()
    assert first == (evidence["again"] / "evidence.wacz").read_bytes()


# -- pywb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pywb_bin(request):
    """pywb and py-wacz in a virtual environment of their own, kept in the pytest cache and reused; skipped
    with the reason when they cannot be installed."""
    folder = Path(request.config.cache.mkdir("pywb-venv"))
    marker = folder / ("+".join(TOOLS) + ".installed")
    bin_dir = folder / ("Scripts" if os.name == "nt" else "bin")
    if marker.exists() and (bin_dir / "wayback").exists():
        return bin_dir
    started = time.monotonic()
    made = subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a virtual environment for pywb: {made.stderr.strip()[-300:]}")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           *TOOLS], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip() and "WARNING" not in line][-3:]
        pytest.skip(f"`pip install {' '.join(TOOLS)}` failed (the package registry unreachable, or they do not "
                    f"install here): {' | '.join(last)[-400:]}")
    marker.write_text(f"installed in {time.monotonic() - started:.0f} s\n")
    return bin_dir


@pytest.fixture(scope="module")
def wayback(pywb_bin, evidence, tmp_path_factory):
    """wayback on a free loopback port with two collections: the exported WARCs (ev) and the WACZ (wz)."""
    home = tmp_path_factory.mktemp("pywb")
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    for coll, files, extra in (("ev", sorted((evidence["report"] / "warc").glob("*.warc.gz")), []),
                               ("wz", [evidence["report"] / "evidence.wacz"], ["--unpack-wacz"])):
        for cmd in (["init", coll], ["add", *extra, coll, *map(str, files)]):
            done = subprocess.run([str(pywb_bin / "wb-manager"), *cmd], cwd=home, env=env, capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
    port = _free_port()
    proc = subprocess.Popen([str(pywb_bin / "wayback"), "-p", str(port), "-b", "127.0.0.1"], cwd=home, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"wayback did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def replay(base: str, coll: str, ts: str, url: str, *, data: bytes | None = None,
           content_type: str | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body) of one replayed capture, unrewritten (id_), redirects not followed."""
    req = urllib.request.Request(f"{base}/{coll}/{ts}id_/{url}", data=data, method="POST" if data else "GET")
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with _OPENER.open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _ts(iso: str) -> str:
    return "".join(c for c in iso if c.isdigit())[:14]


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _unambiguous(rows: list[dict]) -> list[dict]:
    """The fetches a replay can name: a URL captured twice in one second with different bodies (a home page
    with a visit counter) is one timestamp in the index, and the replay answers either capture."""
    digests: dict[tuple, set] = {}
    for r in rows:
        digests.setdefault((surt(r["url"]), _ts(r["fetched_at"])), set()).add(r["digest"])
    return [r for r in rows if len(digests[surt(r["url"]), _ts(r["fetched_at"])]) == 1]


def test_pywb_replays_every_verdicts_pages(wayback, evidence):
    every = [r for r in fetch_rows(evidence["db"]) if r["status"] is not None]
    rows = _unambiguous(every)
    assert len(rows) >= 20 and len(rows) >= 0.8 * len(every)
    posted = {_digest(archived): (form, content_type) for _date, form, content_type, archived in _posts(evidence)}
    wrong = []
    for row in rows:
        form, content_type = posted.get(row["digest"], (None, None)) if row["url"] == WEBFORMS else (None, None)
        status, headers, body = replay(wayback, "ev", _ts(row["fetched_at"]), row["url"], data=form,
                                       content_type=content_type)
        # redirected: the hop's 30x, then the page it led to (unless the two are one key in the index, as
        # /web/hoa-an/ and /web/hoa-an: pywb then skips the self-redirect and answers the page)
        if row["url"] != row["final_url"] and surt(row["url"]) != surt(row["final_url"]):
            location = headers.get("Location") or ""
            if not (300 <= status < 400 and location.endswith(row["final_url"])):
                wrong.append((row["url"], status, location))
                continue
            status, headers, body = replay(wayback, "ev", _ts(row["fetched_at"]), row["final_url"])
        if status != row["status"] or _digest(body) != row["digest"]:
            wrong.append((row["url"], status, row["status"]))
    assert not wrong


def test_pywb_replays_the_redirect_home_and_the_off_site_redirect(wayback, evidence):
    ts = next(_ts(r["fetched_at"]) for r in fetch_rows(evidence["db"]) if r["url"] == REDIRECT_HOME)
    status, headers, _ = replay(wayback, "ev", ts, REDIRECT_HOME)
    assert status == 302 and headers["Location"].endswith("http://sokhdt.caobang.gov.vn/")
    status, _, body = replay(wayback, "ev", ts, "http://sokhdt.caobang.gov.vn/")
    assert status == 200 and b"<html" in body.lower()
    row = next(r for r in fetch_rows(evidence["db"]) if r["url"] == REDIRECT_OFF_SITE)
    status, headers, _ = replay(wayback, "ev", _ts(row["fetched_at"]), REDIRECT_OFF_SITE)
    assert status == 302 and headers["Location"].endswith("http://gopy.caobang.gov.vn/du-thao/hoa-an")


def _posts(evidence) -> list[tuple[str, bytes, str, bytes]]:
    """(WARC date, form body, content type, archived body) of every postback the crawl archived."""
    out = []
    for path in evidence["crawl_warcs"]:
        recs = records(path)
        for i, (kind, headers, http_headers, body) in enumerate(recs):
            if kind == "request" and http_headers.protocol == "POST":
                response = recs[i - 1]
                out.append((headers.get_header("WARC-Date"), body, http_headers.get_header("Content-Type"),
                            response[3]))
    return out


def test_pywb_replays_each_postback_page(wayback, evidence):
    posts = _posts(evidence)
    assert len(posts) >= 2
    assert len({_digest(p[3]) for p in posts}) == len(posts)     # different pages, told apart
    for date, form, content_type, archived in posts:
        status, _, body = replay(wayback, "ev", _ts(date), WEBFORMS, data=form, content_type=content_type)
        assert status == 200 and body == archived


def test_pywb_replays_from_the_wacz(wayback, evidence):
    with zipfile.ZipFile(evidence["report"] / "evidence.wacz") as zf:
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode("utf-8").splitlines()[1:]]
    page = next(p for p in pages if p["url"] == REDIRECT_HOME)
    status, headers, _ = replay(wayback, "wz", _ts(page["ts"]), page["url"])
    assert status == 302 and headers["Location"].endswith("http://sokhdt.caobang.gov.vn/")
    rows = {}
    every = fetch_rows(evidence["db"])
    for r in _unambiguous(every):
        rows.setdefault((f"{r['agency_id']}/{r['criterion']}", r["url"]), r)
    # a page's time is its verdict's, and the replay answers the capture of the URL closest to it: a URL
    # captured with other bodies at other times (a home page with a visit counter, fetched by several links)
    # may be answered with another of its captures, so only URLs archived with one body are compared
    bodies: dict[str, set] = {}
    for r in every:
        if r["status"] is not None:
            bodies.setdefault(r["url"], set()).add(r["digest"])
    ok = [(p, rows[p["id"], p["url"]]) for p in pages if rows.get((p["id"], p["url"]), {}).get("status") == 200
          and rows[p["id"], p["url"]]["final_url"] == p["url"] and len(bodies.get(p["url"], ())) == 1]
    assert len(ok) >= 5
    for p, row in ok:
        status, _, body = replay(wayback, "wz", _ts(p["ts"]), p["url"])
        assert status == 200 and _digest(body) == row["digest"], p
    date, form, content_type, archived = _posts(evidence)[0]
    status, _, body = replay(wayback, "wz", _ts(date), WEBFORMS, data=form, content_type=content_type)
    assert status == 200 and body == archived


def test_py_wacz_validates_the_wacz(pywb_bin, evidence):
    done = subprocess.run([str(pywb_bin / "wacz"), "validate", "-f", str(evidence["report"] / "evidence.wacz")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "the passed WACZ is valid" in done.stdout, done.stdout + done.stderr
