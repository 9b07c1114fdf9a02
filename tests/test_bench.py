"""The benchmark's farm, the loopback server serving it and the `make bench` harness, at a tiny size so they cannot rot.

Correctness and the shape of results.json only: no timing is asserted here (that is `make bench`).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace

import pytest

from bench import run as bench
from bench.farm import CATEGORIES, CONTENT_JUDGED, PLATFORMS, Farm, FarmSpec
from crawler.extract import read_page
from demo.server import LoopbackServer

TINY = FarmSpec(hosts=1, categories=2, pages=2, undated=1, blank=1)
FIGURE_KEYS = {"key", "label", "value", "unit", "target", "met", "note"}


def _get(server: LoopbackServer, url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))
    try:
        with opener.open(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_farm_renders_every_page_deterministically_and_says_what_a_crawl_finds(matcher):
    farm = Farm(FarmSpec(hosts=4, categories=3, pages=3, undated=1, blank=1))
    assert {p.platform for p in farm.portals.values()} == set(PLATFORMS)
    seen = set()
    for url in farm.all_urls():
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        status, _, body, kind = farm.respond(parts.hostname, target)
        assert status == 200 and kind in ("home", "listing", "article"), url
        assert farm.respond(parts.hostname, target)[2] == body          # rendered from the URL, the same each time
        assert url not in seen
        seen.add(url)
    assert farm.respond("nowhere.caobang.gov.vn", "/")[0] == 502
    assert farm.respond(next(iter(farm.portals)), "/khong-co")[0] == 404

    expected = farm.expected_verdicts()
    assert len(expected) == 4 * len(CATEGORIES)
    # an introduction is judged by its content, which the farm's listings do not carry (bench.farm.CONTENT_JUDGED)
    assert {v[:2] for k, v in expected.items() if k[1] in CONTENT_JUDGED} <= {("fail", None), ("exempt", None)}
    counts = collections.Counter(v for k, v in expected.items() if k[1] not in CONTENT_JUDGED)
    introductions = collections.Counter(farm.is_undated(p, k) for p in farm.portals.values()
                                        for k, c in enumerate(p.categories) if CATEGORIES[c][0] in CONTENT_JUDGED)
    assert counts[("pass", 20, True)] == 4            # the blank category, found from the home page
    assert counts[("pass", 15, False)] == 4 - introductions[True]   # the undated one: dated by 15 article pages
    assert counts[("pass", 20, False)] == 4
    # robots.txt, 3 pages of 3 listings, the home page for the blank one, 15 articles of the undated one, and
    # for each of the two dated ones an article of a post listed before the year (does it show an update?)
    assert farm.expected_requests(next(iter(farm.portals))) == 1 + 3 * 3 + 1 + 15 + 2

    # the pages are what the extraction core reads: Vietnamese, dated day first, on every platform
    for url, body, date, kind in Farm(FarmSpec(hosts=4, categories=2, pages=3)).sample_pages(4, 4):
        reading = read_page(url, body, {"content-type": "text/html; charset=utf-8"}, matcher)
        if kind == "article":
            assert reading.article_date == date, url
        else:
            assert reading.kind == "listing" and reading.posts and all(p.dates for p in reading.posts), url


def test_every_category_listing_of_the_farm_reads_as_that_category_with_its_posts(matcher):
    # every category on every platform, first and later pages: post titles that use the category's own
    # words ("Công khai dự toán ngân sách năm 2018") are posts, not a menu of category names
    farm = Farm(FarmSpec(hosts=len(PLATFORMS) * 2, categories=len(CATEGORIES), pages=2))
    wrong = []
    for portal in farm.portals.values():
        for c in portal.categories:
            for number in (1, 2):
                url = farm.listing_url(portal, c, number)
                parts = urllib.parse.urlsplit(url)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                status, ctype, body, _ = farm.respond(parts.hostname, target)
                reading = read_page(url, body, {"content-type": ctype}, matcher, status=status)
                if (reading.kind, reading.category.criterion) != ("listing", CATEGORIES[c][0]) or not reading.posts:
                    wrong.append((portal.platform, CATEGORIES[c][0], number, reading.kind, reading.category.criterion))
    assert not wrong


def test_farm_writes_the_crawl_inputs(tmp_path):
    farm = Farm(TINY)
    agencies, reports = farm.write_inputs(tmp_path)
    assert agencies.read_text(encoding="utf-8").count("\n") == 2
    rows = reports.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + len(CATEGORIES)
    assert sum(1 for r in rows[1:] if ",1,Đơn vị" in r) == len(CATEGORIES) - TINY.categories


def test_server_serves_the_farm_as_a_proxy_and_counts_overlap_per_host():
    farm = Farm(FarmSpec(hosts=2, categories=1, pages=1))
    first, second = list(farm.portals.values())
    with bench.farm_server(farm, latency=0.3) as server:
        urls = [first.root + "/robots.txt"] * 3 + [second.root.replace("://", "://www.") + "/"]
        threads = [threading.Thread(target=_get, args=(server, u)) for u in urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert server.max_overlap == {first.host: 3, second.host: 1}      # the www. twin is the same host
        assert server.tally("site") == {first.host: 3, second.host: 1}
        assert server.tally("kind") == {"robots": 3, "home": 1}
        assert server.window >= 0.3
        profile = server.concurrency_profile()
        assert len(profile) == 10 and max(profile) >= 3
        server.reset()
        status, body = _get(server, "http://unknown.caobang.gov.vn/")
        assert status == 502 and b"could not be retrieved" in body
        assert len(server.requests) == 1 and server.tally("status") == {502: 1}


def test_harness_flags_a_wrong_crawl():
    farm = Farm(TINY)
    right = dict(farm.expected_verdicts())
    assert bench.verdict_problems(farm, right) == []
    key = next(k for k, v in right.items() if v[0] == "pass")
    wrong = {**right, key: ("pass", 3, False)}
    del wrong[next(k for k, v in right.items() if v[0] == "exempt")]
    problems = bench.verdict_problems(farm, wrong)
    assert any("without a verdict" in p for p in problems) and any(key[1] in p for p in problems)
    assert bench.politeness_bound({"a": 10, "b": 2}, 0.5) == (2.5, "per-host")
    assert bench.politeness_bound({f"h{i}": 10 for i in range(20)}, 0.5) == (6.25, "global")


def test_a_deep_farm_with_every_category_counts_the_requests_a_crawl_sends(tmp_path):
    """A category judged by its content (the introduction) is read on its reported page alone: a farm of several
    listing pages must not expect its later pages or an article of it (the national farm's 50,000 pages have
    hundreds of such hosts; the quick farms had none)."""
    farm = Farm(FarmSpec(hosts=1, categories=len(CATEGORIES), pages=3, undated=1, blank=1))
    host = next(iter(farm.portals))
    assert any(CATEGORIES[c][0] in CONTENT_JUDGED for c in farm.portals[host].categories)
    with bench.farm_server(farm, latency=0.0) as server:
        run = bench.crawl_process(farm, server, tmp_path / "deep")
    assert run.correct, run.problems
    assert run.requests == farm.expected_requests(host)


@pytest.fixture(scope="module")
def bench_work(tmp_path_factory):
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def tiny_results(bench_work):
    """Every measurement of the harness on tiny farms: crawls and spot-checks as real processes."""
    work = bench_work
    tiny_shape = FarmSpec(hosts=1, categories=1, pages=2)
    return [
        bench.bench_politeness(work, farms=(("tiny", replace(tiny_shape, hosts=2)),), latency=0.02),
        bench.bench_growth(work, sizes=(3, 6), shape=tiny_shape),
        bench.bench_recrawl(work, spec=tiny_shape, latency=0.02),
        bench.bench_spotcheck(work, runs=1, paginated_latency=0.02, warmup=False),
        bench.bench_extraction(min_seconds=0.01, farm_listings=2, farm_articles=2, passes=1, rounds=1,
                               set_pages=3),
    ]


def test_harness_measures_right_crawls_and_spot_checks(tiny_results, bench_work):
    politeness, growth, recrawl, spotcheck, extraction = tiny_results
    crawl = politeness.details["tiny"]["crawl"]
    assert crawl["correct"], crawl["problems"]
    # per host: robots.txt, 2 listing pages, 1 article of a post listed before the year (update probe)
    assert crawl["requests"] == 2 * 4 and crawl["max_overlap"] <= 2 and crawl["max_rss_mb"] > 10
    assert all(growth.details[size]["crawl"]["correct"] for size in ("3", "6"))
    assert growth.details["6"]["pages"] == 2 * growth.details["3"]["pages"]
    assert recrawl.details["first"]["correct"], recrawl.details["first"]["problems"]
    assert recrawl.details["again"]["correct"], recrawl.details["again"]["problems"]
    assert recrawl.details["again"]["requests"] == 0            # all from the HTTP cache
    assert not spotcheck.details["one_page"]["problems"] and not spotcheck.details["paginated"]["problems"]
    # the spot-check's yardstick, run in turn with it: python importing the libraries the check ended with
    one_page = spotcheck.details["one_page"]
    assert len(one_page["baseline"]) == len(one_page["ratios"]) == len(one_page["cpu_ratios"]) == 1
    assert one_page["cpu_ratios"][0] > 1                 # the check does more than import its libraries
    modules = (bench_work / "spotcheck-one" / "check-modules.txt").read_text().split()
    assert {"httpx", "typer", "lxml"} <= set(modules) and len(modules) == one_page["baseline_modules"]
    assert not any(m.partition(".")[0] in ("cli", "crawler", "verifier", "demo") for m in modules)
    # robots.txt, four listing pages, one article of a post listed before the year (the update probe)
    assert spotcheck.details["paginated"]["requests"] == [6]
    dates = extraction.details["dates"]
    assert dates["pages"] >= 2 + 1 and 0 <= dates["htmldate_accuracy"] <= 1
    assert extraction.details["farm"]["pages"] == 3 and extraction.details["fixtures"]["pages"] == 3
    # every page set is timed beside the baseline commit's core: unpacked from git and timed in this run, or
    # (a checkout without that commit) the figures bench/baseline.json keeps for it
    baseline = json.loads(bench.BASELINE.read_text(encoding="utf-8"))
    assert set(baseline["sets"]) == set(bench.CORE_SETS) and {"commit", "machine", "how"} <= set(baseline)
    how = extraction.details["baseline"]["how"]
    timed_here = how.startswith(f"commit {baseline['commit']} unpacked from git and timed in this run")
    assert timed_here or how.startswith("stored in bench/baseline.json"), how
    for name in bench.CORE_SETS:
        row = extraction.details[name]
        if timed_here:
            assert len(row["baseline_passes"]) == 1 and row["baseline_cpu_seconds_per_page"] > 0
        else:
            assert row["baseline_cpu_seconds_per_page"] == baseline["sets"][name]["cpu_seconds_per_page"]
        assert row["speedup"] == row["baseline_cpu_seconds_per_page"] / row["cpu_seconds_per_page"]
        assert len(row["passes"]) == 1 and row["pages_per_second"] > 0


def test_results_json_holds_every_figure_with_target_and_verdict(tiny_results, tmp_path):
    report = bench.assemble(tiny_results, bench.machine(), quick=True, seconds=1.0)
    text = json.dumps(report, ensure_ascii=False)
    back = json.loads(text)
    assert {"cpu_count", "cpu_model", "python", "platform"} <= set(back["machine"])
    keys = [f["key"] for f in back["figures"]]
    for wanted in ("politeness.tiny.wall_over_bound", "politeness.tiny.max_overlap",
                   "growth.largest_over_smallest", "growth.peak_rss_mb", "recrawl.speedup",
                   "spotcheck.one_page.ratio", "spotcheck.one_page.wall_ratio", "spotcheck.one_page.median",
                   "spotcheck.paginated.median_minus_latency",
                   "extraction.farm.pages_per_second", "extraction.dates.accuracy_ratio",
                   "extraction.dates.speed_ratio", *(f"core.speedup.{name}" for name in bench.CORE_SETS),
                   *(f"extraction.{name}.pages_per_second" for name in bench.CORE_SETS)):
        assert wanted in keys
    for fig in back["figures"]:
        assert set(fig) == FIGURE_KEYS
        assert fig["met"] in (True, False, None)
        assert fig["target"] is None or fig["met"] is not None or "not a measurement" in fig["note"]
    # tiny farms are not measurements of the targets that need a large farm
    by_key = {f["key"]: f for f in back["figures"]}
    assert by_key["politeness.tiny.wall_over_bound"]["met"] is None
    assert by_key["growth.peak_rss_mb"]["met"] is None
    assert by_key["politeness.tiny.max_overlap"]["met"] is True
    assert all(by_key[f"core.speedup.{name}"]["met"] in (True, False) for name in bench.CORE_SETS)
    assert back["targets_judged"] == sum(1 for f in back["figures"] if f["met"] is not None)
    assert "targets met" in bench.table(report)


def test_cli_writes_results_json(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "MEASUREMENTS", ("extraction",))
    monkeypatch.setattr(bench, "bench_extraction", lambda **kw: bench.Result("extraction", [
        bench.Figure("x.y", "a figure", 1.5, "x", "≥ 1", True)]))
    out = tmp_path / "results.json"
    assert bench.main(["--quick", "--only", "extraction", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["quick"] is True and data["all_targets_met"] is True and data["figures"][0]["key"] == "x.y"
    assert dt.datetime.fromisoformat(data["generated_at"])


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="no headless Chromium here")
def test_the_render_bench_reads_the_same_posts_both_ways():
    from bench.render import bench_render

    result = bench_render(pages=1)
    assert result.details["posts_read"] == {"plain": 3, "rendered": 3}
    keys = {f.key for f in result.figures}
    assert {"render.speed_ratio", "render.peak_memory"} <= keys
    assert all(f.value and f.value > 0 for f in result.figures)
