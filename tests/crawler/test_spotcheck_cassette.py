"""The httpx spot-check replayed from a recorded exchange (tests/cassettes, recorded by tests/cassettes/record.py)."""

import json

import vcr
from typer.testing import CliRunner

from tests.cassettes.record import CASSETTE, LISTING
from tests.crawler.fixture_eval import load_expectations
from verifier.cli import app


def _posts_2018(*names):
    exp = load_expectations()
    titles = {p["title"] for n in names for p in exp[n]["posts"] if (p.get("date") or "").startswith("2018")}
    return len(titles)


def test_spot_check_replays_the_recorded_portal(monkeypatch):
    # behind a proxy the tool never resolves portal names itself; the cassette answers instead of the proxy
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    with vcr.use_cassette(str(CASSETTE), record_mode="none", match_on=["method", "uri"]) as cassette:
        result = CliRunner().invoke(app, ["check", LISTING, "-c", "chi-dao-dieu-hanh", "--year", "2018", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["status"], data["reason"]) == ("pass", "ok")
    assert data["posts_in_year"] == _posts_2018("sotuphap.langson.gov.vn.chi-dao-p1", "sotuphap.langson.gov.vn.chi-dao-p2")
    listing = [p["final_url"] for p in data["evidence"]["pages"] if p["purpose"] == "listing"]
    assert listing == [LISTING, LISTING + "?page=1"]          # stopped once a page held only older posts
    # one article of a post dated before 2018 is opened to see whether the portal shows updates; its answer
    # shows none (here: 404), so no other article is opened
    probes = [p for p in data["evidence"]["pages"] if p["purpose"] == "article"]
    assert len(probes) == 1
    assert cassette.all_played


def test_same_verdict_for_another_criterion_is_wrong_category(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    with vcr.use_cassette(str(CASSETTE), record_mode="none", match_on=["method", "uri"], allow_playback_repeats=True):
        result = CliRunner().invoke(app, ["check", LISTING, "-c", "tin-tuc-su-kien", "--json"])
    data = json.loads(result.output)
    assert (data["status"], data["reason"], data["posts_in_year"]) == ("fail", "wrong_category", None)
