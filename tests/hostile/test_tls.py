"""TLS as a browser would, on both paths: portals with a complete chain, an incomplete one whose issuer is at
the leaf's AIA URL, a self-signed, expired, unknown-issuer or other host's certificate, TLS 1.0 only, and an
http portal that moved to https. The page is judged on what it carries on both paths (a `pass` here), the
TLS problem is in the verdict's detail, the AIA host is the only request off the registered portals, and
https through the proxy goes by CONNECT (the attack server is that proxy).
"""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from crawler import tls as TLS
from crawler.records import Verdict
from crawler.urls import Scope
from tests.hostile.exports import exports
from tests.hostile.harness import CRITERION, RULES, Case, Reply, listing_page, redirect, robots, run_check, run_crawl
from tests.hostile.tlsportal import DirectTlsPortal, TlsAttackServer, issue, temp_pki, tls10_servable
from verifier.export.hints import hint, tls_hint
from verifier.rulebook import load_rulebook

D = ".tls.hostile.gov.vn"
AIA_HOST = "aia" + D
LISTING = listing_page()
ROUTES = {"/robots.txt": robots(), f"/{CRITERION}": LISTING}

# name -> (what the evidence says of TLS: a Decision.note fragment, or "" for nothing)
EXPECTED = {
    "good": "",
    "aia": TLS.AIA_WORDS + " http://aia" + D,
    "self-signed": f"{TLS.PROBLEM_WORDS} (self_signed)",
    "expired": f"{TLS.PROBLEM_WORDS} (expired)",
    "mismatch": f"{TLS.PROBLEM_WORDS} (hostname_mismatch)",
    "unknown-ca": f"{TLS.PROBLEM_WORDS} (unknown_ca)",
    "twin": "",
    "direct-self-signed": f"{TLS.PROBLEM_WORDS} (self_signed)",
    "direct-tls10": f"{TLS.OLD_PROTOCOL_WORDS}: the portal speaks only TLSv1,",
}


def _host(name: str, path: str) -> str:
    return f"{name}.{path}{D}"


def _portals(attack: TlsAttackServer, path: str) -> dict[str, Case]:
    """Every case's portal for one path (its own host names, so the log tells the paths apart)."""
    pki = attack.pki
    cases = {}

    def https_case(name: str, leaf_for, chain=()):
        host = _host(name, path)
        attack.tls_portal(host, ROUTES, pki.server_context(leaf_for(host), chain))
        cases[name] = Case(name, f"https://{host}", f"https://{host}/{CRITERION}")

    https_case("good", lambda h: issue(h, pki.intermediate, names=(h,)), (pki.intermediate,))
    aia_path = f"/{path}/intermediate.der"
    attack.portal(AIA_HOST, {aia_path: _der(pki.intermediate.der())})
    https_case("aia", lambda h: issue(h, pki.intermediate, names=(h,), aia=f"http://{AIA_HOST}{aia_path}"))
    https_case("self-signed", lambda h: issue(h, names=(h,)))
    https_case("expired", lambda h: issue(h, pki.intermediate, names=(h,), days=(-400, -30)), (pki.intermediate,))
    https_case("mismatch", lambda h: issue("other.example", pki.intermediate, names=("other.example",)),
               (pki.intermediate,))
    https_case("unknown-ca", lambda h: issue(h, pki.stranger, names=(h,)))
    twin = _host("twin", path)      # registered as http://, the portal now redirects to its https twin
    attack.tls_portal(twin, ROUTES, pki.server_context(issue(twin, pki.intermediate, names=(twin,)),
                                                       (pki.intermediate,)))
    attack.portal(twin, {f"/{CRITERION}": redirect(f"https://{twin}/{CRITERION}", 301), "/robots.txt": robots()})
    cases["twin"] = Case("twin", f"http://{twin}", f"http://{twin}/{CRITERION}")
    for name, ctx in (("direct-self-signed", pki.server_context(issue("127.0.0.1", names=("127.0.0.1",)))),
                      ("direct-tls10", pki.server_context(issue("127.0.0.1", pki.intermediate, names=("127.0.0.1",)),
                                                          (pki.intermediate,), tls10_only=True))):
        if name == "direct-tls10" and not tls10_servable():
            continue
        portal = DirectTlsPortal(attack, ROUTES, ctx)
        attack.direct.append(portal)
        cases[name] = Case(f"{name}-{path}", portal.url, f"{portal.url}/{CRITERION}", hosts=("127.0.0.1",))
    return cases


