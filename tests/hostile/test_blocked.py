"""Firewalls that answer in place of the page, on both paths: a 403 to clients that are not browsers, a
captcha, an "access denied" page, a challenge that needs script. Each is `review/blocked` (never a `fail`),
its detail keeps the status and an excerpt of the answer, the User-Agent sent is the tool's own, and a
listing that merely carries a captcha in its comment box still passes.
"""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from crawler.records import Verdict
from crawler.settings import USER_AGENT
from tests.hostile.exports import exports
from tests.hostile.harness import (
    CRITERION,
    RULES,
    Case,
    Reply,
    listing_page,
    page,
    robots,
    run_check,
    run_crawl,
)
from verifier.export.hints import hint
from verifier.export.labels import reason_label
from verifier.rulebook import load_rulebook

D = ".blocked.hostile.gov.vn"
LISTING = listing_page()
SEEN_AGENTS: list[str] = []


def firewall(exchange):
    """A WAF that lets browsers through and answers 403 to every other client."""
    agent = exchange.headers.get("user-agent", "")
    SEEN_AGENTS.append(agent)
    if "Mozilla/" in agent:
        return LISTING
    return page("<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>Request blocked "
                "by the security policy. Support ID: 1234567890</p></body></html>", status=403)


CAPTCHA = page("""<html><head><title>Xác minh</title><script src="https://www.google.com/recaptcha/api.js"></script>
</head><body><form method="post"><p>Vui lòng xác nhận bạn không phải là robot.</p>
<div class="g-recaptcha" data-sitekey="6Lc-abc"></div><button>Tiếp tục</button></form></body></html>""")
DENIED = page("""<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>
You don't have permission to access "http&#58;&#47;&#47;portal&#47;chi-dao-dieu-hanh" on this server.<P>
Reference&#32;&#35;18&#46;2f3c1102&#46;1700000000&#46;1a2b3c</BODY></HTML>""")
DENIED_VI = page("""<html><head><meta charset="utf-8"><title>Thông báo</title></head><body><h2>Truy cập bị từ chối</h2>
<p>Địa chỉ của bạn đã bị chặn bởi hệ thống bảo vệ của cổng thông tin.</p></body></html>""")
CHALLENGE = Reply(503, (("Content-Type", "text/html; charset=utf-8"), ("cf-mitigated", "challenge")),
                  """<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>
<noscript>Enable JavaScript and cookies to continue</noscript><script>window._cf_chl_opt={cvId: '3'};</script>
</body></html>""")
COOKIE_RELOAD = page("""<html><body><script type="text/javascript" src="/aes.js"></script><script>
var a=toNumbers("f655ba9d09a112d4968c63579db590b4");document.cookie="__test="+toHex(slowAES.decrypt(a,2,a,a))+
"; expires=Thu, 31-Dec-37 23:55:55 GMT; path=/"; location.href="/chi-dao-dieu-hanh?i=1";</script>
<noscript>This site requires Javascript to work</noscript></body></html>""")
WIDGET = page(LISTING.body.replace("</body>", '<div class="comments"><div class="g-recaptcha" '
                                   'data-sitekey="6Lc"></div></div></body>'))

# name -> (the listing's route, verdict of both paths, what the detail keeps)
CASES = {
    "firewall-403": (firewall, ("review", "blocked"), "blocked: HTTP 403, forbidden; the server answered: “403 Forbidden Forbidden Request blocked"),
    "captcha": (CAPTCHA, ("review", "blocked"), "blocked: HTTP 200, captcha; the server answered: “Xác minh"),
    "access-denied": (DENIED, ("review", "blocked"), "blocked: HTTP 200, access denied; the server answered: “Access Denied Access Denied You don't have permission to access \"http://portal/"),
    "access-denied-vi": (DENIED_VI, ("review", "blocked"), "access denied; the server answered: “Thông báo Truy cập"),
    "js-challenge": (CHALLENGE, ("review", "blocked"), "blocked: HTTP 503, script challenge; the server answered: “Just"),
    "cookie-reload": (COOKIE_RELOAD, ("review", "blocked"), "blocked: HTTP 200, script challenge; the server answered: “This site requires Javascript"),
    "captcha-in-listing": (WIDGET, ("pass", "ok"), "3 post(s)"),
}


@pytest.fixture(scope="module")
def results(attack, tmp_path_factory):
    checks, crawls = {}, {}
    for name, (route, _verdict, _detail) in CASES.items():
        for path, into in (("check", checks), ("crawl", crawls)):
            host = f"{name}.{path}{D}"
            attack.portal(host, {"/robots.txt": robots(), f"/{CRITERION}": route})
            into[name] = Case(name, f"http://{host}", f"http://{host}/{CRITERION}")
    workdir = tmp_path_factory.mktemp("blocked-crawl")
    mark = attack.mark()
    with ThreadPoolExecutor(max_workers=1) as pool:
        crawl = pool.submit(run_crawl, attack, list(crawls.values()), workdir)
        check_runs = {name: run_check(attack, case) for name, case in checks.items()}
        crawl_runs = crawl.result()
    con = sqlite3.connect(workdir / "evidence.db")
    details = dict(con.execute("select agency_id, detail from verdicts where criterion = ?", (CRITERION,)))
    con.close()
    made = exports(workdir / "evidence.db", workdir / "report")
    out = {}
    for name in CASES:
        check = check_runs[name]
        detail = json.loads(check.output[check.output.index("{"):])["detail"] if check.status else ""
        out[name] = (check, crawl_runs[name], detail, details.get(name, ""), checks[name], crawls[name])
    return out, attack.since(mark), made


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_firewall_answer_is_blocked_on_both_paths_with_what_it_said(results, name):
    runs, _log, _made = results
    check, crawl, check_detail, crawl_detail, *_cases = runs[name]
    _route, expected, kept = CASES[name]
    print(f"{name}: check {check.verdict} | {check_detail}\n  crawl {crawl.verdict} | {crawl_detail}")
    assert check.verdict == crawl.verdict == expected, (check.output[-1500:], crawl.output[-1500:])
    assert kept in check_detail and kept in crawl_detail


def test_the_user_agent_stays_the_tools_own_and_nothing_leaves_the_portals(results):
    runs, log, _made = results
    assert SEEN_AGENTS and set(SEEN_AGENTS) == {USER_AGENT}
    assert runs and log and all(r.host.endswith(D) for r in log)
    assert not [r.url for r in log if r.path not in ("/robots.txt", f"/{CRITERION}")]


def test_blocked_has_its_label_and_hint():
    rulebook = load_rulebook(RULES)
    verdict = Verdict("a", CRITERION, "http://x/cddh", "http://x/cddh", "review", "blocked", None,
                      detail="blocked: HTTP 403, forbidden; the server answered: “Forbidden”")
    assert reason_label("blocked").startswith("Tường lửa của cổng chặn công cụ kiểm tra")
    assert "trang chặn truy cập" in hint(verdict, rulebook)


def test_every_export_shows_blocked_with_its_hint(results):
    made = results[2]
    label, hint_words = reason_label("blocked"), "trang chặn truy cập"
    entry = made.verdicts["firewall-403", CRITERION]
    assert (entry["status"], entry["reason"]) == ("review", "blocked") and hint_words in entry["hint"]
    assert "HTTP 403" in entry["hint"]          # the status the server answered, in the agency's words
    for text in (made.xlsx, made.html, made.forms["firewall-403"]):
        assert label in text and hint_words in text
    assert label not in made.forms["captcha-in-listing"]