def _der(body: bytes) -> Reply:
    return Reply(200, (("Content-Type", "application/pkix-cert"),), body)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    pki = temp_pki()
    with TlsAttackServer(pki) as attack:
        attack.direct = []
        checks, crawls = _portals(attack, "check"), _portals(attack, "crawl")
        workdir = tmp_path_factory.mktemp("tls-crawl")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=2) as pool:
            crawl = pool.submit(run_crawl, attack, list(crawls.values()), workdir, allow_private=True)
            check_runs = {name: run_check(attack, case, allow_private=True) for name, case in checks.items()}
            crawl_runs = crawl.result()
        print(f"\nTLS cases, both paths: {time.monotonic() - started:.1f} s")
        con = sqlite3.connect(workdir / "evidence.db")
        details = dict(con.execute("select agency_id, detail from verdicts where criterion = ?", (CRITERION,)))
        con.close()
        log = attack.log
        for portal in attack.direct:
            portal.stop()
    made = exports(workdir / "evidence.db", workdir / "report")
    out = {}
    for name in checks:
        check = check_runs[name]
        crawl_case = crawls[name]
        check_detail = json.loads(check.output[check.output.index("{"):])["detail"] if check.status else ""
        out[name] = (check, crawl_runs[crawl_case.agency_id], check_detail, details.get(crawl_case.agency_id, ""),
                     checks[name], crawl_case)
    return out, log, made


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_both_paths_judge_the_page_and_record_the_tls_problem(results, name):
    runs, _log, _made = results
    if name not in runs:
        pytest.skip("the local OpenSSL cannot serve TLS 1.0")
    check, crawl, check_detail, crawl_detail, _c, _cc = runs[name]
    print(f"{name}: check {check.verdict} | {check_detail}\n{' ' * len(name)}  crawl {crawl.verdict} | {crawl_detail}")
    assert check.verdict == crawl.verdict == ("pass", "ok"), (check.output[-2000:], crawl.output[-2000:])
    for detail in (check_detail, crawl_detail):
        if EXPECTED[name]:
            assert EXPECTED[name] in detail
        else:
            assert "TLS" not in detail


def test_nothing_is_requested_off_the_registered_portals_but_the_aia_url(results):
    runs, log, _made = results
    cases = [case for *_rest, case, crawl_case in runs.values() for case in (case, crawl_case)]
    scope = Scope.parse(" ".join(c.portal for c in cases))
    outside, tunnels = [], []
    for r in log:
        if r.method == "CONNECT":
            tunnels.append(r.host)
            if not scope.owns(f"https://{r.host}/"):
                outside.append(r.raw_line)
            continue
        url = f"{'https' if r.port == 443 else 'http'}://{r.host}{'' if r.port in (80, 443) else f':{r.port}'}"
        if r.host == AIA_HOST and r.path.endswith("/intermediate.der"):
            continue
        if not scope.owns(url + r.target) and not (r.path == "/robots.txt" and scope.serves_robots(url + r.target)):
            outside.append(r.raw_line)
    assert not outside
    assert tunnels, "https through the proxy goes by CONNECT"
    aia = [r.target for r in log if r.host == AIA_HOST]
    assert sorted(aia) == ["/check/intermediate.der", "/crawl/intermediate.der"]   # once per run, each path


def test_http_and_https_twins_are_the_same_portal():
    for registered, other in (("http://so.example.gov.vn", "https://so.example.gov.vn/tin-tuc"),
                              ("https://www.so.example.gov.vn", "http://so.example.gov.vn/tin-tuc")):
        assert Scope.parse(registered).owns(other)
    assert not Scope.parse("http://so.example.gov.vn").owns("https://so.example.gov.vn:8443/tin-tuc")
    assert urlsplit("https://a.b").port is None


# the hint each TLS case's verdict gives the agency (a pass at full points: the TLS sentence alone)
HINTS = {
    "self-signed": "Chứng chỉ số của cổng thông tin không hợp lệ: chứng chỉ tự ký",
    "expired": "Chứng chỉ số của cổng thông tin không hợp lệ: chứng chỉ đã hết hạn",
    "mismatch": "Chứng chỉ số của cổng thông tin không hợp lệ: chứng chỉ được cấp cho tên miền khác",
    "unknown-ca": "Chứng chỉ số của cổng thông tin không hợp lệ: chứng chỉ do tổ chức chứng thực không được tin cậy",
    "direct-tls10": "chỉ hỗ trợ giao thức mã hóa cũ (TLS 1)",
    "good": None, "aia": None, "twin": None,
}


@pytest.mark.parametrize("name", sorted(HINTS))
def test_the_hint_tells_the_agency_of_its_certificate_and_keeps_the_point(results, name):
    runs, _log, _made = results
    if name not in runs:
        pytest.skip("the local OpenSSL cannot serve TLS 1.0")
    _check, crawl, _check_detail, crawl_detail, _c, _cc = runs[name]
    verdict = Verdict("a", CRITERION, None, None, crawl.status, crawl.reason, crawl.posts, detail=crawl_detail)
    text = hint(verdict, load_rulebook(RULES), points=None)
    if HINTS[name] is None:
        assert tls_hint(verdict) == "" and text == "Đạt yêu cầu, không cần khắc phục."
    else:
        assert HINTS[name] in text and text == tls_hint(verdict)


def test_every_export_tells_the_agency_of_its_certificate(results):
    made = results[2]
    words = "Chứng chỉ số của cổng thông tin không hợp lệ: chứng chỉ tự ký"
    entry = made.verdicts["self-signed", CRITERION]
    assert (entry["status"], entry["reason"]) == ("pass", "ok") and words in entry["hint"]
    for text in (made.xlsx, made.html, made.forms["self-signed"]):
        assert words in text
    assert "Chứng chỉ số" not in (made.verdicts["good", CRITERION]["hint"] or "")   # 3 posts: short of 12
    assert "Chứng chỉ số" not in made.forms["good"]
